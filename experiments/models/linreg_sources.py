"""Regression under ``mix`` with a weight on the real rows, or synthetic rows from a fixed shifted model.

Two options of :class:`~model_collapse.experiments.models.linreg.LinRegConfig`, both under
``--regime mix``, where rows ``0..k-1`` (``k = real_fraction * T``) carry fresh real labels
``X_r w* + eps`` every generation and rows ``k..T-1`` carry synthetic labels ``X_s w_src + eps``:

* ``--real-weight w`` (He, Xu & Cheng 2025): the fit minimises the weighted loss
  ``(w/k) ||y_r - X_r beta||^2 + ((1 - w)/(T - k)) ||y_s - X_s beta||^2``, the per-row weights of
  the authors' regression experiment; unset, every row weighs alike (``w = k/T``, the pooled fit).
* ``--synthetic-source shifted --shift C2`` (Dohmatob, Feng, Subramonian & Kempe 2025): the
  synthetic rows are labelled by a fixed shifted model ``w_src = w* + delta``,
  ``delta ~ N(0, (C2/d) I)`` drawn once per seed (``E||delta||^2 = C2``), instead of by the
  previous fit. There is then no recursion: every generation is the paper's one OLS fit on
  ``n1 = k`` real and ``n2 = T - k`` shifted rows, redrawn with fresh labels (and, with
  ``--design fresh``, a fresh design) and the same ``delta``; the law is the same at every
  generation, and generation 1 is the paper's experiment.

Samplers: ``faithful`` draws the rows and labels; ``exact`` draws each part's Gram matrix
as ``F F^T`` (``F`` the Bartlett factor of ``Wishart(rows, I_d)``) and ``X_p^T eps = sigma F u``.
Designs: ``fixed`` (one per seed), ``fresh`` (one per generation), ``shared`` (one for every
seed, from ``design_seed``: :func:`shared_grams` rebuilds it for the conditional law).
Generation ``t``'s key is ``split(key_steps, G)[t - 1]``; one ``lax.scan`` over generations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine.linalg import cho_solve, cholesky
from .config import ConfigError, check_fraction, check_nonnegative
from .samplers import wishart_factor

__all__ = [
    "SOURCES",
    "check_sources",
    "uses_sources",
    "simulator",
    "shared_grams",
    "part_sizes",
    "theory",
    "theory_kinds",
]

SOURCES = ("previous", "shifted")
# Options of the other regression extensions that these simulators do not model, with their neutral values.
_NEUTRAL = {
    "spectrum": "isotropic",
    "target_decay": None,
    "ridge0": 0.0,
    "ridge": 0.0,
    "downstream": False,
    "T0": None,
    "sigma0_2": None,
    "real_resample": False,
}


def uses_sources(cfg: Any) -> bool:
    """Whether ``cfg`` runs here: a real weight, or synthetic rows from the shifted model."""
    return cfg.real_weight is not None or cfg.synthetic_source != "previous"


def part_sizes(cfg: Any) -> tuple[int, int]:
    """``(k, T - k)``: real and synthetic rows per generation."""
    k = int(round(cfg.real_fraction * cfg.T))
    return k, cfg.T - k


def check_sources(cfg: Any) -> None:
    """Validate ``real_weight``, ``synthetic_source`` and ``shift`` (a :class:`ConfigError` with one line)."""
    check_nonnegative("shift", cfg.shift)
    if cfg.synthetic_source == "previous" and cfg.shift != 0:
        raise ConfigError("shift is the shifted model's E||delta||^2: it needs --synthetic-source shifted")
    if cfg.real_weight is not None:
        check_fraction("real_weight", cfg.real_weight)
    if not uses_sources(cfg):
        return
    what = "real_weight" if cfg.real_weight is not None else "--synthetic-source shifted"
    if cfg.regime != "mix":
        raise ConfigError(f"{what} mixes fresh real rows with synthetic ones: use --regime mix, not {cfg.regime}")
    for name, neutral in _NEUTRAL.items():
        if getattr(cfg, name, neutral) != neutral:
            raise ConfigError(f"{what} is simulated with isotropic inputs and plain OLS: {name} must be {neutral}")
    if cfg.T <= cfg.d + 1:
        raise ConfigError(f"{what} fits OLS: T must exceed d + 1, got T={cfg.T}, d={cfg.d}")
    k, m = part_sizes(cfg)
    if cfg.real_weight is not None:
        if k == 0 or m == 0:
            raise ConfigError(
                f"real_weight needs real and synthetic rows (real_fraction strictly between 0 and 1), got {k} and {m}"
            )
        w = cfg.real_weight
        if (w == 1 and k <= cfg.d + 1) or (w == 0 and m <= cfg.d + 1):
            rows, part = (k, "real") if w == 1 else (m, "synthetic")
            raise ConfigError(f"real_weight={w:g} fits the {part} rows alone: they must exceed d + 1, got {rows}")


def _design(cfg: Any, key: jax.Array) -> tuple[jax.Array | None, ...]:
    """One design: per part, raw rows ``X_p`` (faithful) or a Gram factor ``F_p`` (exact); ``None`` if empty."""
    k, m = part_sizes(cfg)
    keys = jax.random.split(key, 2)
    out = []
    for key_p, rows in zip(keys, (k, m), strict=True):
        if rows == 0:
            out.append(None)
        elif cfg.sampler == "exact":
            out.append(wishart_factor(key_p, rows, cfg.d, cfg.dtype))
        else:
            out.append(jax.random.normal(key_p, (rows, cfg.d), dtype=cfg.dtype))
    return tuple(out)


def _statistics(cfg: Any, part: jax.Array, key: jax.Array, params: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(X_p^T X_p, X_p^T y_p)`` of one part labelled by ``params`` with noise ``sigma2``."""
    sigma = jnp.sqrt(jnp.asarray(cfg.sigma2, cfg.dtype))
    if cfg.sampler == "exact":
        gram = part @ part.T
        u = jax.random.normal(key, (part.shape[1],), dtype=cfg.dtype)
        return gram, gram @ params + sigma * (part @ u)
    y = part @ params + sigma * jax.random.normal(key, (part.shape[0],), dtype=cfg.dtype)
    return part.T @ part, part.T @ y


