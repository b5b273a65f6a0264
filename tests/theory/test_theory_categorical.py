"""The categorical model's conventions and moment laws: decoders by their stated rules, and every derived
moment (replace, accumulate, mix, augment, Seddik et al.'s partially synthetic chain) against a brute-force
enumeration of all multinomial outcomes at K = 3, M = 4 in exact fractions."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import categorical as cat

P0 = (Fraction(1, 2), Fraction(1, 3), Fraction(1, 6))
M, K, GENS = 4, 3, 3
SYM = cat.symbols()


# ---------------------------------------------------------------------------
# Brute force: exact distributions over fits, by enumerating multinomial outcomes.
# ---------------------------------------------------------------------------
def compositions(total: int, parts: int):
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(total - first, parts - 1):
            yield (first, *rest)


def multinomial(size: int, q):
    """{counts: probability} of Mult(size, q), q a tuple of Fractions."""
    out = {}
    for c in compositions(size, len(q)):
        pr = Fraction(math.factorial(size))
        for ci, qi in zip(c, q, strict=True):
            pr = pr / math.factorial(ci) * qi**ci
        if pr:
            out[c] = pr
    return out


def add(a, b):
    return tuple(x + y for x, y in zip(a, b, strict=True))


def enumerate_regime(regime: str, k: int = 0, gens: int = GENS, p0=P0, size: int = M):
    """[{state: prob}] for generations 1..gens; the fit of a state is ``fit(state)``.

    States: replace/mix: counts (fit = counts/M); accumulate: (pooled counts, n); augment: (kept r, counts).
    """
    out = []
    if regime in ("replace", "mix"):
        dist = {c: p for c, p in multinomial(size, p0).items()}
        out.append(dist)
        for _ in range(gens - 1):
            nxt = {}
            for c, pc in dist.items():
                q = tuple(Fraction(x, size) for x in c)
                real = multinomial(k, p0) if k else {(0,) * len(p0): Fraction(1)}
                for a, pa in real.items():
                    for b, pb in multinomial(size - k, q).items():
                        key = add(a, b)
                        nxt[key] = nxt.get(key, 0) + pc * pa * pb
            dist = nxt
            out.append(dist)
    elif regime == "accumulate":
        dist = {(c, 1): p for c, p in multinomial(size, p0).items()}
        out.append(dist)
        for _ in range(gens - 1):
            nxt = {}
            for (C, n), pc in dist.items():
                q = tuple(Fraction(x, n * size) for x in C)
                for c, p in multinomial(size, q).items():
                    key = (add(C, c), n + 1)
                    nxt[key] = nxt.get(key, 0) + pc * p
            dist = nxt
            out.append(dist)
    elif regime == "augment":
        dist = {}
        for r, pr in multinomial(k, p0).items():
            for b, pb in multinomial(size - k, p0).items():
                key = (r, add(r, b))
                dist[key] = dist.get(key, 0) + pr * pb
        out.append(dist)
        for _ in range(gens - 1):
            nxt = {}
            for (r, c), pc in dist.items():
                q = tuple(Fraction(x, size) for x in c)
                for b, pb in multinomial(size - k, q).items():
                    key = (r, add(r, b))
                    nxt[key] = nxt.get(key, 0) + pc * pb
            dist = nxt
            out.append(dist)
    return out


def fit(regime: str, state, size: int = M):
    if regime == "accumulate":
        C, n = state
        return tuple(Fraction(x, n * size) for x in C)
    if regime == "augment":
        return tuple(Fraction(x, size) for x in state[1])
    return tuple(Fraction(x, size) for x in state)


def expect(dist, regime, fn, size: int = M):
    return sum(p * fn(fit(regime, s, size)) for s, p in dist.items())


S0 = sum(p * p for p in P0)


def value(expr, **subs):
    """A derived expression at exact rational arguments."""
    table = {
        SYM[name]: sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v for name, v in subs.items()
    }
    return sp.nsimplify(sp.simplify(expr.subs(table)))


def as_fraction(x) -> Fraction:
    x = sp.Rational(x)
    return Fraction(int(x.p), int(x.q))


# ---------------------------------------------------------------------------
# Moments against enumeration, in exact arithmetic.
# ---------------------------------------------------------------------------
def test_multinomial_moments_are_those_of_the_enumerated_multinomial():
    mm = cat.multinomial_moments()
    dist = multinomial(M, P0)
    q_i, q_j = sp.Symbol("q_i", positive=True), sp.Symbol("q_j", positive=True)
    at = {SYM["M"]: M, q_i: sp.Rational(1, 2), q_j: sp.Rational(1, 3)}
    assert as_fraction(mm["mean"].subs(at)) == sum(p * c[0] for c, p in dist.items())
    assert as_fraction(mm["square"].subs(at)) == sum(p * c[0] ** 2 for c, p in dist.items())
    assert as_fraction(mm["cross"].subs(at)) == sum(p * c[0] * c[1] for c, p in dist.items())


@pytest.mark.parametrize("regime", ["replace", "accumulate"])
def test_mean_and_covariance_equal_the_enumeration(regime):
    d = cat.replace_derivation() if regime == "replace" else cat.accumulate_derivation()
    for n, dist in enumerate(enumerate_regime(regime), start=1):
        factor = as_fraction(value(d["covariance_factor"], M=M, n=n))
        for i, j in itertools.product(range(K), repeat=2):
            mean_i = expect(dist, regime, lambda p: p[i])
            assert mean_i == P0[i]
            cov = expect(dist, regime, lambda p: p[i] * p[j]) - P0[i] * P0[j]
            want = ((P0[i] if i == j else 0) - P0[i] * P0[j]) * factor
            assert cov == want, (regime, n, i, j)
        if regime == "replace":
            second = value(d["second_moment"], M=M, n=n, pi_i=P0[0])
            assert as_fraction(second) == expect(dist, regime, lambda p: p[0] ** 2)
        numeric = cat.expected_covariance(regime, n, np.array([float(x) for x in P0]), M)
        exact = np.array(
            [[float(expect(dist, regime, lambda p: p[a] * p[b]) - P0[a] * P0[b]) for b in range(K)] for a in range(K)]
        )
        np.testing.assert_allclose(numeric, exact, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("regime", "k"),
    [("replace", 0), ("accumulate", 0), ("mix", 1), ("mix", 2), ("augment", 1), ("augment", 2), ("augment", 4)],
)
def test_expected_gini_equals_the_enumeration(regime, k):
    p0 = np.array([float(x) for x in P0])
    numeric = cat.expected_gini(regime, np.arange(GENS + 1), p0, M, k / M)
    assert numeric[0] == pytest.approx(1 - float(S0), rel=1e-14)
    derivation = {
        "replace": cat.replace_derivation,
        "accumulate": cat.accumulate_derivation,
        "mix": cat.mix_derivation,
        "augment": cat.augment_derivation,
    }[regime]()
    for n, dist in enumerate(enumerate_regime(regime, k), start=1):
        exact = 1 - expect(dist, regime, lambda p: sum(x * x for x in p))
        if regime in ("replace", "accumulate"):
            closed = value(derivation["gini"], M=M, n=n, G_0=1 - S0)
        else:
            closed = 1 - value(derivation["sum_sq"], M=M, n=n, k=k, S_0=S0)
        assert as_fraction(closed) == exact, (regime, k, n)
        assert numeric[n] == pytest.approx(float(exact), rel=1e-12)


def test_augment_cross_moment_equals_the_enumeration():
    """V_n = E sum_i r_i p_{n,i}: the kept samples' correlation with the fit, which makes augment a 2x2 system."""
    d = cat.augment_derivation()
    k = 2
    for n, dist in enumerate(enumerate_regime("augment", k), start=1):
        exact = sum(p * sum(ri * Fraction(ci, M) for ri, ci in zip(r, c, strict=True)) for (r, c), p in dist.items())
        assert as_fraction(value(d["cross"], M=M, n=n, k=k, S_0=S0)) == exact


