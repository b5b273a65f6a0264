r"""Figure for curation by a reward (Ferbach, Bertrand, Bose & Gidel, NeurIPS 2024).

* :func:`curation`: a 1-D Gaussian refit on curated samples (each kept sample the Luce choice among ``K``
  candidates, reward :math:`r(x) = -A(x-a)^2/2`), for several ``K``, without real data (``replace``) and
  with a fresh real fraction each generation (``mix``): the fitted model's expected reward
  :math:`E_{p_n} r = -A((\mu_n - a)^2 + \sigma_n^2)/2` and its squared 2-Wasserstein distance to the
  data distribution, with the ``K = oo``, ``M = oo`` path (dashed: the tilt
  :math:`S_t^{-1} = S_0^{-1} + tA`, :math:`m_t = S_t(S_0^{-1}m_0 + tAa)` without real data; with real data the
  moment-matched refit of :math:`f p_0 + (1-f)\,\mathrm{tilt}(p_n)`).

The function takes ``(outdir, seeds=None, progress=None, **params)`` like every figure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

from ..experiments import config_hash
from ..experiments.engine.cache import cached_array
from ..experiments.engine.precision import float64
from ..experiments.models.gaussian import Gaussian, GaussianConfig
from ..experiments.models.regimes import simulate
from . import style

__all__ = ["FIGURES", "curation", "population_path"]

THEORY = dict(linestyle="--", linewidth=1.0, alpha=0.9)


class _Rewarded(Gaussian):
    """The 1-D Gaussian model reporting the fit's expected reward and ``w2_sq`` (the figure's two metrics).

    In 1-D ``W2^2(N(mu, s^2), N(0, sigma^2)) = mu^2 + (s - sigma)^2`` (``s = L``, its Cholesky factor), the
    model's ``w2_sq`` without its general matrix square root (a smaller program to compile).
    """

    def evaluate(self, cfg, ctx, params):
        a, A = jnp.asarray(cfg.reward_center), jnp.asarray(cfg.reward_scale)
        s = params.L[0, 0]
        mean_sq = jnp.sum(params.mu**2)
        reward = -0.5 * A * (jnp.sum((params.mu - a) ** 2) + s**2)
        return {"reward": reward, "w2_sq": mean_sq + (s - jnp.sqrt(jnp.asarray(cfg.sigma2))) ** 2}


def _trajectories(cfg: GaussianConfig, seeds: int) -> np.ndarray:
    """``(4, G)``: mean and standard error over seeds of the reward, then of ``w2_sq`` (seed i: key(0) folded in i)."""
    model = _Rewarded()
    with float64():
        base = jax.random.key(0)
        keys = jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.arange(seeds, dtype=jnp.uint32))
        out = jax.jit(jax.vmap(lambda k: simulate(model, cfg, k, fast_path=False)))(keys)  # the scan: its evaluate
        rows = []
        for name in ("reward", "w2_sq"):
            values = np.asarray(out[name], np.float64)
            rows += [values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(seeds)]
    return np.array(rows)


def population_path(
    sigma2: float, a: float, A: float, generations: int, real_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""``(mean, variance)`` of the ``K = oo``, ``M = oo`` Gaussian path, generations ``1..G``.

    Generation 1 is the truth :math:`N(0, \sigma^2)`; each step tilts by :math:`e^{-A(x-a)^2/2}` (precision
    ``+A``, :func:`model_collapse.theory.curation.tilt_derivation`) and, with real fraction ``f``, refits a
    Gaussian to :math:`f N(0, \sigma^2) + (1-f)N(m, v)`: mean :math:`(1-f)m`, variance
    :math:`f\sigma^2 + (1-f)v + f(1-f)m^2`. Without real data: :math:`v_t = 1/(1/\sigma^2 + tA)`,
    :math:`m_t = v_t\,tAa`.
    """
    means, variances = np.empty(generations), np.empty(generations)
    m, v = 0.0, sigma2
    for n in range(generations):
        if n:
            v_tilt = 1.0 / (1.0 / v + A)
            m_tilt = v_tilt * (m / v + A * a)
            f = real_fraction
            m, v = (1 - f) * m_tilt, f * sigma2 + (1 - f) * v_tilt + f * (1 - f) * m_tilt**2
        means[n], variances[n] = m, v
    return means, variances


