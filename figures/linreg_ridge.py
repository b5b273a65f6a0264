"""Figures for regression beyond isotropic OLS: scaling laws and the optimal ridge (Dohmatob et al. 2024).

A power-law spectrum (``decay b``) and a power-law target (``target_decay a``); ``n`` OLS
generators on ``T0`` rows label the data of a ridge downstream model on ``T`` rows. The curves
are the deterministic equivalents of :mod:`model_collapse.theory.linreg_scaling` (derived
here); the points are simulations of the ``linreg`` model with ``--downstream`` (95% intervals).
Every function takes ``(outdir, seeds=None, progress=None, **params)``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..experiments import LinRegConfig
from ..experiments.engine.cache import cached_run as run
from ..experiments.models.linreg_chain import eigenvalues
from ..experiments.models.linreg_theory import target_vector
from ..theory import linreg_ridge as lr
from . import style

__all__ = ["FIGURES", "optimal_ridge", "scaling"]

Z95 = 1.959963984540054


def _config(d: int, T: int, T0: int, n: int, lam: float, b: float, a: float, sigma2: float, sigma0_2: float):
    """The downstream config whose generation ``max(n, 1)`` is ``n`` generators (``n = 0``: noiseless generators)."""
    return LinRegConfig(
        d=d,
        T=T,
        T0=T0,
        sigma2=sigma2,
        sigma0_2=sigma0_2 if n else 0.0,
        ridge=lam,
        downstream=True,
        generations=max(n, 1),
        design="fixed",
        sampler="exact",
        spectrum="power",
        decay=b,
        target_decay=a,
    )


def _point(ax, x: float, res, n: int, color: str) -> None:
    s = res.metrics["test_error"]
    g = max(n, 1) - 1
    ax.errorbar([x], [s.mean[g]], yerr=[Z95 * s.sem[g]], color=color, marker="o", markersize=3, linestyle="none")


@style.styled
def scaling(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    d: int = 100,
    T0: int = 200,
    decay: float = 1.5,
    target_decay: float = 1.0,
    sigma2: float = 0.25,
    sigma0_2: float = 1.0,
    n_values: Sequence[int] = (0, 1, 4, 16),
    T_curve: Sequence[int] = tuple(int(t) for t in np.geomspace(8, 2000, 40)),
    T_points: Sequence[int] = (16, 64, 256),
) -> list[Path]:
    """Test error against the downstream sample size ``T`` (log axes), the ridge tuned at each point.

    Clean data (``n = 0``) follow the power law ``T^-(a+b-1)/(a+b)`` while ``T`` is below ``d``;
    after ``n`` generators the inherited noise ``n sigma0^2 F/(T0 - d - 1)`` bends the curve
    into a slower decay and a floor (see ``paper_notes.md``).

    Args:
        outdir: the folder to write ``linreg_scaling.{pdf,png}`` into.
        seeds: seeds per simulated point (default 400).
        progress: passed to the runner.
        d, T0: features and the generators' rows (``T0 > d + 1``).
        decay, target_decay: ``b`` and ``a``. sigma2, sigma0_2: downstream and generator noise.
        n_values: generator counts, one curve each. T_curve: the curves' ``T``. T_points: simulated ``T``.

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 400
    probe = _config(d, 10, T0, 1, 0.1, decay, target_decay, sigma2, sigma0_2)
    eigs, w2 = eigenvalues(probe), target_vector(probe) ** 2
    fig = style.figure(style.COLUMN)
    ax = fig.subplots()
    for k, n in enumerate(n_values):
        color = style.PALETTE[k % len(style.PALETTE)]
        err = [lr.optimal_ridge(n, eigs, w2, T, sigma2, T0, sigma0_2)[1] for T in T_curve]
        ax.plot(T_curve, err, color=color, label=f"n = {n}")
        for T in T_points:
            lam = lr.optimal_ridge(n, eigs, w2, T, sigma2, T0, sigma0_2)[0]
            res = run(_config(d, T, T0, n, lam, decay, target_decay, sigma2, sigma0_2), seeds, 0, progress=progress)
            _point(ax, T, res, n, color)
    rate = (target_decay + decay - 1) / (target_decay + decay)
    T_ref = np.array([T_curve[0], d / 2])
    clean0 = lr.optimal_ridge(0, eigs, w2, int(T_ref[0]), sigma2, T0, sigma0_2)[1]
    ax.plot(T_ref, clean0 * (T_ref / T_ref[0]) ** -rate, color="black", linestyle=":", label=rf"$T^{{-{rate:.2g}}}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("downstream rows T")
    ax.set_ylabel(r"test error $\|\hat w - w^*\|_\Sigma^2$ (tuned ridge)")
    ax.set_title(
        f"Scaling with n generators: d={d}, T0={T0}, b={decay:g}, a={target_decay:g}\n"
        f"lines: deterministic equivalent; points: simulation ({seeds} seeds, 95%)",
        fontsize=6,
    )
    ax.legend(fontsize=6)
    return style.save(fig, outdir, "linreg_scaling", {"seeds": seeds})


@style.styled
def optimal_ridge(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    d: int = 100,
    T: int = 150,
    T0: int = 200,
    decay: float = 1.5,
    target_decay: float = 1.0,
    sigma2: float = 0.25,
    sigma0_2: float = 1.0,
    n_curves: Sequence[int] = (1, 4, 16),
    ridges: Sequence[float] = (0.001, 0.01, 0.1, 1.0, 10.0),
    n_max: int = 32,
) -> list[Path]:
    """The ridge minimising the error grows with the number of generators ``n``.

    Left: the error against ``lambda`` for several ``n`` (deterministic equivalent, the optimum
    marked by a star; simulation at a few ``lambda``, all ``n`` from one chain). Right: ``lambda*(n)``.

    Args:
        outdir: the folder to write ``linreg_optimal_ridge.{pdf,png}`` into.
        seeds: seeds per simulated ``lambda`` (default 400).
        progress: passed to the runner.
        d, T, T0: features, downstream and generator rows. decay, target_decay: ``b`` and ``a``.
        sigma2, sigma0_2: downstream and generator noise. n_curves: ``n`` of the left panel's curves.
        ridges: simulated ``lambda``. n_max: the right panel's largest ``n``.

    Returns:
        The PDF and PNG paths.
    """
    seeds = seeds or 400
    probe = _config(d, T, T0, 1, 0.1, decay, target_decay, sigma2, sigma0_2)
    eigs, w2 = eigenvalues(probe), target_vector(probe) ** 2
    fig = style.figure((7.0, 2.6))
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(wspace=0.4)
    stars = {n: lr.optimal_ridge(n, eigs, w2, T, sigma2, T0, sigma0_2) for n in n_curves}
    lams = [*ridges, *(lam for lam, _ in stars.values())]
    grid = np.geomspace(min(lams) / 3, max(lams) * 3, 60)
    sims = {lam: run(_config(d, T, T0, max(n_curves), lam, decay, target_decay, sigma2, sigma0_2), seeds, 0,
                     progress=progress) for lam in ridges}  # fmt: skip
    for k, n in enumerate(n_curves):
        color = style.PALETTE[k % len(style.PALETTE)]
        curve = [float(lr.downstream_error_de(n, lam, eigs, w2, T, sigma2, T0, sigma0_2)) for lam in grid]
        left.plot(grid, curve, color=color, label=f"n = {n}")
        lam_star, err_star = stars[n]
        left.plot([lam_star], [err_star], color=color, marker="*", markersize=7, linestyle="none")
        for lam, res in sims.items():
            _point(left, lam, res, n, color)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel(r"ridge $\lambda$")
    left.set_ylabel(r"test error $\|\hat w - w^*\|_\Sigma^2$")
    left.legend(fontsize=6)
    ns = np.arange(0, n_max + 1)
    right.plot(ns, [lr.optimal_ridge(n, eigs, w2, T, sigma2, T0, sigma0_2)[0] for n in ns], color="black")
    right.set_yscale("log")
    style.generation_axis(right, label="generators n")
    right.set_ylabel(r"optimal ridge $\lambda^*(n)$")
    fig.suptitle(
        f"The optimal ridge grows with n: d={d}, T={T}, T0={T0}, b={decay:g}, a={target_decay:g}; "
        f"lines: deterministic equivalent; points: simulation ({seeds} seeds, 95%)",
        fontsize=6,
    )
    return style.save(fig, outdir, "linreg_optimal_ridge", {"seeds": seeds})


FIGURES = {"linreg_scaling": scaling, "linreg_optimal_ridge": optimal_ridge}