@pytest.mark.parametrize("regime", ["mix", "augment"])
def test_stationary_points_are_fixed_points_and_limits(regime):
    p0 = cat.initial_distribution(20, "zipf", 1.1)
    for M_, k in ((50, 10), (50, 1), (7, 3)):
        g = cat.stationary_gini(regime, p0, M_, k / M_)
        far = cat.expected_gini(regime, [2000, 2001], p0, M_, k / M_)
        assert far == pytest.approx([g, g], rel=1e-9, abs=1e-12)
    assert cat.stationary_gini(regime, p0, 50, 0.0) == 0.0
    if regime == "augment":  # one kept sample: the chain fixes on its category
        assert cat.stationary_gini("augment", p0, 50, 1 / 50) == pytest.approx(0.0, abs=1e-12)


def test_accumulate_limit_and_product_closed_form():
    d = cat.accumulate_derivation()
    x = sp.Symbol("x", positive=True)
    for Mv in (3, 10, 1000):
        p0 = cat.initial_distribution(5)
        limit = cat.stationary_gini("accumulate", p0, Mv)
        assert limit == pytest.approx(0.8 * math.sin(math.pi / math.sqrt(Mv)) / (math.pi / math.sqrt(Mv)), rel=1e-13)
        far = cat.expected_gini("accumulate", 10**6, p0, Mv)
        assert far == pytest.approx(limit, rel=2 / (10**6 * Mv))
        for n in (1, 2, 7):  # the rising-factorial closed form equals the product of one-step factors
            closed = d["gini"].subs({SYM["G_0"]: 1, SYM["M"]: Mv, SYM["n"]: n})
            prod = math.prod(1 - 1 / (kk**2 * Mv) for kk in range(1, n + 1))
            assert float(closed) == pytest.approx(prod, rel=1e-13)
    assert d["gini_limit"].subs(SYM["M"], x**-2).simplify() == SYM["G_0"] * sp.sin(sp.pi * x) / (sp.pi * x)
    assert cat.expected_gini("accumulate-subsample", [1, 2], cat.initial_distribution(3), 4) is None


