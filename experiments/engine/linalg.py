"""Dense linear algebra for the simulators, safe on several CPU devices at once.

jaxlib 0.10's CPU LAPACK kernels (Cholesky, eigenvalues, SVD, LU, ...) split a batch
of matrices over XLA's intra-op thread pool and then block until every part is done
(``jax::ParallelBatchMap``). The pool has one thread per core, and a program sharded
over several simulated CPU devices (``jax_num_cpu_devices``) runs one partition per
pool thread. With as many devices as cores, every pool thread can sit in such a
kernel waiting for parts that no free thread is left to run: the program hangs
forever (seen here: a 10-dimensional Gaussian on 2 devices of a 2-core machine, with
every ``tf_XLAEigen`` thread in ``BlockingCounter::Wait`` under ``lapack_dsyevd_ffi``).

Inside :func:`one_matrix_per_call`, which the runner enters while it traces any
program for CPU devices, every function here hands LAPACK a single matrix per call,
in a loop over the batch (and over ``vmap``'s batch, through
:func:`jax.custom_batching.sequential_vmap`). A batch of one is never split, so no
pool thread waits on another. The runner does this on one CPU device as well: a
program whose LAPACK calls are batched fuses the surrounding arithmetic differently,
which moved results by an ulp, and a seed's trajectory must not depend on the device
count. Measured on 2 cores (W1 and W3 of ``bench/``, one device): the per-matrix calls
are no slower for linear regression (the batched kernels' thread hand-offs cost more
than the 32 x 32 solves they share out) and about 10% slower for the 10-dimensional
Gaussian's eigenvalues. Outside the context (an accelerator, or a direct call) these
are the plain :mod:`jax.numpy` and :mod:`jax.scipy` calls.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import linalg as jsl

__all__ = [
    "one_matrix_per_call",
    "cholesky",
    "cho_solve",
    "solve_triangular",
    "lstsq",
    "lstsq_where",
    "eigenvalues",
    "weighted_grams",
]

_ONE_AT_A_TIME = contextvars.ContextVar("one_matrix_per_call", default=False)


@contextlib.contextmanager
def one_matrix_per_call(enabled: bool = True) -> Iterator[None]:
    """While tracing inside this context, LAPACK gets one matrix per call (see the module docstring)."""
    token = _ONE_AT_A_TIME.set(bool(enabled))
    try:
        yield
    finally:
        _ONE_AT_A_TIME.reset(token)


def _per_matrix(f, args, core_ranks):
    """``f`` on arrays whose last ``core_ranks[i]`` axes are one problem, one problem per call when asked."""
    if not _ONE_AT_A_TIME.get():
        return f(*args)
    args = [jnp.asarray(a) for a in args]
    batch = jnp.broadcast_shapes(*(a.shape[: a.ndim - k] for a, k in zip(args, core_ranks, strict=True)))
    g = jax.custom_batching.sequential_vmap(f)
    if not batch:
        return g(*args)
    size = int(np.prod(batch))
    flat = [
        jnp.broadcast_to(a, batch + a.shape[a.ndim - k :]).reshape((size,) + a.shape[a.ndim - k :])
        for a, k in zip(args, core_ranks, strict=True)
    ]
    out = jax.vmap(g)(*flat)
    return jax.tree.map(lambda o: o.reshape(batch + o.shape[1:]), out)


def cholesky(a: jax.Array) -> jax.Array:
    """Lower Cholesky factors of ``(..., n, n)`` symmetric positive-definite matrices."""
    return _per_matrix(jnp.linalg.cholesky, (a,), (2,))


def _solve_ranks(a, b):
    """Core ranks of ``(a, b)`` in ``a x = b``: ``b`` has ``a``'s batch axes, then one vector or ``(n, k)``."""
    return 2, jnp.ndim(b) - (jnp.ndim(a) - 2)


