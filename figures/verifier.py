"""The verifier figure: a learner's accuracy on verified synthetic labels against the data size.

Feng, Dohmatob, Yang, Charton & Kempe (ICLR 2025), Theorem 4.2, in the package's model
(:mod:`model_collapse.experiments.models.verifier`): labels wrong with probability ``p``, a
verifier keeping correct labels with probability ``phi`` and wrong ones with ``psi``, a
mean-difference classifier. Left: accuracy against the number of synthesized points ``D``
(log axis) for several verifiers at one ``p``, simulation bands and the deterministic
equivalent; right: accuracy against ``p`` at two data sizes, with each verifier's breakdown
point ``p* = 1/(1 + psi/phi)`` marked, where the infinite-data accuracy jumps from the Bayes
``Phi(||mu||)`` to the anti-Bayes ``1 - Phi(||mu||)``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy.special import ndtr

from ..experiments import config_hash
from ..experiments.engine.cache import cached_run as run
from ..experiments.models.verifier import VerifierConfig
from ..theory import verifier as tv
from . import style

__all__ = ["FIGURES", "verifier", "VERIFIERS"]

THEORY = dict(linestyle="--", linewidth=1.0, color="black", alpha=0.8)
# (label, phi, psi): no verifier, an oracle, a good one, a weak one and one that favours wrong labels.
VERIFIERS = (
    ("none", 1.0, 1.0),
    ("oracle", 1.0, 0.0),
    ("good", 0.9, 0.3),
    ("weak", 0.7, 0.8),
    ("adverse", 0.5, 0.9),
)


def _shown(generations: int, points: int = 40) -> np.ndarray:
    """Log-spaced generation indices (0-based) from 1 to ``generations``."""
    return np.unique(np.rint(np.geomspace(1, generations, points)).astype(int)) - 1


@style.styled
def verifier(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    d: int = 20,
    mu_norm: float = 1.0,
    p: float = 0.4,
    N: int = 20,
    generations: int = 2500,
    verifiers: Sequence[tuple[str, float, float]] = VERIFIERS,
    p_values: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    sizes: Sequence[int] = (100, 2500),
    marked: Sequence[str] = ("none", "good", "adverse"),
) -> list[Path]:
    """Accuracy against data size for several verifiers, and against ``p`` with the breakdown points.

    Args:
        outdir: the folder to write ``verifier.{pdf,png}`` into.
        seeds: seeds per curve (default 200).
        progress: passed to the runner (``False`` silences it).
        d, mu_norm: the mixture's dimension and ``||mu||``.
        p: the generator's error rate in the left panel.
        N: synthesized points per generation; generation ``n`` learns from ``D = n N``.
        generations: batches per trajectory (the largest ``D`` is ``generations * N``).
        verifiers: ``(label, phi, psi)`` per curve of the left panel.
        marked: the labels of the verifiers drawn in the right panel, each with its breakdown point.
        p_values: the generator's error rates of the right panel.
        sizes: the generations (data sizes ``n N``) of the right panel, each at most ``generations``.
    """
    seeds = seeds or 200
    sizes = [g for g in sizes if g <= generations] or [generations]
    fig = style.figure((7.0, 2.8))
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(wspace=0.3)
    hashes = []
    idx = _shown(generations)
    for j, (label, phi, psi) in enumerate(verifiers):
        cfg = VerifierConfig(d=d, mu_norm=mu_norm, p=p, phi=phi, psi=psi, N=N, generations=generations)
        hashes.append(config_hash(cfg))
        res = run(cfg, seeds, 0, progress=progress, quantiles=())
        acc = res.metrics["accuracy"]
        D = res.generation[idx] * N
        summary = SimpleNamespace(mean=np.asarray(acc.mean)[idx], sem=np.asarray(acc.sem)[idx])
        p_star = tv.breakdown_point(phi, psi)
        color = style.PALETTE[j % len(style.PALETTE)]
        style.band(left, D, summary, color, label=f"{label}: phi={phi:g}, psi={psi:g} (p*={p_star:.2f})")
        left.plot(D, tv.accuracy_equivalent(D, d, mu_norm, p, phi, psi), **THEORY)
    for value, text in ((ndtr(mu_norm), "Bayes"), (0.5, "chance"), (ndtr(-mu_norm), "anti-Bayes")):
        left.axhline(value, color="gray", linewidth=0.6, linestyle=":")
        left.annotate(text, (1.0, value), xycoords=("axes fraction", "data"), fontsize=6, ha="right", va="bottom")
    left.set_xscale("log")
    left.set_xlabel("synthesized points D (before pruning)")
    left.set_ylabel("test accuracy of sign(<w, x>)")
    left.set_title(f"p = {p:g}: above p* more data hurts", fontsize=7)
    left.plot([], [], label="deterministic equivalent", **THEORY)
    left.legend(fontsize=5.5, loc="lower left")

    chosen = [v for v in verifiers if v[0] in marked]
    grid = np.linspace(0.0, 1.0, 201)
    for label, phi, psi in chosen:
        color = style.PALETTE[[v[0] for v in verifiers].index(label) % len(style.PALETTE)]
        p_star = tv.breakdown_point(phi, psi)
        for k, g in enumerate(sizes):
            marker = ("o", "s", "^")[k % 3]
            means, sems, ps = [], [], []
            for q in p_values:
                if (1 - q) * phi + q * psi == 0:
                    continue
                cfg = VerifierConfig(d=d, mu_norm=mu_norm, p=q, phi=phi, psi=psi, N=N, generations=generations)
                hashes.append(config_hash(cfg))
                res = run(cfg, seeds, 0, progress=progress, quantiles=())
                means.append(res.metrics["accuracy"].mean[g - 1])
                sems.append(res.metrics["accuracy"].sem[g - 1])
                ps.append(q)
            right.errorbar(
                ps,
                means,
                yerr=style.Z95 * np.asarray(sems),
                color=color,
                marker=marker,
                markersize=3,
                linestyle="none",
                label=f"{label}, D = {g * N}",
            )
            keep = (1 - grid) * phi + grid * psi > 0
            right.plot(
                grid[keep],
                [tv.accuracy_equivalent(g * N, d, mu_norm, q, phi, psi) for q in grid[keep]],
                color=color,
                linewidth=0.8,
                alpha=0.5 + 0.5 * k / max(1, len(sizes) - 1),
            )
        right.axvline(p_star, color=color, linewidth=0.8, linestyle=":")
        right.annotate(
            f"p*={p_star:.2f}",
            (p_star, 0.02),
            xycoords=("data", "axes fraction"),
            fontsize=6,
            color=color,
            rotation=90,
            ha="right",
            va="bottom",
        )
    limit = [tv.accuracy_limit(mu_norm, q, 1.0, 1.0) for q in grid]
    right.plot(grid, limit, color="gray", linewidth=0.6, linestyle=":", label="D -> oo, no verifier")
    right.set_xlabel("generator's error rate p")
    right.set_ylabel("test accuracy")
    right.set_title("the breakdown point p* = 1/(1 + psi/phi)", fontsize=7)
    right.legend(fontsize=5.5, loc="lower left")
    fig.suptitle(
        f"Verified synthetic labels (Feng et al. 2025, Thm 4.2): two-class mixture, d = {d}, ||mu|| = {mu_norm:g}, "
        f"mean-difference learner (bands, bars: {seeds} seeds, 95%; lines: deterministic equivalent)",
        fontsize=7,
        y=1.02,
    )
    return style.save(fig, outdir, "verifier", {"configs": len(set(hashes)), "seeds": seeds})


FIGURES = {"verifier": verifier}