# ---------------------------------------------------------------------------
# Seddik et al. 2024's partially synthetic chain, in their convention, and the sign in their eq. (9).
# ---------------------------------------------------------------------------
def enumerate_seddik(N: int, n_syn: int, gens: int):
    """Their generation 1 = fit on N real; generation m: the same N plus n_syn from generation m - 1."""
    out = []
    dist = {(r, r): p for r, p in multinomial(N, P0).items()}  # (kept r, counts of the current fit)
    sizes = [N]
    out.append({s: p for s, p in dist.items()})
    for _ in range(gens - 1):
        nxt = {}
        for (r, c), pc in dist.items():
            q = tuple(Fraction(x, sizes[-1]) for x in c)
            for b, pb in multinomial(n_syn, q).items():
                key = (r, add(r, b))
                nxt[key] = nxt.get(key, 0) + pc * pb
        dist = nxt
        sizes.append(N + n_syn)
        out.append(dist)
    return [(d, s) for d, s in zip(out, sizes, strict=True)]


def test_seddik_partial_synthetic_closed_form_and_the_sign_of_eq9():
    N, n_syn = 3, 2
    d = cat.seddik_partial_derivation()
    sub = {SYM["N"]: N, SYM["n_s"]: n_syn, SYM["S_0"]: sp.Rational(S0.numerator, S0.denominator)}
    exact = []
    for m, (dist, size) in enumerate(enumerate_seddik(N, n_syn, 4), start=1):
        e = sum(p * sum(Fraction(x, size) ** 2 for x in c) for (_, c), p in dist.items())
        exact.append(e)
        assert as_fraction(sp.simplify(d["sum_sq"].subs({**sub, SYM["m"]: m}))) == e
        assert cat.seddik_partial_sum_sq(m, float(S0), N, n_syn) == pytest.approx(float(e), rel=1e-12)
    for m in range(0, 3):  # eq. (9) gives S_{m+1}
        plus = as_fraction(sp.simplify(d["eq9"][1].subs({**sub, SYM["m"]: m})))
        minus = as_fraction(sp.simplify(d["eq9"][-1].subs({**sub, SYM["m"]: m})))
        assert plus == exact[m]
        assert minus != exact[m]
        assert cat.seddik_eq9(m, float(S0), N, n_syn, +1) == pytest.approx(float(exact[m]), rel=1e-12)
        alpha, beta = n_syn / (N + n_syn), n_syn * (n_syn - 1) / (N + n_syn) ** 2
        offset = 2 * (1 - 1 / N) * float(S0) * alpha * beta**m / (N * (1 + (1 + 1 / N) * alpha))
        gap = cat.seddik_eq9(m, float(S0), N, n_syn, -1) - float(exact[m])
        assert gap == pytest.approx(-offset, rel=1e-9) and offset > 1e-5
    assert d["eq9_minus_derived"][1] == 0 and d["eq9_minus_derived"][-1] != 0


