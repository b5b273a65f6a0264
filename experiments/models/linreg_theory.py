"""Linear regression's theory hooks: the predicted curves, the skewness, the shared design.

The model's :meth:`theory` and metric skewness (see
:mod:`model_collapse.experiments.models.linreg`) as functions of its config, and the one
design that ``design="shared"`` uses, rebuilt as the sampler draws it.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from .config import ConfigError
from .linreg_chain import (
    _design_key,
    _parts,
    downstream_operator,
    eigenvalues,
    extended,
    gen_noise,
    gen_rows,
)
from .samplers import bartlett_factor, wishart_factor

__all__ = [
    "extended_theory",
    "shared_design_trace_inverse",
    "shared_downstream",
    "shared_generator_gram",
    "skewness",
    "target_vector",
    "theory",
]


def skewness(cfg: Any, generations: np.ndarray) -> np.ndarray:
    """Skewness of one seed's ``test_error`` (inf where it is infinite).

    * a random design (``fixed`` or ``fresh``) with ``T <= d + 5``: infinite (``tr (X^T
      X)^-1`` has a finite ``k``-th moment iff ``T > d + 2k - 1``);
    * replace or accumulate with a fixed design, replace with a fresh one: exact
      (:func:`model_collapse.theory.tails.linreg_test_error_skewness`; a fixed design gives
      the F distribution's at every ``n``, 0.84 at ``d = 32, T = 100``);
    * one design for every seed (``shared``): a Gaussian quadratic form's, exact, from the
      design's eigenvalues (replace, accumulate) or the augment recursion
      (:func:`model_collapse.theory.linreg_augment.conditional_augment_skewness`), else its
      upper bound ``sqrt(8)``;
    * augment with a fixed design, ``d = 1``: exact
      (:func:`model_collapse.theory.tails.linreg_augment_skewness`);
    * the other regimes (no law is registered there): the one-fit value, the fixed
      design's F skewness, as an approximation.
    """
    from ...theory import tails as theory_tails

    gens = np.asarray(generations)
    if extended(cfg):  # ridge, downstream or d >= T: a quadratic form given the designs (skewness <= sqrt 8)
        if cfg.design == "shared" or gen_rows(cfg) < cfg.d:
            return np.full(gens.shape, np.sqrt(8.0))
        if gen_rows(cfg) <= cfg.d + 5 and cfg.ridge0 == 0:
            return np.full(gens.shape, np.inf)
        one_fit = theory_tails.linreg_test_error_skewness(
            np.ones(1), d=cfg.d, T=gen_rows(cfg), regime="replace", design="fixed"
        )
        return np.full(gens.shape, float(one_fit[0]))  # the generators' one-fit value, an approximation
    if cfg.regime == "augment" and cfg.design == "fixed" and cfg.d == 1 and not cfg.real_resample:
        return theory_tails.linreg_augment_skewness(gens, T=cfg.T, k=int(round(cfg.real_fraction * cfg.T)))
    if cfg.design == "shared":
        if cfg.regime == "augment" and not cfg.real_resample:
            from ...theory import linreg as theory_linreg

            return theory_linreg.conditional_augment_skewness(gens, *_shared_real_synthetic(cfg))
        if cfg.regime in ("replace", "accumulate"):
            weights = 1.0 / np.linalg.eigvalsh(_shared_gram(cfg))
            return np.full(gens.shape, theory_tails.gaussian_quadratic_form_skewness(weights))
        return np.full(gens.shape, np.sqrt(8.0))  # a quadratic form's skewness is at most sqrt(8)
    try:
        return theory_tails.linreg_test_error_skewness(gens, d=cfg.d, T=cfg.T, regime=cfg.regime, design=cfg.design)
    except ValueError:
        one_fit = theory_tails.linreg_test_error_skewness(
            np.ones(1), d=cfg.d, T=cfg.T, regime="replace", design="fixed"
        )
        return np.full(gens.shape, float(one_fit[0]))


def _shared_rows(cfg: Any) -> list[np.ndarray]:
    """The one design that ``design="shared"`` uses, as the sampler draws it, one array per part (float64).

    Under mix and augment the parts are the real rows ``0..k-1`` and the synthetic rows; the exact
    sampler draws each part's Gram factor ``F`` (``d x rows``), returned as ``F^T``: the same
    ``X_part^T X_part``, all that the laws depend on.
    """
    from ..engine.precision import float64

    key = _design_key(cfg, None)
    with float64():
        if cfg.sampler == "exact":
            if cfg.regime in ("mix", "augment"):
                parts = _parts(cfg, cfg.T)
                keys = jax.random.split(key, len(parts))
                return [
                    np.asarray(wishart_factor(k, r.size, cfg.d, cfg.dtype), np.float64).T
                    for k, r in zip(keys, parts, strict=True)
                ]
            return [np.asarray(bartlett_factor(key, cfg.T, cfg.d, cfg.dtype), np.float64).T]
        X = np.asarray(jax.random.normal(key, (cfg.T, cfg.d), dtype=cfg.dtype), np.float64)
        return [X[r.start : r.stop] for r in _parts(cfg, cfg.T)]


def _shared_real_synthetic(cfg: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(X_R, X_S)``: the shared design's real rows ``0..k-1`` and the others (mix, augment)."""
    k = int(round(cfg.real_fraction * cfg.T))
    X = dict(zip(((r.start, r.stop) for r in _parts(cfg, cfg.T)), _shared_rows(cfg), strict=True))
    empty = np.zeros((0, cfg.d))
    return X.get((0, k), empty), X.get((k, cfg.T), empty)


def _shared_gram(cfg: Any) -> np.ndarray:
    """``X^T X`` of the one design that ``design="shared"`` uses, as the sampler draws it (float64)."""
    return sum(X.T @ X for X in _shared_rows(cfg))


def shared_design_trace_inverse(cfg: Any) -> float:
    """``tr (X^T X)^{-1}`` of the one design that ``design="shared"`` uses, as the sampler draws it."""
    if cfg.design != "shared":
        raise ConfigError("only design='shared' has one design for every seed")
    return float(np.trace(np.linalg.inv(_shared_gram(cfg))))


def _no_closed_form(cfg) -> bool:
    if cfg.regime == "augment":
        # Derived: given the design (shared), and over Gaussian designs for d = 1 (fixed).
        return cfg.real_resample or not (cfg.design == "shared" or (cfg.design == "fixed" and cfg.d == 1))
    if extended(cfg):
        return extended_theory(cfg, np.ones(1))[1] is None
    return cfg.regime in ("accumulate-subsample", "mix") or (cfg.regime == "accumulate" and cfg.design == "fresh")


def theory(cfg: Any, generations: np.ndarray, convention: str = "fit") -> dict[str, np.ndarray | None]:
    """The predicted ``test_error`` curve for ``cfg`` (``None`` where no closed form exists).

    * replace, fixed or fresh design: ``sigma2 d n/(T-d-1)`` (a fresh design leaves the
      steps ``z_n`` independent with the same mean square, so the law is unchanged);
    * accumulate, fixed design: ``sigma2 d/(T-d-1) sum_{i<=n} 1/i^2``;
    * shared design: the conditional law given that ``X``;
    * augment (the first ``k = real_fraction T`` rows keep their real labels): given the design
      (shared), or over Gaussian designs for ``d = 1`` (fixed), both derived here
      (:mod:`model_collapse.theory.linreg_augment`);
    * accumulate with a fresh design, accumulate-subsample, mix, augment otherwise: no closed form here.
    """
    from ...theory import linreg as theory_linreg

    if extended(cfg):
        return {"test_error": extended_theory(cfg, generations)[0]}
    if _no_closed_form(cfg):
        return {"test_error": None}
    if cfg.regime == "augment":
        if cfg.design == "shared":
            X_R, X_S = _shared_real_synthetic(cfg)
            curve = theory_linreg.conditional_augment_test_error(generations, X_R, X_S, cfg.sigma2, convention)
            return {"test_error": curve}
        curve = theory_linreg.expected_augment_test_error(
            generations, cfg.d, cfg.T, cfg.sigma2, cfg.real_fraction, convention
        )
        return {"test_error": curve}
    if cfg.design == "shared":
        tr = shared_design_trace_inverse(cfg)
        curve = theory_linreg.conditional_test_error(generations, cfg.sigma2, tr, cfg.regime, convention)
    else:
        curve = theory_linreg.expected_test_error(generations, cfg.d, cfg.T, cfg.sigma2, cfg.regime, convention)
    return {"test_error": curve}


def target_vector(cfg: Any) -> np.ndarray | None:
    """``w*`` as the sampler sets it (``target_decay``), or ``None`` when it is random ``N(0, I/d)``."""
    if cfg.target_decay is None:
        return None
    w = np.arange(1, cfg.d + 1, dtype=np.float64) ** (-float(cfg.target_decay) / 2)
    return w / np.linalg.norm(w)


def shared_generator_gram(cfg: Any) -> np.ndarray:
    """``X^T X`` of the generators' one shared design (replace), as :meth:`LinReg.init` draws it (float64)."""
    from ..engine.precision import float64

    if cfg.design != "shared":
        raise ConfigError("only design='shared' has one design for every seed")
    key, rows, root = _design_key(cfg, None), gen_rows(cfg), np.sqrt(eigenvalues(cfg))
    with float64():
        if cfg.sampler == "exact":
            F = np.asarray(wishart_factor(jax.random.split(key, 1)[0], rows, cfg.d, cfg.dtype), np.float64)
            X = (root[:, None] * F).T
        else:
            X = np.asarray(jax.random.normal(key, (rows, cfg.d), dtype=cfg.dtype), np.float64) * root
    return X.T @ X


def shared_downstream(cfg: Any) -> tuple[np.ndarray, float]:
    """``(R, v)`` of the downstream model's one shared design, as :meth:`LinReg.init` draws it (float64)."""
    from ..engine.precision import float64

    with float64():
        R, v = downstream_operator(cfg, jax.random.fold_in(_design_key(cfg, None), 1))
        return np.asarray(R, np.float64), float(v)


def extended_theory(cfg: Any, generations: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """``(curve, kind)`` for a ridge, downstream or over-parameterised config (``(None, None)``: no law).

    * ``d > T`` rows, noiseless, fresh isotropic designs: ``E||w*||^2 (1 - (T/d)^n)``;
    * a ridge chain, one shared design: the law given ``X`` (:func:`ridge_chain_given_X`);
    * OLS generators and a downstream model: given both shared designs (exact), over
      designs with OLS downstream (Dohmatob et al.'s law, exact), or with a ridge
      downstream, the deterministic equivalent. ``n`` counts generator fits (their ``n``).
    """
    from ...theory import linreg_ridge as lr

    gens, eigs, w_star = np.asarray(generations), eigenvalues(cfg), target_vector(cfg)
    rows, noise = gen_rows(cfg), gen_noise(cfg)
    if rows < cfg.d and cfg.ridge0 == 0:
        ok = not cfg.downstream and cfg.design == "fresh" and cfg.spectrum == "isotropic" and noise == 0
        return (lr.overparameterised_error(gens, cfg.d, rows), "exact expectation") if ok else (None, None)
    if cfg.ridge0 > 0:
        if cfg.downstream or cfg.design != "shared":
            return None, None
        gram = shared_generator_gram(cfg)
        return lr.ridge_chain_given_X(gens, gram, eigs, noise, rows, cfg.ridge0, w_star), "exact expectation"
    if cfg.design == "shared":
        R, v = shared_downstream(cfg)
        cov = noise * np.linalg.inv(shared_generator_gram(cfg))
        return lr.downstream_given_X(gens, R, v, eigs, w_star, cov), "exact expectation"
    if cfg.ridge == 0:
        return lr.downstream_ols(gens, cfg.d, cfg.T, rows, cfg.sigma2, noise), "exact expectation"
    w2 = np.full(cfg.d, 1.0 / cfg.d) if w_star is None else w_star**2
    curve = lr.downstream_error_de(gens, cfg.ridge, eigs, w2, cfg.T, cfg.sigma2, rows, noise)
    return curve, "deterministic equivalent"