def cho_solve(factor: tuple[jax.Array, bool], b: jax.Array) -> jax.Array:
    """``A^{-1} b`` from ``factor = (L, True)`` with ``A = L L^T`` (``b``: one vector or ``(n, k)``)."""
    L, lower = factor
    return _per_matrix(lambda L_, b_: jsl.cho_solve((L_, lower), b_), (L, b), _solve_ranks(L, b))


def solve_triangular(a: jax.Array, b: jax.Array, lower: bool) -> jax.Array:
    """``a^{-1} b`` for a triangular ``a``."""
    return _per_matrix(lambda a_, b_: jsl.solve_triangular(a_, b_, lower=lower), (a, b), _solve_ranks(a, b))


def lstsq(a: jax.Array, b: jax.Array) -> jax.Array:
    """Minimum-norm least-squares solution of ``a x = b`` (one problem)."""
    return _per_matrix(lambda a_, b_: jnp.linalg.lstsq(a_, b_)[0], (a, b), (2, jnp.ndim(b)))


def _lapack_eigenvalues(a):
    """Eigenvalues of symmetric matrices by LAPACK ``syevd`` without eigenvectors (CPU only).

    ``jnp.linalg.eigvalsh`` always asks LAPACK for the eigenvectors too, which doubles
    its cost on small matrices; this calls the same LAPACK routine with ``jobz = 'N'``.
    """
    from jax._src.lib import lapack

    target = lapack.prepare_lapack_call("syevd_ffi", a.dtype)
    batch, n = a.shape[:-2], a.shape[-1]
    call = jax.ffi.ffi_call(
        target,
        (
            jax.ShapeDtypeStruct(a.shape, a.dtype),
            jax.ShapeDtypeStruct(batch + (n,), a.dtype),
            jax.ShapeDtypeStruct(batch, jnp.int32),
        ),
        input_output_aliases={0: 0},
        vmap_method="broadcast_all",
    )
    _, w, info = call(a, mode=np.uint8(ord("N")), uplo=np.uint8(ord("L")))
    return jnp.where((info == 0)[..., None], w, jnp.nan)


def _eigenvalues(a):
    if a.dtype not in (jnp.float32, jnp.float64):
        return jnp.linalg.eigvalsh(a)
    try:
        return jax.lax.platform_dependent(a, cpu=_lapack_eigenvalues, default=jnp.linalg.eigvalsh)
    except (ImportError, AttributeError):  # a JAX without this private LAPACK binding
        return jnp.linalg.eigvalsh(a)


def eigenvalues(a: jax.Array) -> jax.Array:
    """Eigenvalues (ascending) of ``(..., n, n)`` symmetric matrices: LAPACK without eigenvectors on the CPU."""
    return _per_matrix(_eigenvalues, (a,), (2,))


def weighted_grams(a: jax.Array, weights: jax.Array) -> jax.Array:
    """``a^T diag(w) a`` for every row ``w`` of ``weights`` (``(G, T)``, ``a``: ``(T, d)``): ``(G, d, d)``.

    One ``(G d) x T`` by ``T x d`` matrix product instead of ``G`` small ones (which XLA's
    CPU backend runs several times slower), with no gather (slow there too).
    """
    (T, d), G = a.shape, weights.shape[0]
    stacked = jax.lax.optimization_barrier((weights[:, None, :] * a.T[None]).reshape(G * d, T))
    return (stacked @ a).reshape(G, d, d)


def lstsq_where(bad: jax.Array, x: jax.Array, a: jax.Array, b: jax.Array) -> jax.Array:
    """``x``, or the minimum-norm least-squares solution of ``a y = b`` where ``bad``: computed only if needed.

    A ``while_loop`` that runs once when ``bad`` (under ``vmap``: when any entry is bad) and
    not at all otherwise; an optimisation barrier keeps XLA from hoisting the solve, whose
    inputs do not change in the loop, out of it (which would run it every time).
    """

    def solve(state):
        flag, a_, b_ = jax.lax.optimization_barrier((state[0], a, b))
        return jnp.zeros_like(flag), jnp.where(flag, lstsq(a_, b_), state[1])

    return jax.lax.while_loop(lambda state: state[0], solve, (bad, x))[1]