def test_our_augment_differs_from_seddik_only_in_generation_one():
    """Our augment (k kept, m synthetic) from generation 2 on is their chain with N = k, n = m, other start."""
    k, m = 2, 2
    ours = enumerate_regime("augment", k)
    theirs = enumerate_seddik(k, m, GENS)
    first_ours = expect(ours[0], "augment", lambda p: sum(x * x for x in p))
    first_theirs = sum(p * sum(Fraction(x, k) ** 2 for x in c) for (_, c), p in theirs[0][0].items())
    assert first_ours == 1 / Fraction(M) + (1 - 1 / Fraction(M)) * S0  # all M real
    assert first_theirs == 1 / Fraction(k) + (1 - 1 / Fraction(k)) * S0  # the k real alone
    assert first_ours != first_theirs


# ---------------------------------------------------------------------------
# Distributions, tail set and decoders: the stated conventions.
# ---------------------------------------------------------------------------
def test_initial_distribution_and_bad_input():
    np.testing.assert_allclose(cat.initial_distribution(4), 0.25)
    z = cat.initial_distribution(5, "zipf", 2.0)
    np.testing.assert_allclose(z * np.sum(np.arange(1, 6) ** -2.0), np.arange(1, 6) ** -2.0, rtol=1e-14)
    for bad in (dict(K=1), dict(K=3, init="zipf", zipf_a=0.0), dict(K=3, init="other"), dict(K=2.5)):
        with pytest.raises(ValueError):
            cat.initial_distribution(**bad)


def test_tail_set_order_ties_and_tolerance():
    mask = cat.tail_set(np.full(20, 0.05))
    assert mask.nonzero()[0].tolist() == [18, 19]  # equal p0: the higher index first
    assert cat.tail_set(np.full(10, 0.1)).nonzero()[0].tolist() == [9]
    assert cat.tail_set(np.full(30, 1 / 30)).nonzero()[0].tolist() == [27, 28, 29]  # 3/30 = 0.1 within round-off
    z = cat.initial_distribution(1000, "zipf", 1.1)
    t = cat.tail_set(z)
    assert t[-1] and not t[0] and z[t].sum() <= 0.1 + 1e-12 and z[t].sum() + z[~t].min() > 0.1
    assert np.array_equal(t.nonzero()[0], np.arange(1000 - t.sum(), 1000))


def test_decoder_conventions():
    p = np.array([0.25, 0.5, 0.25, 0.0])
    np.testing.assert_array_equal(cat.decode(p, top_k=1), [0, 1, 0, 0])
    np.testing.assert_array_equal(cat.decode(p, top_k=2), [1 / 3, 2 / 3, 0, 0])  # tie: the lower index kept
    np.testing.assert_array_equal(cat.decode(p, top_p=0.5), [0, 1, 0, 0])  # mass before the 2nd is 0.5, not < 0.5
    np.testing.assert_array_equal(cat.decode(p, top_p=0.5 + 1e-9), [1 / 3, 2 / 3, 0, 0])
    np.testing.assert_array_equal(cat.decode(p, top_p=1.0), p)  # the zero is never kept
    np.testing.assert_array_equal(cat.decode(np.array([0.3, 0.3, 0.4]), greedy=True), [0, 0, 1])
    np.testing.assert_array_equal(cat.decode(np.array([0.4, 0.4, 0.2]), greedy=True), [1, 0, 0])  # tie: lowest index
    hot = cat.decode(p, temperature=0.5)
    assert hot[3] == 0 and hot == pytest.approx(p**2 / np.sum(p**2))
    # order: temperature, then top-k, then top-p, then greedy
    q = np.array([0.1, 0.2, 0.3, 0.4])
    step = cat.decode(cat.decode(cat.decode(q, temperature=2.0), top_k=3), top_p=0.6)
    np.testing.assert_allclose(cat.decode(q, temperature=2.0, top_k=3, top_p=0.6), step, rtol=1e-15)
    batch = np.stack([p, q, np.array([0.0, 0.0, 1.0, 0.0])])
    for kw in (dict(temperature=0.7), dict(top_k=2), dict(top_p=0.55), dict(greedy=True), dict(top_k=3, top_p=0.9)):
        np.testing.assert_array_equal(cat.decode(batch, **kw), np.stack([cat.decode(r, **kw) for r in batch]))
    for bad in (dict(temperature=0), dict(top_k=0), dict(top_k=5), dict(top_p=0.0), dict(top_p=1.5)):
        with pytest.raises(ValueError):
            cat.decode(q, **bad)
    with pytest.raises(ValueError):
        cat.decode(np.array([0.5, 0.6]))


