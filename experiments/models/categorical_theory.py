"""The categorical model's predicted curves, from :mod:`model_collapse.theory.categorical`.

Without a decoder (temperature 1, no top-k, top-p or greedy) the curves are exact:

* ``gini_simpson``: :func:`~model_collapse.theory.categorical.expected_gini` (replace,
  accumulate, mix, augment; derived in SymPy from the multinomial's one-step moments);
* ``p_mode`` and ``tail_mass``: their value at the start, in every regime (counts over ``M``
  are unbiased and a uniform subsample is too, so ``E p_n = p0``: a martingale);
* ``support``, ``fixed_on_mode`` and ``absorbed``: from the two-type Wright-Fisher chain of
  each category's count (replace, mix, augment; exact for ``M`` up to :data:`CHAIN_MAX_M`),
  and under accumulate from generation 1 alone (a pooled count never returns to 0);
* ``downstream_T*``: under replace, the exact expectation from the same chain.

With a decoder the curves are the infinite-sample path (``M -> oo``), labelled
``"approximation"``: generation 1 is ``p0`` and each later generation the regime's pooling of
``decode`` of the previous one (replace: ``decode(p_{n-1})``; mix and augment: ``f p0 + (1 - f)
decode(p_{n-1})``; accumulate and accumulate-subsample: ``((n-1) p_{n-1} + decode(p_{n-1}))/n``),
with every metric evaluated on that path; except greedy under replace, whose generation ``n >= 2``
is a point mass at any ``M`` (``absorbed`` = 1 exactly). Curation (``curate > 1``) is treated as a
decoder: ``decode`` is followed by the kept sample's law among ``curate`` candidates (:func:`curated_law`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["CHAIN_MAX_M", "decoded", "decoder", "limit_path", "theory", "theory_kinds", "truth"]

CHAIN_MAX_M = 2000  # the (M+1) x (M+1) chain: ~0.1 s per generation at this size
_CHAIN_REGIMES = ("replace", "mix", "augment")


def truth(cfg: Any) -> np.ndarray:
    """``p0`` of ``cfg``."""
    from ...theory.categorical import initial_distribution

    return initial_distribution(cfg.K, cfg.init, cfg.zipf_a)


def decoded(cfg: Any) -> bool:
    """Whether ``cfg`` decodes (or curates, :mod:`.curation`) its synthetic samples at all."""
    return cfg.temperature != 1.0 or cfg.top_k is not None or cfg.top_p < 1.0 or cfg.greedy or cfg.curate > 1


def decoder(cfg: Any) -> dict[str, Any]:
    """``cfg``'s decoder as keyword arguments of :func:`model_collapse.theory.categorical.decode`."""
    return dict(
        temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p if cfg.top_p < 1 else None, greedy=cfg.greedy
    )


def curated_law(cfg: Any, q: np.ndarray) -> np.ndarray:
    """A sample kept among ``cfg.curate`` candidates from ``q``: its law (:func:`~...theory.curation.luce_map`)."""
    from ...theory.curation import luce_map
    from .curation import reward_vector

    return luce_map(q, reward_vector(cfg), cfg.curate)


def limit_path(cfg: Any, generations: int) -> np.ndarray:
    """The infinite-sample path ``p_1 .. p_G`` of ``cfg`` (``(G, K)``), decoders included."""
    from ...theory.categorical import decode

    p0 = truth(cfg)
    f = cfg.real_fraction if cfg.regime in ("mix", "augment") else 0.0
    path = np.empty((generations, cfg.K))
    p = p0
    for n in range(1, generations + 1):
        if n > 1:
            q = decode(p, **decoder(cfg))
            if cfg.curate > 1:  # the kept sample's law among curate candidates (theory.curation.luce_map)
                q = curated_law(cfg, q)
            if cfg.regime in ("accumulate", "accumulate-subsample"):
                p = ((n - 1) * p + q) / n
            else:
                p = f * p0 + (1 - f) * q
        path[n - 1] = p
    return path


def _zeroes_categories(cfg: Any) -> bool:
    return cfg.top_k is not None or cfg.top_p < 1.0 or cfg.greedy