@style.styled
def curation(
    outdir: str | os.PathLike[str],
    seeds: int | None = None,
    progress: bool | None = None,
    *,
    M: int = 100,
    reward_center: float = 2.0,
    reward_scale: float = 0.5,
    K_values: Sequence[int] = (1, 2, 8, 32),
    real_fraction: float = 0.5,
    generations: int = 30,
) -> list[Path]:
    """Expected reward and distance to the data distribution across generations, for several ``K``.

    Args:
        outdir: the folder to write ``curation.{pdf,png}`` into.
        seeds: seeds per curve (default 500).
        progress: unused (each curve is one compiled call).
        M: samples per generation (1-D Gaussian, truth ``N(0, 1)``).
        reward_center, reward_scale: ``a`` and ``A`` of the reward ``-A (x - a)^2 / 2``.
        K_values: candidates per kept sample, one curve each (1: no curation).
        real_fraction: the fresh real share per generation of the lower row (``mix``).
        generations: fits per curve, generation 1 on real data.
    """
    seeds = seeds or 500
    sigma2 = 1.0
    fig = style.figure((7.0, 4.6))
    axes = fig.subplots(2, 2, sharex=True)
    gens = np.arange(1, generations + 1)
    hashes = []
    for row, (regime, f) in enumerate((("replace", 0.0), ("mix", real_fraction))):
        for j, K in enumerate(K_values):
            cfg = GaussianConfig(
                dim=1,
                M=M,
                sigma2=sigma2,
                generations=generations,
                regime=regime,
                real_fraction=real_fraction,
                curate=K,
                reward_center=reward_center,
                reward_scale=reward_scale,
                sampler="faithful",
            )
            hashes.append(config_hash(cfg))
            table = cached_array("curation", cfg, seeds, 0, lambda cfg=cfg: _trajectories(cfg, seeds))
            color = style.PALETTE[j % len(style.PALETTE)]
            for col in range(2):
                summary = SimpleNamespace(mean=table[2 * col], sem=table[2 * col + 1])
                style.band(axes[row, col], gens, summary, color, label=f"K = {K}" if row == col == 0 else None)
        m, v = population_path(sigma2, reward_center, reward_scale, generations, f)
        reward = -0.5 * reward_scale * ((m - reward_center) ** 2 + v)
        w2 = m**2 + (np.sqrt(v) - np.sqrt(sigma2)) ** 2
        label = r"$K = \infty$, $M = \infty$" if row == 0 else None
        axes[row, 0].plot(gens, reward, color="black", label=label, **THEORY)
        axes[row, 1].plot(gens[1:], w2[1:], color="black", **THEORY)  # generation 1 is the truth: 0
        title = "no real data (replace)" if f == 0 else f"fresh real fraction f = {f:g} (mix)"
        axes[row, 0].set_ylabel(f"{title}\n" + r"$E_{p_n} r$")
        axes[row, 1].set_ylabel(r"$W_2^2(p_n, p_{data})$")
        axes[row, 1].set_yscale("log")
    for ax in axes[1]:
        style.generation_axis(ax, label="generation n")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, -0.04), frameon=False)
    fig.suptitle(
        f"Curation by a reward r(x) = -{reward_scale:g}(x - {reward_center:g})^2/2 (Luce choice among K candidates), "
        f"1-D Gaussian, M = {M}:\nthe reward rises with K and the model leaves the data; fresh real data hold it at "
        f"a fixed point (bands: 95% over {seeds} seeds; dashed: the tilt, K = M = oo)",
        fontsize=7,
        y=1.02,
    )
    return style.save(fig, outdir, "curation", {"configs": len(hashes), "seeds": seeds})


FIGURES = {"curation": curation}