def simulator(cfg: Any) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """``key -> {"test_error": (G,)}``: one seed of ``cfg`` (see the module docstring)."""
    dt, d = cfg.dtype, cfg.d
    k, m = part_sizes(cfg)
    weighted = cfg.real_weight is not None
    shifted = cfg.synthetic_source == "shifted"

    def simulate(key: jax.Array) -> dict[str, jax.Array]:
        k_truth, k_design, k_steps = jax.random.split(key, 3)
        w_star = jax.random.normal(k_truth, (d,), dtype=dt) / jnp.sqrt(jnp.asarray(d, dt))
        delta = jax.random.normal(jax.random.fold_in(k_truth, 1), (d,), dtype=dt)
        delta = delta * jnp.sqrt(jnp.asarray(cfg.shift, dt) / d)
        fixed = None
        if cfg.design != "fresh":
            fixed = _design(cfg, jax.random.key(cfg.design_seed) if cfg.design == "shared" else k_design)
        if weighted:
            a = jnp.asarray(cfg.real_weight / k, dt)
            b = jnp.asarray((1 - cfg.real_weight) / m, dt)
        else:
            a = b = jnp.asarray(1.0, dt)

        def step(w_prev, key_t):
            k_x, k_r, k_s = jax.random.split(key_t, 3)
            parts = _design(cfg, k_x) if fixed is None else fixed
            source = w_star + delta if shifted else w_prev
            gram, moment = jnp.zeros((d, d), dt), jnp.zeros((d,), dt)
            for part, key_p, params, weight in zip(parts, (k_r, k_s), (w_star, source), (a, b), strict=True):
                if part is not None:
                    g, h = _statistics(cfg, part, key_p, params)
                    gram, moment = gram + weight * g, moment + weight * h
            fitted = cho_solve((cholesky(gram), True), moment)
            return fitted, {"test_error": jnp.sum((fitted - w_star) ** 2)}

        _, out = jax.lax.scan(step, w_star, jax.random.split(k_steps, cfg.generations))
        return out

    return simulate


def shared_grams(cfg: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(X_r^T X_r, X_s^T X_s)`` of the one design ``design="shared"`` uses, as :func:`simulator` draws it."""
    from ..engine.precision import float64

    if cfg.design != "shared":
        raise ConfigError("only design='shared' has one design for every seed")
    with float64():
        parts = _design(cfg, jax.random.key(cfg.design_seed))
    grams = []
    for part in parts:
        if part is None:
            grams.append(np.zeros((cfg.d, cfg.d)))
        else:
            p = np.asarray(part, np.float64)
            grams.append(p @ p.T if cfg.sampler == "exact" else p.T @ p)
    return grams[0], grams[1]


def theory_kinds(cfg: Any) -> dict[str, str | None]:
    """What :func:`theory` gives: an exact expectation (shifted source; a weight given the shared design),
    an approximation (a weight over random designs: the ``n, m -> oo`` law), or nothing (both options)."""
    if cfg.real_weight is not None and cfg.synthetic_source == "shifted":
        return {"test_error": None}
    if cfg.real_weight is not None and cfg.design != "shared":
        return {"test_error": "approximation"}
    return {"test_error": "exact expectation"}


def theory(cfg: Any, generations: np.ndarray, convention: str = "fit") -> dict[str, np.ndarray | None]:
    """The predicted ``test_error`` for ``cfg`` (see :func:`theory_kinds`; ``downstream``: one generation later).

    * shifted source: :func:`model_collapse.theory.linreg_strong.exact_test_error`, the same at every generation;
    * a real weight, shared design: :func:`model_collapse.theory.weighting.conditional_regression_error`;
    * a real weight, fixed or fresh design: :func:`model_collapse.theory.weighting.asymptotic_regression_error`.
    """
    if convention not in ("fit", "downstream"):
        raise ConfigError(f"unknown convention {convention!r}; choose one of: fit, downstream")
    n = np.asarray(generations) + (1 if convention == "downstream" else 0)
    kind = theory_kinds(cfg)["test_error"]
    if kind is None:
        return {"test_error": None}
    if cfg.real_weight is None:
        from ...theory import linreg_strong

        value = float(linreg_strong.exact_test_error(cfg.T, cfg.d, cfg.real_fraction, cfg.sigma2, cfg.shift))
        return {"test_error": np.where(n > 0, value, 0.0).astype(np.float64)}
    from ...theory import weighting

    k, m = part_sizes(cfg)
    if cfg.design == "shared":
        G_r, G_s = shared_grams(cfg)
        curve = weighting.conditional_regression_error(n, G_r, G_s, k, m, cfg.real_weight, cfg.sigma2)
    else:
        curve = weighting.asymptotic_regression_error(n, cfg.real_weight, k, m, cfg.d, cfg.sigma2)
    return {"test_error": np.asarray(curve, np.float64)}