def path_metrics(cfg: Any, path: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of the deterministic path ``path`` (generations by ``K``) of ``cfg``'s truth.

    ``support`` counts the categories the decoders keep: a temperature never zeroes a positive
    probability, while its float path ``p0^(tau^-n)`` underflows within tens of generations below
    ``tau = 1``, so under a temperature alone the support is ``supp p0`` at every ``n``; top-k,
    top-p and greedy zero categories exactly, and their zeros are counted.
    """
    from ...theory.categorical import decode, downstream_error_given, tail_set
    from .categorical import DOWNSTREAM_T

    p0 = truth(cfg)
    tail = tail_set(p0)
    positive = path > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(positive, path * np.log(np.where(positive, path, 1.0)), 0.0)
    q = decode(path, **decoder(cfg))
    out = {
        "gini_simpson": 1.0 - np.sum(path**2, axis=1),
        "entropy": -plogp.sum(axis=1),
        "support": positive.sum(axis=1).astype(np.float64)
        if _zeroes_categories(cfg)
        else np.full(path.shape[0], float(np.count_nonzero(p0))),
        "tail_mass": path[:, tail].sum(axis=1),
        "tv": 0.5 * np.abs(path - p0).sum(axis=1),
        "max_prob": path.max(axis=1),
        "absorbed": (path.max(axis=1) == 1.0).astype(np.float64),
        "p_mode": path[:, 0],
        "fixed_on_mode": (path[:, 0] == 1.0).astype(np.float64),
    }
    for T in DOWNSTREAM_T:
        out[f"downstream_T{T}"] = np.array([downstream_error_given(row, p0, T) for row in q], np.float64).reshape(-1)
    return out


def _exact(cfg: Any, n: np.ndarray) -> dict[str, np.ndarray | None]:
    from ...theory import categorical as tc
    from .categorical import DOWNSTREAM_T, METRICS

    p0 = truth(cfg)
    out: dict[str, np.ndarray | None] = dict.fromkeys(METRICS)
    rf = cfg.real_fraction if cfg.regime in ("mix", "augment") else None
    ones = np.ones(n.shape)
    out["p_mode"] = p0[0] * ones
    out["tail_mass"] = p0[tc.tail_set(p0)].sum() * ones
    if cfg.regime == "accumulate-subsample":
        return out
    out["gini_simpson"] = np.asarray(tc.expected_gini(cfg.regime, n, p0, cfg.M, rf), np.float64)
    chain = cfg.regime == "accumulate" or (cfg.regime in _CHAIN_REGIMES and cfg.M <= CHAIN_MAX_M)
    if chain and n.size:
        out["support"] = np.asarray(tc.expected_support(p0, cfg.M, n, cfg.regime, rf), np.float64)
        out["fixed_on_mode"] = np.asarray(tc.fixation_probability_at(p0[0], cfg.M, n, cfg.regime, rf), np.float64)
        out["absorbed"] = np.asarray(tc.absorption_probability(p0, cfg.M, n, cfg.regime, rf), np.float64)
        if cfg.regime == "replace":
            table = tc.expected_downstream_error(p0, cfg.M, n, np.asarray(DOWNSTREAM_T))
            for j, T in enumerate(DOWNSTREAM_T):
                out[f"downstream_T{T}"] = table[:, j]
    return out


def theory(cfg: Any, generations: np.ndarray, convention: str = "fit") -> dict[str, np.ndarray | None]:
    """Predicted curve per metric for ``cfg`` at ``generations`` (``None`` where there is none)."""
    from .config import ConfigError

    if convention not in ("fit", "downstream"):
        raise ConfigError(f"unknown convention {convention!r}; choose one of: fit, downstream")
    n = np.asarray(generations, np.int64) + (1 if convention == "downstream" else 0)
    if n.size and n.min() < 1:
        raise ConfigError("generations start at 1 (the fit on real data)")
    if not decoded(cfg):
        return _exact(cfg, n)
    top = int(n.max()) if n.size else 1
    metrics = path_metrics(cfg, limit_path(cfg, top))
    out = {name: values[n - 1] for name, values in metrics.items()}
    if cfg.greedy and cfg.regime == "replace" and n.size:
        from ...theory import categorical as tc

        first = tc.absorption_probability(truth(cfg), cfg.M, [1]) if cfg.M <= CHAIN_MAX_M else np.array([np.nan])
        out["absorbed"] = np.where(n == 1, first[0], 1.0)
    return out


def theory_kinds(cfg: Any) -> dict[str, str | None]:
    """What each curve of :func:`theory` is (see the module docstring)."""
    from .categorical import METRICS

    curves = theory(cfg, np.array([1]))
    if decoded(cfg):
        return {m: "approximation" for m in METRICS}
    return {m: (None if curves[m] is None else "exact expectation") for m in METRICS}
