"""Figures for sampling bias in the fresh-data loop (Alemohammad et al. 2024, "Self-Consuming ... Go MAD").

* :func:`trajectories`: their Fig. 10 setting: the fresh-data loop (``mix``) in ``d = 100`` with
  ``n_r = 100`` fresh real and ``n_s = 900`` synthetic samples per generation at temperatures
  ``tau = 1`` and ``0.8``: ``E W2^2`` to the truth by simulation (no closed form: the
  Wasserstein distance is not linear in the moments), the exact moment laws of
  :mod:`model_collapse.theory.gaussian.bias` for the mean error and the trace, and the
  real-only fit on ``n_r`` samples for reference.
* :func:`phase`: their Fig. 11 measurement: the effective sample size ``n_e`` of the loop (the
  real-only sample size whose fit has the loop's limiting ``E W2^2``) over a grid of
  ``n_r``, ``n_s`` and ``tau``, as ``n_e / n_r`` (above 1: the synthetic data helped); next to
  it the exact moment-level counterpart ``tr Sigma / E||mu* - mu||^2`` over ``n_r``.

Generation 1 fits ``n_r + n_s`` real samples (the package's convention; the paper's first
generation has its own size ``n_ini``, which only the transient depends on).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..experiments import GaussianConfig, config_hash, get_model
from ..experiments.engine.cache import cached_run as run
from ..theory import gaussian as theory_gaussian
from . import style

__all__ = ["FIGURES", "trajectories", "phase", "effective_size", "loop_config"]

THEORY = dict(linestyle="--", linewidth=1.0, color="black", alpha=0.8)
TAU_COLORS = (style.PALETTE[0], style.PALETTE[1], style.PALETTE[2], style.PALETTE[3])


def loop_config(dim: int, n_real: int, n_synthetic: int, generations: int, temperature: float) -> GaussianConfig:
    """The fresh-data loop: ``mix`` with ``M = n_r + n_s`` and ``real_fraction = n_r / M`` (unbiased, exact)."""
    M = n_real + n_synthetic
    return GaussianConfig(
        dim=dim,
        M=M,
        generations=generations,
        regime="mix",
        real_fraction=n_real / M,
        estimator="unbiased",
        sampler="exact",
        temperature=temperature,
    )


def _burn_in(n_real: int, n_synthetic: int, temperatures: Sequence[float], tolerance: float = 1e-3) -> int:
    """Generations until the moment recursion's transient is below ``tolerance`` for every ``tau``.

    The transient of ``v_n = A_tau v_{n-1} + c`` decays as ``rho(A_tau)^n``
    (:mod:`model_collapse.theory.gaussian.bias`); the slowest temperature sets the burn-in.
    """
    M = n_real + n_synthetic
    worst = 1
    for tau in temperatures:
        star = theory_gaussian.tempered_moments(
            "mix", "unbiased", np.arange(1, 2001), dim=1, M=M, sigma2=1.0, temperature=tau, real_fraction=n_real / M
        )
        stat = theory_gaussian.tempered_stationary(
            "mix", "unbiased", dim=1, M=M, sigma2=1.0, temperature=tau, real_fraction=n_real / M
        )
        gap = np.maximum(
            np.abs(star["mean_sq_error"] / stat["mean_sq_error"] - 1), np.abs(star["variance"] / stat["variance"] - 1)
        )
        worst = max(worst, int(np.argmax(gap < tolerance)) + 1 if np.any(gap < tolerance) else 2000)
    return worst


def _real_only(dim: int, ns: np.ndarray, seeds: int, progress: bool | None) -> tuple[np.ndarray, np.ndarray]:
    """``E W2^2`` (and its sem) of one fit on ``n`` real samples, for each ``n`` (generation 1, unbiased).

    In 1-D exact, ``sigma2 (1/n + 2 (1 - c4(n)))`` (:func:`model_collapse.theory.gaussian.replace_w2_sq`);
    in several dimensions simulated (``E tr Sigma_n^(1/2)`` has no closed form).
    """
    if dim == 1:
        vals = [float(theory_gaussian.replace_w2_sq(1, dim=1, M=int(n), sigma2=1.0, estimator="unbiased")) for n in ns]
        return np.asarray(vals), np.zeros(len(ns))
    means, sems = [], []
    for n in ns:
        cfg = GaussianConfig(dim=dim, M=int(n), generations=1, regime="replace", sampler="exact")
        s = run(cfg, seeds, 0, progress=progress).metrics["w2_sq"]
        means.append(float(s.mean[0]))
        sems.append(float(s.sem[0]))
    return np.asarray(means), np.asarray(sems)


def effective_size(distance: float, ns: np.ndarray, reference: np.ndarray) -> float:
    """The real-only sample size whose ``E W2^2`` is ``distance``: log-log interpolation of the decreasing
    ``reference`` over ``ns`` (``nan`` outside the grid)."""
    order = np.argsort(reference)
    x, y = np.log(reference[order]), np.log(ns[order])
    if not (x[0] <= math.log(distance) <= x[-1]):
        return float("nan")
    return float(np.exp(np.interp(math.log(distance), x, y)))


def _limit(cfg: GaussianConfig, seeds: int, window: int, progress: bool | None) -> tuple[float, float]:
    """The loop's limiting ``E W2^2``: the mean over the last ``window`` generations, and a bound on its sem.

    The window's generations are correlated; the sem of their average is at most the
    average of their sems (triangle inequality), the error bar reported.
    """
    s = run(cfg, seeds, 0, progress=progress).metrics["w2_sq"]
    return float(np.mean(s.mean[-window:])), float(np.mean(s.sem[-window:]))


@style.styled
def trajectories(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    dim: int = 100,
    n_real: int = 100,
    n_synthetic: int = 900,
    temperatures: Sequence[float] = (1.0, 0.8),
    generations: int = 50,
) -> list[Path]:
    """Alemohammad et al. (2024)'s Fig. 10 (Gaussian): the fresh-data loop at two temperatures.

    Args:
        outdir: the folder to write ``gaussian_mad_trajectories.{pdf,png}`` into.
        seeds: seeds per curve (default 128).
        progress: passed to the runner (``False`` silences it).
        dim: dimension (the paper's 100).
        n_real, n_synthetic: fresh real and synthetic samples per generation.
        temperatures: the sampling biases ``tau`` (one curve each).
        generations: fits per chain.

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 128
    fig = style.figure(style.WIDE)
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(wspace=0.5)
    hashes = []
    # the real-only fit on n_r samples: singular when n_r <= d (the paper's Fig. 10 has n_r = d = 100), then on M
    n_ref = n_real if n_real > dim else n_real + n_synthetic
    (ref,), (ref_sem,) = _real_only(dim, np.array([n_ref]), seeds, progress)
    axes[0].axhspan(ref - style.Z95 * ref_sem, ref + style.Z95 * ref_sem, color="grey", alpha=0.3, linewidth=0)
    axes[0].axhline(ref, color="grey", linewidth=1.0, label=f"real only, {n_ref} samples")
    for k, tau in enumerate(temperatures):
        cfg = loop_config(dim, n_real, n_synthetic, generations, tau)
        res = run(cfg, seeds, 0, progress=progress)
        hashes.append(config_hash(cfg))
        x, color = res.generation, TAU_COLORS[k % len(TAU_COLORS)]
        curves = get_model("gaussian").theory(cfg, x)
        style.band(axes[0], x, res.metrics["w2_sq"], color, label=rf"$\tau$={tau:g}: mean (95% band)")
        for ax, metric, scale in ((axes[1], "mean_sq_error", dim), (axes[2], "variance", 1.0)):
            s = res.metrics[metric]
            style.band(ax, x, SimpleNamespace(mean=np.asarray(s.mean) / scale, sem=np.asarray(s.sem) / scale), color)
            ax.plot(x, curves[metric] / scale, **THEORY)
        star = theory_gaussian.tempered_stationary(
            "mix", "unbiased", dim=dim, M=cfg.M, sigma2=1.0, temperature=tau, real_fraction=cfg.real_fraction
        )
        axes[2].annotate(
            rf"$\beta^*$={star['variance']:.3f}", (x[-1], star["variance"]), fontsize=5.5, ha="right", va="bottom"
        )
    axes[1].plot([], [], label="exact law (derived here)", **THEORY)
    axes[0].set_ylabel(r"$W_2^2(N(\mu_n,\Sigma_n), N(\mu,\Sigma))$")
    axes[1].set_ylabel(r"$\|\mu_n-\mu\|^2/d$")
    axes[2].set_ylabel(r"$\mathrm{tr}\,\Sigma_n/\mathrm{tr}\,\Sigma$")
    axes[1].set_yscale("log")
    for ax in axes:
        style.generation_axis(ax, label="generation n (fits)")
    handles, labels = [], []
    for ax in axes[:2]:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.1), frameon=False)
    singular = "" if n_ref == n_real else f" (a fit on {n_real} <= d samples is singular)"
    fig.suptitle(
        f"Alemohammad et al. (2024), Fig. 10 setting: fresh-data loop in d={dim}, {n_real} fresh real + {n_synthetic} "
        r"synthetic samples per generation, synthetic from $N(\mu_n, \tau\Sigma_n)$"
        f"\n$E W_2^2$ simulated (not linear in the moments: no closed form); mean error and trace against their exact "
        f"laws; {seeds} seeds per curve\ngeneration 1 fits {n_real + n_synthetic} real samples; grey: one fit on "
        f"{n_ref} real samples{singular}",
        fontsize=7,
        y=1.07,
    )
    return style.save(fig, outdir, "gaussian_mad_trajectories", {"configs": ",".join(hashes), "seeds": seeds})


