"""What the benchmark's driver and workers share: timers, the roofline, worker processes.

:mod:`bench.__main__` (the CPU benchmark against the NumPy reference) and
:mod:`bench.throughput` (seeds per second on an accelerator) both use these.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOFLINE_BLOCK = 64


def fmt(x, spec=".3g") -> str:
    """A table cell: ``-`` for a missing value."""
    return "-" if x is None else format(x, spec)


def log(*args) -> None:
    print("[bench]", *args, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


# --------------------------------------------------------------------------- worker side


def time_package(cfg, seeds: int, quantiles: bool = True) -> float:
    """Seconds for ``experiments.run`` on ``seeds`` seeds: with the default quantiles, or
    moments only (``quantiles=()``: per-generation means, standard errors and extremes,
    the reference's work of computing every seed's trajectory plus its mean)."""
    import model_collapse.experiments as experiments

    t = time.perf_counter()
    experiments.run(cfg, seeds, seed=0, progress=False, **({} if quantiles else {"quantiles": ()}))
    return time.perf_counter() - t


def roofline(normals: int, gammas: int, gamma_shape: float, seeds: int, dtype, block: int = ROOFLINE_BLOCK):
    """A timer of drawing ``normals`` normals (and ``gammas`` gammas) per seed for ``seeds`` seeds.

    Two formulations, in blocks of ``block`` seeds (64, the CPU's micro-batch; an
    accelerator's micro-batch in ``--throughput``): one key per seed, vmapped (as the runner
    keys its seeds), and one key per block drawing a ``(block, normals)`` array. Each
    timing takes the faster of the two. A sum per seed keeps XLA from dropping the
    draws; it fuses with them and costs little.
    """
    import jax
    import jax.numpy as jnp
    from model_collapse.experiments.models.samplers import gamma as exact_gamma

    def draws(key, shape):
        k_n, k_g = jax.random.split(key)
        total = jnp.sum(jax.random.normal(k_n, shape + (normals,), dtype), axis=-1)
        if gammas:  # the package's own exact gamma sampler (bulk Marsaglia-Tsang), as the exact sampler draws them
            a = jnp.full(shape + (gammas,), gamma_shape, dtype)
            total = total + jnp.sum(exact_gamma(k_g, a, dtype), axis=-1)
        return total

    per_seed = jax.jit(lambda base, idx: jax.vmap(lambda i: draws(jax.random.fold_in(base, i), ()))(idx))
    per_block = jax.jit(lambda base, b: draws(jax.random.fold_in(base, b), (block,)))
    base = jax.random.key(12345)
    blocks = max(1, -(-seeds // block))
    indices = [jnp.arange(b * block, (b + 1) * block, dtype=jnp.uint32) for b in range(blocks)]
    jax.block_until_ready((per_seed(base, indices[0]), per_block(base, 0)))  # compile both

    def timed() -> float:
        best = math.inf
        for call in (lambda b: per_seed(base, indices[b]), lambda b: per_block(base, b)):
            t = time.perf_counter()
            jax.block_until_ready([call(b) for b in range(blocks)])
            best = min(best, (time.perf_counter() - t) / (blocks * block))
        return best

    return timed


def spawn(kind: str, spec: dict, blas_threads: int, timeout: float | None = None) -> dict:
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(blas_threads)
    proc = subprocess.run(
        [sys.executable, "-m", "bench", f"--worker-{kind}", json.dumps(spec)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker {kind} {spec} failed with exit status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
