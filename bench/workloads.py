"""The benchmark workloads (W1-W5) and their seed counts.

Each workload fixes a package config per sampler, the reference's parameters (the
same config), how many normals the *faithful* sampler must draw per seed (the
roofline's work), and how many seeds each measurement uses in ``--quick`` and full runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

__all__ = ["Workload", "WORKLOADS", "SKIPPED", "get_workload"]

SAMPLERS = ("exact", "faithful", "counts")


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    Attributes:
        name: the key reported in the JSON (``W1-replace``, ...).
        title: one line for the table.
        make_config: ``sampler -> config`` of :mod:`experiments`.
        faithful_draws: standard normals the faithful sampler draws per seed.
        exact_draws: ``(normals, gammas, gamma_shape)`` the exact sampler draws per seed
            (its own roofline; the gammas are the Bartlett diagonals' chi-squares).
        speedup_target: the exact sampler's target speedup over the reference.
        reference_seeds: ``{"quick": n, "full": n}`` seeds for the NumPy reference.
        package_seeds: ``{(mode, sampler): n}`` seeds for the timed package run.
        scaling_seeds: ``{mode: n}`` seeds for the exact sampler's second, package-only run,
            whose peak RSS is compared with the entry's (``None``: no such run).
        samplers: the samplers the workload runs with (accumulate-subsample: faithful only).
        faithful_speedup_target: a target for the faithful sampler's speedup (``None``: none).
    """

    name: str
    title: str
    make_config: Callable
    faithful_draws: int
    exact_draws: tuple
    speedup_target: float
    reference_seeds: dict
    package_seeds: dict
    scaling_seeds: dict
    samplers: tuple = SAMPLERS
    faithful_speedup_target: float | None = None


def _linreg(regime, T=1000):
    def make(sampler):
        from model_collapse.experiments import LinRegConfig

        return LinRegConfig(d=32, T=T, sigma2=1.0, generations=50, regime=regime, design="fixed", sampler=sampler)

    return make


def _gaussian(dim, M, generations, regime):
    def make(sampler):
        from model_collapse.experiments import GaussianConfig

        # estimator="mle": np.cov(..., bias=True), what the papers' public code computes.
        return GaussianConfig(
            dim=dim, M=M, sigma2=1.0, generations=generations, regime=regime, estimator="mle", sampler=sampler
        )

    return make


def _seeds(quick_exact, quick_faithful, full_exact, full_faithful):
    return {
        ("quick", "exact"): quick_exact,
        ("quick", "faithful"): quick_faithful,
        ("full", "exact"): full_exact,
        ("full", "faithful"): full_faithful,
    }


# Faithful draws per seed, fixed design: w* (d), X (T d), then T label noises per generation.
_W1_DRAWS = 32 + 1000 * 32 + 50 * 1000
# Exact, fixed design: one Bartlett factor (a d x d normal block, d chi-squares with about T/2
# as gamma shape), then d normals per generation.
_W1_EXACT = (32 * 32 + 50 * 32, 32, (1000 - 16) / 2)

WORKLOADS = (
    Workload(
        name="W1-replace",
        title="linear regression d=32 T=1000, 50 generations, replace (fixed design)",
        make_config=_linreg("replace"),
        faithful_draws=_W1_DRAWS,
        exact_draws=_W1_EXACT,
        speedup_target=100.0,
        reference_seeds={"quick": 3, "full": 10},
        package_seeds=_seeds(4096, 256, 10_000, 1024),
        scaling_seeds={"quick": 40_960, "full": 1_000_000},
    ),
    Workload(
        name="W1-accumulate",
        title="linear regression d=32 T=1000, 50 generations, accumulate (fixed design)",
        make_config=_linreg("accumulate"),
        faithful_draws=_W1_DRAWS,
        exact_draws=_W1_EXACT,
        speedup_target=1000.0,
        reference_seeds={"quick": 2, "full": 5},
        package_seeds=_seeds(4096, 256, 10_000, 1024),
        scaling_seeds={"quick": 40_960, "full": 1_000_000},
    ),
    Workload(
        name="W2",
        title="1-D Gaussian M=100, 1000 generations, replace (mle)",
        make_config=_gaussian(1, 100, 1000, "replace"),
        faithful_draws=1000 * 100,
        # Per generation: the mean (1 normal) and a 1 x 1 Bartlett factor (1 normal, 1 chi-square).
        exact_draws=(1000 * 2, 1000, 99 / 2),
        speedup_target=100.0,
        reference_seeds={"quick": 5, "full": 20},
        package_seeds=_seeds(1024, 256, 4096, 1024),
        scaling_seeds={"quick": 4_096, "full": 40_960},
    ),
    Workload(
        name="W3",
        title="Gaussian dim=10 M=100, 100 generations, accumulate (mle)",
        make_config=_gaussian(10, 100, 100, "accumulate"),
        faithful_draws=100 * 100 * 10,
        # Per generation: the mean (10 normals) and a 10 x 10 Bartlett factor (100 normals, 10 chi-squares).
        exact_draws=(100 * 110, 100 * 10, (99 - 4.5) / 2),
        speedup_target=100.0,
        reference_seeds={"quick": 5, "full": 20},
        package_seeds=_seeds(512, 256, 4096, 1024),
        scaling_seeds={"quick": 5_120, "full": 40_960},
    ),
)

# W5 is the papers' accumulate-subsample workload (Kazdan et al. 2024's code was timed on it, bench/papers.py).
_W5_DRAWS = 32 + 100 * 32 + 50 * 100

WORKLOADS = WORKLOADS + (
    Workload(
        name="W5-subsample",
        title="linear regression d=32 T=100, 50 generations, accumulate-subsample (fixed design)",
        make_config=_linreg("accumulate-subsample", T=100),
        faithful_draws=_W5_DRAWS,
        exact_draws=(0, 0, 1.0),  # no exact sampler: subsampling needs raw rows
        speedup_target=100.0,
        reference_seeds={"quick": 3, "full": 10},
        package_seeds=_seeds(None, 256, None, 1024),
        scaling_seeds={},
        samplers=("faithful",),
        faithful_speedup_target=20.0,  # 20x the papers' code (issue 14); the reference does what that code does
    ),
)


def _categorical(K, M, generations):
    def make(sampler):
        from model_collapse.experiments.models.categorical import CategoricalConfig

        return CategoricalConfig(K=K, M=M, init="zipf", zipf_a=1.1, generations=generations, regime="replace")

    return make


# W4 is the categorical model at K = M = 10^4 (issue 15's benchmark entry). Its one sampler draws the
# counts (M + 1 exponentials per generation); the roofline times as many standard normals.
WORKLOADS = WORKLOADS + (
    Workload(
        name="W4",
        title="categorical K=10^4 M=10^4 Zipf(1.1), 100 generations, replace (counts)",
        make_config=_categorical(10_000, 10_000, 100),
        faithful_draws=100 * (10_000 + 1),
        exact_draws=(0, 0, 1.0),
        speedup_target=1.0,
        reference_seeds={"quick": 3, "full": 10},
        package_seeds={("quick", "counts"): 64, ("full", "counts"): 512},
        scaling_seeds={},
        samplers=("counts",),
    ),
)

SKIPPED: dict[str, str] = {}


def get_workload(name: str) -> Workload:
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise KeyError(f"unknown workload {name!r}; choose one of: {', '.join(w.name for w in WORKLOADS)}")