@style.styled
def phase(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    dim: int = 1,
    n_real: Sequence[int] = (100, 1000, 10000),
    n_synthetic: Sequence[int] = (100, 1000, 10000),
    temperatures: Sequence[float] = (0.7, 0.85, 1.0),
    window: int = 200,
    generations: int | None = None,
    reference_seeds: int = 2000,
) -> list[Path]:
    """Alemohammad et al. (2024)'s Fig. 11: the fresh-data loop's effective sample size ``n_e / n_r``.

    For each ``(n_r, n_s, tau)`` the loop runs past its burn-in (from the exact moment
    recursion's transient, below 1e-3) and ``E W2^2`` is averaged over the last ``window``
    generations; ``n_e`` is the real-only sample size with that ``E W2^2`` (in 1-D from the
    exact real-only law, in several dimensions from simulated real-only fits), its 95%
    interval from the error bar. The lower row is the exact moment-level ratio
    ``tr Sigma / (n_r E||mu* - mu||^2)`` (:func:`model_collapse.theory.gaussian.mean_effective_size`).
    The default grid (3 x 3 x 3, 1-D, 400 seeds) renders in about two minutes on two CPU cores
    (97 s of CPU time measured), most of it compiling one program per ``(n_r, n_s)``; the paper's
    grid is finer (``dim``, ``n_real``, ``n_synthetic`` are parameters).

    Args:
        outdir: the folder to write ``gaussian_mad_phase.{pdf,png}`` into.
        seeds: seeds per loop (default 400).
        progress: passed to the runner (``False`` silences it).
        dim: dimension.
        n_real, n_synthetic: the grid's fresh real and synthetic samples per generation.
        temperatures: one column each.
        window: generations averaged at the end of each loop.
        generations: fits per loop (default: the burn-in plus ``window``).
        reference_seeds: seeds per real-only fit (several dimensions only).

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 400
    nr, ns_ = list(n_real), list(n_synthetic)
    grid = np.unique(np.round(np.geomspace(max(2, dim + 1), 100 * max(nr) + max(ns_), 400 if dim == 1 else 12)))
    reference, _ = _real_only(dim, grid, reference_seeds, progress)
    ratio = np.full((len(temperatures), len(nr), len(ns_)), np.nan)
    band = np.full(ratio.shape + (2,), np.nan)
    hashes = []
    for i, a in enumerate(nr):
        for j, b in enumerate(ns_):
            G = generations or _burn_in(a, b, temperatures) + window
            for t, tau in enumerate(temperatures):
                cfg = loop_config(dim, a, b, G, tau)
                hashes.append(config_hash(cfg))
                wd, err = _limit(cfg, seeds, window, progress)
                ratio[t, i, j] = effective_size(wd, grid, reference) / a
                band[t, i, j] = [effective_size(wd + sign * style.Z95 * err, grid, reference) / a for sign in (1, -1)]
    fig = style.figure((7.0, 4.6))
    axes = fig.subplots(2, len(temperatures), squeeze=False)
    fig.subplots_adjust(hspace=0.45, wspace=0.45)
    norm = dict(vmin=-3, vmax=3, cmap="RdBu", origin="lower", aspect="auto")
    for t, tau in enumerate(temperatures):
        mean_level = np.array(
            [
                [
                    theory_gaussian.mean_effective_size(
                        M=a + b, estimator="unbiased", temperature=tau, real_fraction=a / (a + b)
                    )
                    / a
                    for b in ns_
                ]
                for a in nr
            ]
        )
        for row, (values, what) in enumerate(((ratio[t], "W2 (simulated)"), (mean_level, "mean (exact)"))):
            ax = axes[row, t]
            image = ax.imshow(np.log2(values), **norm)
            for i in range(len(nr)):
                for j in range(len(ns_)):
                    text = f"{values[i, j]:.2f}"
                    if row == 0:
                        text += f"\n[{band[t, i, j, 0]:.2f}, {band[t, i, j, 1]:.2f}]"
                    ax.text(j, i, text, ha="center", va="center", fontsize=4.5)
            ax.set_xticks(range(len(ns_)), [f"{b:g}" for b in ns_])
            ax.set_yticks(range(len(nr)), [f"{a:g}" for a in nr])
            ax.set_title(rf"$\tau$={tau:g}: $n_e/n_r$, {what}", fontsize=6.5)
            ax.set_xlabel(r"synthetic $n_s$")
            if t == 0:
                ax.set_ylabel(r"fresh real $n_r$")
    bar = fig.colorbar(image, ax=axes, shrink=0.8)
    bar.set_label(r"$\log_2(n_e/n_r)$ (blue: synthetic data helped)")
    fig.suptitle(
        f"Alemohammad et al. (2024), Fig. 11 setting (d={dim}): effective sample size of the fresh-data loop, "
        r"$n_e$ = real-only size with the loop's limiting $E W_2^2$"
        f"\ntop: simulated ({seeds} seeds, mean over the last {window} generations after the moments' burn-in; "
        "95% interval in brackets); bottom: exact, from the stationary mean error alone"
        f"\n{len(nr)} x {len(ns_)} grid x {len(temperatures)} temperatures (the default 3 x 3 x 3 renders in about two "
        "minutes on two CPU cores, 97 s of CPU time measured; the grid and dim are parameters)",
        fontsize=7,
        y=1.04,
    )
    return style.save(fig, outdir, "gaussian_mad_phase", {"configs": len(hashes), "seeds": seeds})


FIGURES = {
    "gaussian_mad_trajectories": trajectories,
    "gaussian_mad_phase": phase,
}
