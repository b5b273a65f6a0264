"""Figures for the categorical model (Shumailov et al.; Seddik et al.; Suresh et al.; Dohmatob et al. 2024).

* :func:`survival`: which categories survive, by initial rank, under replace, accumulate,
  mix and augment, against the exact two-type Wright-Fisher chain.
* :func:`decoders`: Gini-Simpson diversity, support and tail mass under plain sampling and
  under mode-seeking decoders (temperature, top-k, top-p, greedy), against the laws and the
  infinite-sample limits: how much faster a decoder loses the tail than sampling does.
* :func:`scaling`: a memorising learner's test error against its training-set size ``T``
  on Zipf data, clean and after 1, 2, 5, 10 generations, with the plateau of data cut at
  rank ``k`` (Dohmatob et al. 2024, *A Tale of Tails*).

Every function takes ``(outdir, seeds=None, progress=None, **params)``: ``seeds`` per curve
(``None``: the figure's default), ``progress`` passed to the runner, and keyword-only
settings whose defaults draw the figure in ``figures/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..experiments import config_hash, get_model
from ..experiments.engine.cache import cached_array
from ..experiments.engine.cache import cached_run as run
from ..experiments.models.categorical import DOWNSTREAM_T, CategoricalConfig, survival_by_category
from ..experiments.models.categorical_theory import limit_path, path_metrics
from ..experiments.models.config import ConfigError
from ..theory import categorical as tc
from . import style

__all__ = ["FIGURES", "survival", "decoders", "scaling"]

THEORY = dict(linestyle="--", linewidth=1.0, color="black", alpha=0.8)
LIMIT = dict(linestyle=":", linewidth=1.1, alpha=0.9)
REGIMES = ("replace", "accumulate", "mix", "augment")


@style.styled
def survival(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    K: int = 200,
    M: int = 200,
    zipf_a: float = 1.1,
    real_fraction: float = 0.25,
    generations: int = 50,
    shown: Sequence[int] = (1, 5, 20, 50),
    regimes: Sequence[str] = REGIMES,
) -> list[Path]:
    """The probability that a category is still present, against its initial rank.

    Zipf truth, one panel per regime; one curve per generation in ``shown``: the fraction of
    seeds in which the category is alive (points) and the exact probability (dashed) from its
    count's two-type chain (``c' ~ Bin(M, c/M)`` under replace; fresh or kept real samples
    added under mix and augment; under accumulate a category present in generation 1 is never
    lost, ``1 - (1 - p0_j)^M``).

    Args:
        outdir: the folder to write ``categorical_survival.{pdf,png}`` into.
        seeds: seeds per panel (default 1000).
        progress: unused (the survival counts have their own loop over chunks of seeds).
        K, M, zipf_a: categories, samples per generation and the Zipf exponent of ``p0``.
        real_fraction: real share per generation under mix and augment.
        generations: fits per chain (at least ``max(shown)``).
        shown: generations drawn.
        regimes: one panel each, from replace, accumulate, mix and augment.
    """
    seeds = seeds or 1000
    p0 = tc.initial_distribution(K, "zipf", zipf_a)
    rank = np.arange(1, K + 1)
    shown = [g for g in shown if g <= generations]
    fig = style.figure((7.0, 2.6))
    regimes = tuple(regimes)
    unknown = [r for r in regimes if r not in REGIMES]
    if unknown or not regimes:
        raise ConfigError(f"regimes must be some of {', '.join(REGIMES)}, got {list(regimes)}")
    axes = np.atleast_1d(fig.subplots(1, len(regimes), sharey=True))
    hashes = []
    for ax, regime in zip(axes, regimes, strict=True):
        cfg = CategoricalConfig(
            K=K, M=M, init="zipf", zipf_a=zipf_a, generations=generations, regime=regime, real_fraction=real_fraction
        )
        hashes.append(config_hash(cfg))
        alive = cached_array("survival", cfg, seeds, 0, lambda cfg=cfg: survival_by_category(cfg, seeds))
        rf = real_fraction if regime in ("mix", "augment") else None
        exact = tc.survival_probability(p0, M, shown, regime, rf)  # (K, len(shown))
        for j, g in enumerate(shown):
            color = style.PALETTE[j % len(style.PALETTE)]
            ax.plot(rank, alive[g - 1], linestyle="none", marker=".", markersize=2.5, color=color, label=f"n = {g}")
            ax.plot(rank, exact[:, j], **{**THEORY, "color": color, "linewidth": 0.8})
        ax.set_xscale("log")
        ax.set_title(regime if rf is None else f"{regime}, f = {rf:g}")
        ax.set_xlabel("initial rank")
    axes[0].set_ylabel("P(category alive at generation n)")
    axes[0].plot([], [], label="exact (two-type chain)", **THEORY)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, -0.1), frameon=False)
    fig.suptitle(
        f"Categorical refit, Zipf(a = {zipf_a:g}) over K = {K}, M = {M}: rare categories go first and never return "
        f"under replace;\nreal data keep them (accumulate keeps every category seen once) "
        f"(points: {seeds} seeds; dashed: exact)",
        fontsize=7,
        y=1.06,
    )
    return style.save(fig, outdir, "categorical_survival", {"configs": len(hashes), "seeds": seeds})


def _decoders(K: int) -> tuple[tuple[str, dict], ...]:
    """The decoders drawn: top-k keeps a tenth of the categories (20 of the default 200)."""
    k = max(1, K // 10)
    return (
        ("sampling (tau = 1)", {}),
        ("temperature 0.8", {"temperature": 0.8}),
        (f"top-k = {k}", {"top_k": k}),
        ("top-p = 0.9", {"top_p": 0.9}),
        ("greedy", {"greedy": True}),
    )


_PANELS = (
    ("gini_simpson", r"Gini-Simpson $1-\sum_i p_{n,i}^2$"),
    ("support", r"support $\#\{i: p_{n,i}>0\}$"),
    ("tail_mass", "mass of the initial 10% tail"),
)


@style.styled
def decoders(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    K: int = 200,
    M: int = 1000,
    zipf_a: float = 1.1,
    generations: int = 30,
) -> list[Path]:
    """Diversity under sampling and under mode-seeking decoders (replace).

    Args:
        outdir: the folder to write ``categorical_decoders.{pdf,png}`` into.
        seeds: seeds per curve (default 500).
        progress: passed to the runner (``False`` silences it).
        K, M, zipf_a: categories, samples per generation and the Zipf exponent of ``p0``.
        generations: fits per chain.
    """
    seeds = seeds or 500
    fig = style.figure((7.0, 2.7))
    axes = fig.subplots(1, len(_PANELS))
    fig.subplots_adjust(wspace=0.45)
    hashes = []
    for j, (label, decoding) in enumerate(_decoders(K)):
        cfg = CategoricalConfig(K=K, M=M, init="zipf", zipf_a=zipf_a, generations=generations, **decoding)
        hashes.append(config_hash(cfg))
        res = run(cfg, seeds, 0, progress=progress)
        x = res.generation
        color = style.PALETTE[j]
        curves = get_model("categorical").theory(cfg, x) if not decoding else None
        path = limit_path(cfg, generations)
        for ax, (metric, _) in zip(axes, _PANELS, strict=True):
            style.band(ax, x, res.metrics[metric], color, label=label if ax is axes[0] else None, linewidth=1.0)
            if curves is not None and curves[metric] is not None:
                ax.plot(x, curves[metric], **THEORY)
            elif decoding:
                limit = _limit_metric(cfg, path, metric)
                ax.plot(x, limit, color=color, **LIMIT)
    for ax, (_, ylabel) in zip(axes, _PANELS, strict=True):
        style.generation_axis(ax, label="generation n (fits)")
        ax.set_ylabel(ylabel)
    axes[1].set_yscale("log")
    axes[0].plot([], [], label="law, sampling (exact)", **THEORY)
    axes[0].plot([], [], color="gray", label=r"decoder, $M\to\infty$ limit", **LIMIT)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.14), frameon=False)
    fig.suptitle(
        f"Categorical refit, Zipf(a = {zipf_a:g}) over K = {K}, M = {M}, replace: mode-seeking decoders lose the tail "
        f"in a few generations,\nsampling only at the Wright-Fisher rate (bands: mean over {seeds} seeds, 95%)",
        fontsize=7,
        y=1.06,
    )
    return style.save(fig, outdir, "categorical_decoders", {"configs": len(hashes), "seeds": seeds})


def _limit_metric(cfg: CategoricalConfig, path: np.ndarray, metric: str) -> np.ndarray:
    return path_metrics(cfg, path)[metric]


@style.styled
def scaling(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    K: int = 10_000,
    M: int = 1000,
    beta: float = 2.0,
    shown: Sequence[int] = (1, 2, 5, 10),
    cut: int = 100,
) -> list[Path]:
    """A memorising learner's error against its training-set size, on Zipf data after ``n`` generations.

    The learner sees ``T`` samples of generation ``n``'s model and errs on every category it
    did not see: ``E_T = sum_i p0_i (1 - p_{n,i})^T``. Lines: the exact expectation (clean,
    ``n = 0``, and under replace with ``M`` samples per generation, from the two-type chain);
    points: the simulation's mean at ``T`` in 100, 1000, 10000 with 95% intervals; dotted: the
    clean asymptote ``C_beta T^-(1 - 1/beta)`` and data cut at rank ``k`` (top-k with infinite
    samples), whose error stalls at the plateau ``sum_{i > k} p0_i``.

    Args:
        outdir: the folder to write ``categorical_scaling.{pdf,png}`` into.
        seeds: seeds for the simulated points (default 200).
        progress: passed to the runner (``False`` silences it).
        K, M, beta: categories, samples per generation and the Zipf exponent (``> 1``).
        shown: generations drawn.
        cut: the rank ``k`` of the cut data.
    """
    seeds = seeds or 200
    p0 = tc.initial_distribution(K, "zipf", beta)
    T = np.unique(np.round(np.logspace(1, 5, 33)).astype(np.int64))
    fig = style.figure((3.6, 3.0))
    ax = fig.subplots()
    exact = tc.expected_downstream_error(p0, M, np.asarray((0, *shown)), T)
    ax.plot(T, exact[0], color="black", linewidth=1.2, label="clean data")
    cfg = CategoricalConfig(K=K, M=M, init="zipf", zipf_a=beta, generations=max(shown), regime="replace")
    res = run(cfg, seeds, 0, progress=progress)
    for j, g in enumerate(shown):
        color = style.PALETTE[j]
        ax.plot(T, exact[j + 1], color=color, linewidth=1.0, label=f"after {g} generation{'s' if g > 1 else ''}")
        mean = np.array([res.metrics[f"downstream_T{t}"].mean[g - 1] for t in DOWNSTREAM_T])
        sem = np.array([res.metrics[f"downstream_T{t}"].sem[g - 1] for t in DOWNSTREAM_T])
        ax.errorbar(DOWNSTREAM_T, mean, yerr=style.Z95 * sem, color=color, linestyle="none", marker="o", markersize=2.5)
    constant = float(tc.zipf_downstream_constant(beta))
    ax.plot(T, constant * T ** -(1 - 1 / beta), color="gray", label=r"$C_\beta T^{-(1-1/\beta)}$", **LIMIT)
    ax.plot(T, tc.tail_cut_error(p0, cut, T), color=style.PALETTE[4], label=f"data cut at rank k = {cut}", **LIMIT)
    ax.axhline(tc.tail_cut_plateau(p0, cut), color=style.PALETTE[4], linewidth=0.6, alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training samples T")
    ax.set_ylabel(r"test error $E_T$")
    ax.legend(fontsize=5.5, frameon=False)
    ax.set_title(
        f"Zipf(beta = {beta:g}), K = {K}, M = {M} per generation (replace):\nsynthetic data bend the scaling "
        f"law (lines exact; points {seeds} seeds)",
        fontsize=6.5,
    )
    return style.save(fig, outdir, "categorical_scaling", {"configs": 1, "seeds": seeds})


FIGURES = {
    "categorical_survival": survival,
    "categorical_decoders": decoders,
    "categorical_scaling": scaling,
}
