"""model_collapse.experiments.engine.linalg: one matrix per LAPACK call, with the batched calls' results.

The multi-device deadlock itself is reproduced end to end in ``test_devices.py`` (the
``gaussian32`` config hung on 2 devices of a 2-core machine without these wrappers).
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from model_collapse.experiments.engine import linalg


def _spd(key, shape, n):
    x = jax.random.normal(key, shape + (n, n))
    return x @ jnp.swapaxes(x, -1, -2) + n * jnp.eye(n)


def _cases():
    a = _spd(jax.random.key(0), (2, 3), 4)
    L = jnp.linalg.cholesky(a)
    b = jax.random.normal(jax.random.key(1), (2, 3, 4, 1))
    tall = jax.random.normal(jax.random.key(2), (7, 4))
    return {
        "cholesky": (linalg.cholesky, (a,)),
        "eigenvalues": (linalg.eigenvalues, (a,)),
        "cho_solve": (lambda L_, b_: linalg.cho_solve((L_, True), b_), (L, b)),
        "solve_triangular": (lambda L_, b_: linalg.solve_triangular(L_, b_, lower=True), (L, b)),
        "lstsq": (lambda A_, y_: linalg.lstsq(A_, y_), (tall, tall[:, 0] + 1.0)),
    }


@pytest.mark.parametrize("name", sorted(_cases()))
def test_one_matrix_per_call_gives_the_batched_bits(name):
    """Inside the context: the same values, bit for bit, with batch axes and under vmap."""
    f, args = _cases()[name]

    def both(g):
        plain = jax.jit(g)(*args)
        with linalg.one_matrix_per_call():
            serial = jax.jit(g)(*args)  # traced inside the context
        return np.asarray(plain), np.asarray(serial)

    plain, serial = both(f)
    np.testing.assert_array_equal(serial, plain)
    if name != "lstsq":  # lstsq takes one problem; the others also run under vmap
        plain, serial = both(jax.vmap(f))
        np.testing.assert_array_equal(serial, plain)


def test_lapack_gets_one_matrix_per_call_inside_the_context():
    """Every LAPACK custom call in the lowered program has an unbatched (n x n) operand."""
    a = _spd(jax.random.key(3), (5, 6), 4)

    def f(x):
        return linalg.eigenvalues(x) + jnp.sum(linalg.cholesky(x), axis=-1)

    def lapack_operands(text):
        return re.findall(r"custom_call @lapack_\w+\(%[\w#.]+\)[^\n]*: \(tensor<([\dx]+)xf", text)

    batched = lapack_operands(jax.jit(jax.vmap(f)).lower(a).as_text())
    with linalg.one_matrix_per_call():
        serial = lapack_operands(jax.jit(jax.vmap(f)).lower(a).as_text())
    assert batched and all(s.count("x") > 1 for s in batched), batched  # the check can see a batch
    assert serial and all(s == "4x4" for s in serial), serial