def test_temperature_iteration_is_the_power_map_and_its_limits():
    p0 = cat.initial_distribution(6, "zipf", 1.0)
    for tau in (0.8, 1.3):
        for n in (1, 3, 10):
            np.testing.assert_allclose(
                cat.decode_iterate(p0, n, temperature=tau), cat.temperature_power(p0, tau, n), rtol=1e-12
            )
    cold, steps = cat.decode_limit(p0, temperature=0.7)
    assert cold[0] == pytest.approx(1.0) and steps > 1
    warm, _ = cat.decode_limit(p0, temperature=1.5)
    np.testing.assert_allclose(warm, 1 / 6, rtol=1e-12)
    tie = np.array([0.4, 0.4, 0.2])
    np.testing.assert_allclose(cat.temperature_power(tie, 0.5, 60), [0.5, 0.5, 0.0], atol=1e-12)


def test_top_k_and_greedy_fix_in_one_step_and_top_p_at_the_largest_stable_prefix():
    rng = np.random.default_rng(0)
    p0 = cat.initial_distribution(12, "zipf", 1.1)
    q, steps = cat.decode_limit(p0, top_k=4)
    assert steps == 1 and np.count_nonzero(q) == 4
    q, steps = cat.decode_limit(p0, greedy=True)
    assert steps == 1 and q[0] == 1
    assert cat.decode_limit(p0)[1] == 0
    for _ in range(20):
        p = np.sort(rng.dirichlet(np.full(15, 0.7)))[::-1]
        top_p = float(rng.uniform(0.3, 0.99))
        q, steps = cat.decode_limit(p, top_p=top_p)
        cum = np.cumsum(p)
        # independently: the largest prefix S (sorted descending) whose last element has p/P(S) > 1 - top_p
        size = max(s for s in range(1, 16) if p[s - 1] / cum[s - 1] > 1 - top_p)
        assert np.count_nonzero(q) == size
        np.testing.assert_allclose(q[:size], p[:size] / cum[size - 1], rtol=1e-12)
        assert steps >= (size < 15)


def test_importing_the_subpackage_imports_neither_sympy_nor_jax():
    code = (
        "import sys\n"
        "import model_collapse.theory.categorical as c\n"
        "assert 'sympy' not in sys.modules and 'jax' not in sys.modules\n"
        "c.decode(c.initial_distribution(4), top_p=0.5)\n"
        "c.survival_probability(0.25, 8, [1, 2])\n"
        "assert 'sympy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_one_decoded_step_tends_to_the_decoder_limit_as_M_grows():
    """``E decode(p_1) - decode(p0)``, exact by enumeration, shrinks with ``M``: like ``1/M`` for
    temperature (a smooth map: ``M`` times the gap converges), faster than any power for top-k and
    top-p once ``p_1`` rarely crosses the decision boundary (slowly at first here: ``p0_0 = 0.567``
    lies 0.033 below top-p's 0.6)."""
    from model_collapse.theory.categorical.one_step import expected_decoded_fit

    p0 = cat.initial_distribution(3, "zipf", 1.1)

    def gap(M, **decoding):
        return float(np.abs(expected_decoded_fit(p0, M, **decoding) - cat.decode(p0, **decoding)).max())

    for tau in (0.7, 1.5):
        scaled = [M * gap(M, temperature=tau) for M in (20, 80, 160)]
        assert scaled[2] == pytest.approx(scaled[1], rel=0.02) and scaled[2] > 0.1
        assert gap(160, temperature=tau) < gap(20, temperature=tau) / 7
    for decoding in (dict(top_k=2), dict(top_p=0.6)):
        gaps = [gap(M, **decoding) for M in (20, 80, 320, 640)]
        assert all(b < a for a, b in zip(gaps, gaps[1:], strict=False)) and gaps[-1] < gaps[0] / 8, gaps
