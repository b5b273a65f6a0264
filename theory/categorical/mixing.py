r"""Real data in the loop: mix (fresh real samples) and augment (the same real samples), derived in SymPy.

Conventions of the model (generation 0 is :math:`p_0`; generation 1 the fit on ``M`` real samples;
:math:`k = fM` real and :math:`m = M - k` synthetic samples per generation :math:`n \ge 2`):

* mix (:func:`mix_derivation`): :math:`p_n = (a_n + b_n)/M` with fresh
  :math:`a_n \sim \operatorname{Mult}(k, p_0)` and :math:`b_n \sim \operatorname{Mult}(m, p_{n-1})`.
  Generation 1 is one such step from :math:`p_0` (``M`` real samples), so the recursion starts at
  :math:`S_0 = \sum p_0^2`. For :math:`S_n = E\sum_i p_{n,i}^2`:
  :math:`S_n = \rho S_{n-1} + (1 + (k(2M - k) - k) S_0 / M)/M`, :math:`\rho = m(m-1)/M^2`, solved
  in closed form and with the stationary point :math:`S_\infty` (derived here; the fixed-count form of
  the mean-reverting Wright-Fisher chain).
* augment (:func:`augment_derivation`): the same :math:`r \sim \operatorname{Mult}(k, p_0)` every
  generation, :math:`p_n = (r + b_n)/M`; generation 1 is :math:`r` plus :math:`m` other fresh real
  samples, again one step from :math:`p_0`. The kept samples are correlated with every later fit, so
  :math:`S_n` closes only together with :math:`V_n = E\sum_i r_i p_{n,i}`:
  :math:`V_n = (R_2 + m V_{n-1})/M`, :math:`S_n = (R_2 + 2mV_{n-1} + m + m(m-1) S_{n-1})/M^2`,
  :math:`R_2 = E\sum r_i^2 = k(k-1)S_0 + k`, :math:`V_0 = kS_0`: a triangular 2x2 system with rates
  :math:`m/M` and :math:`m(m-1)/M^2`, solved by SymPy's matrix power (derived here).
* Seddik et al. 2024 (COLM), *How Bad is Training on Synthetic Data?*, Thm 2, in **their**
  convention (:func:`seddik_partial_derivation`): generation 1 is fit on the ``N`` real samples
  alone, generation :math:`m \ge 2` on the same ``N`` plus ``n`` synthetic from generation
  :math:`m - 1`. There :math:`E\sum_i r_i p^{(m)}_i = R_2/N` at every ``m`` (shown here), so the
  recursion is scalar, :math:`S_m = S_\infty + \beta^{m-1}(S_1 - S_\infty)` with
  :math:`\beta = n(n-1)/(N+n)^2`. Their printed eq. (9) for :math:`S_{m+1}` is compared term by term
  (:func:`seddik_eq9`): it agrees with the derivation only with a **plus** sign before the last
  :math:`\alpha\beta^m/N` term.

Our augment at generation :math:`n \ge 2` is their chain with ``N = k``, ``n = M - k``, but from a
different generation 1 (ours is fit on all ``M`` real samples), so the two closed forms differ.
"""

from __future__ import annotations

from ..frozen import frozen
from .moments import _close, _moments_for, _solve_scalar, _sum_over_categories, _sym, _zero

__all__ = ["augment_derivation", "mix_derivation", "seddik_partial_derivation"]


def _ksyms():
    import sympy as sp

    s = _sym()
    return s, sp.Symbol("k", nonnegative=True), s["M"]


@frozen()
def mix_derivation() -> dict[str, object]:
    r"""Mix with ``k`` fresh real samples: the exact recursion for :math:`S_n = E\sum p_{n,i}^2`, solved.

    One step, given :math:`p_{n-1}` (entries :math:`a`): :math:`E p_{n,i} = (k\pi_i + m a_i)/M` and
    :math:`E p_{n,i}^2 = (E a'^2 + 2 E a' E b' + E b'^2)/M^2` with :math:`a' \sim
    \operatorname{Bin}(k, \pi_i)` and :math:`b' \sim \operatorname{Bin}(m, a_i)` independent
    (:func:`~.moments.multinomial_moments`). :math:`E p_n = p_0` (the mean map fixes it), so the cross
    term :math:`E[\pi_i a_i] = \pi_i^2`; summing over ``i`` (:math:`\sum \pi_i = 1`,
    :math:`\sum\pi_i^2 = S_0`) gives the scalar recursion, solved by ``rsolve``.

    Returns:
        dict ``rate`` (:math:`\rho = m(m-1)/M^2`), ``constant``, ``sum_sq`` (:math:`S_n = S_\infty
        + \rho^n (S_0 - S_\infty)`, checked against ``rsolve``), ``stationary`` (:math:`S_\infty`),
        ``stationary_gini``, and ``edges`` (``k = 0``: replace; ``k = M``: :math:`1/M + (1 - 1/M)S_0` at
        every :math:`n \ge 1`), all in ``k``, ``M``.
    """
    import sympy as sp

    s, k, M = _ksyms()
    n, pi, S0 = s["n"], s["pi"], s["S0"]
    m = M - k
    a, b = sp.symbols("a b", positive=True)
    m_, s_, x_ = sp.symbols("m s x")
    mono = {a: m_, a**2: s_, a * b: x_}
    real, synth = _moments_for(k, pi, pi), _moments_for(m, a, b)
    mean_step = _close((real["mean"] + synth["mean"]) / M, mono)
    assert _zero(mean_step.subs(m_, pi) - pi)  # E p_n = p_0 is a fixed point of the mean map
    square = _close((real["square"] + 2 * real["mean"] * synth["mean"] + synth["square"]) / M**2, mono)
    square = square.subs(m_, pi)  # E a_i = pi_i
    rate = sp.factor(square.coeff(s_))
    const = _sum_over_categories(sp.expand(square - rate * s_), pi)
    assert _zero(rate - m * (m - 1) / M**2)
    assert _zero(const - (1 / M + (k * (2 * M - k) - k) * S0 / M**2))
    stationary = sp.factor(const / (1 - rate))
    sum_sq = stationary + rate**n * (S0 - stationary)
    assert _zero(_solve_scalar(rate, const, S0, n) - sum_sq)
    edges = {
        "k=0 (replace)": _zero(sum_sq.subs(k, 0) - (1 - (1 - S0) * (1 - 1 / M) ** n)),
        "k=M (fresh)": _zero(sum_sq.subs(k, M).subs(n, n + 1) - (1 / M + (1 - 1 / M) * S0)),
    }
    assert all(edges.values()), edges
    return {
        "rate": rate,
        "constant": const,
        "sum_sq": sum_sq,
        "stationary": stationary,
        "stationary_gini": sp.factor(1 - stationary),
        "edges": edges,
    }


@frozen()
def augment_derivation() -> dict[str, object]:
    r"""Augment with the same ``k`` real samples kept: :math:`(S_n, V_n)`, exactly, in closed form.

    One step, given the kept counts :math:`r` and :math:`p_{n-1}` (entries :math:`a`):
    :math:`p_n = (r + b)/M`, :math:`b \sim \operatorname{Mult}(m, p_{n-1})`, so
    :math:`E[p_{n,i}^2 \mid \cdot] = (r_i^2 + 2 m r_i a_i + E b_i^2)/M^2` and
    :math:`E[r_i p_{n,i} \mid \cdot] = (r_i^2 + m r_i a_i)/M`: linear in :math:`E r_i^2`,
    :math:`E r_i a_i`, :math:`E a_i^2`, :math:`E a_i`. :math:`E p_n = p_0`; at generation 0
    :math:`p_0` is fixed and :math:`r` independent of it, so :math:`V_0 = kS_0`. The system
    :math:`x_n = A x_{n-1} + c` for :math:`x = (S, V)` is solved as
    :math:`x_n = x^* + A^n (x_0 - x^*)` with SymPy's symbolic matrix power (checked against the
    recursion by substitution).

    Returns:
        dict ``A``, ``c``, ``rates`` (the eigenvalues of ``A``), ``sum_sq_terms`` (the coefficient of
        each ``rate^n`` in :math:`S_n`), ``sum_sq`` (:math:`S_n = S_\infty + \sum` coefficient
        :math:`\times` rate\ :sup:`n`), ``cross`` (:math:`V_n`), ``stationary``
        (:math:`S_\infty`), ``stationary_gini``, ``stationary_cross`` (:math:`V^* = R_2/k`) and
        ``edges`` (``k = 0`` is replace).
    """
    import sympy as sp

    s, k, M = _ksyms()
    n, pi, S0 = s["n"], s["pi"], s["S0"]
    m = M - k
    r, a, b = sp.symbols("r a b", positive=True)
    mr2, mra, ma2, ma = sp.symbols("E_r2 E_ra E_a2 E_a")
    mono = {r**2: mr2, r * a: mra, a**2: ma2, a: ma}
    synth = _moments_for(m, a, b)
    real = _moments_for(k, pi, pi)
    mean_step = _close((real["mean"] + synth["mean"]) / M, {a: ma})  # E p_n = (E r + m E p_{n-1})/M
    assert _zero(mean_step.subs(ma, pi) - pi)  # E p_n = p_0 is a fixed point of the mean map
    sq = _close((r**2 + 2 * r * synth["mean"] + synth["square"]) / M**2, mono)
    cr = _close((r**2 + r * synth["mean"]) / M, mono)
    sub = {mr2: real["square"], ma: pi}
    S, V = sp.symbols("S V")

    def summed(expr):
        expr = sp.expand(expr.subs(sub))
        return sp.expand(
            expr.coeff(ma2) * S + expr.coeff(mra) * V + _sum_over_categories(expr.subs({ma2: 0, mra: 0}), pi)
        )

    rows = [summed(sq), summed(cr)]
    A = sp.Matrix([[row.coeff(x) for x in (S, V)] for row in rows]).applyfunc(sp.factor)
    c = sp.Matrix([row.subs({S: 0, V: 0}) for row in rows]).applyfunc(sp.factor)
    assert A[1, 0] == 0 and _zero(A[1, 1] - m / M) and _zero(A[0, 0] - m * (m - 1) / M**2)
    x0 = sp.Matrix([S0, k * S0])
    star = (sp.eye(2) - A).LUsolve(c).applyfunc(sp.factor)
    P, D = A.diagonalize()
    rates = [sp.factor(D[i, i]) for i in range(2)]
    weights = (P.inv() * (x0 - star)).applyfunc(sp.factor)
    # x_n = x* + sum_i rate_i^n weight_i P[:, i]; the coefficient of each rate^n in S_n and V_n
    terms = [(P[:, i] * weights[i]).applyfunc(sp.factor) for i in range(2)]
    xn = star + sum((terms[i] * rates[i] ** n for i in range(2)), sp.zeros(2, 1))
    # check with L_i standing for rate_i^n: n = 0 is L_i = 1, one step multiplies L_i by rate_i
    Ls = sp.symbols("L1 L2")
    x_of = lambda L: star + terms[0] * L[0] + terms[1] * L[1]
    assert all(_zero(e) for e in x_of((1, 1)) - x0)
    stepped = x_of((Ls[0] * rates[0], Ls[1] * rates[1])) - A * x_of(Ls) - c
    assert all(_zero(e) for e in stepped)
    R2 = k * (k - 1) * S0 + k
    assert _zero(star[1] - R2 / k)
    edges = {"k=0 (replace)": _zero(xn[0].subs(k, 0) - (1 - (1 - S0) * (1 - 1 / M) ** n))}
    assert all(edges.values()), edges
    return {
        "A": A,
        "c": c,
        "rates": tuple(rates),
        "sum_sq_terms": tuple(t[0] for t in terms),
        "sum_sq": xn[0],
        "cross": xn[1],
        "stationary": star[0],
        "stationary_gini": sp.factor(1 - star[0]),
        "stationary_cross": star[1],
        "edges": edges,
    }


@frozen()
def seddik_partial_derivation() -> dict[str, object]:
    r"""Seddik et al. 2024's partially synthetic chain, derived in their convention; eq. (9) both ways.

    Generation 1: :math:`p^{(1)} = r/N`, :math:`r \sim \operatorname{Mult}(N, p)`; generation
    :math:`m \ge 2`: :math:`p^{(m)} = (r + b)/(N+n)`, :math:`b \sim \operatorname{Mult}(n, p^{(m-1)})`.
    :math:`W_m = E\sum_i r_i p^{(m)}_i` satisfies :math:`W_m = (R_2 + nW_{m-1})/(N+n)` with
    :math:`W_1 = R_2/N`, so :math:`W_m = R_2/N` for all ``m`` (asserted); then
    :math:`S_m = \beta S_{m-1} + (1 + 2n/N) R_2/(N+n)^2 + n/(N+n)^2`, whose solution is
    :math:`S_\infty + \beta^{m-1}(S_1 - S_\infty)` (checked by substitution), :math:`\beta = n(n-1)/(N+n)^2
    = \alpha((1 + 1/N)\alpha - 1/N)`, :math:`\alpha = n/(N+n)` (asserted). Their Thm 2's per-category
    recursion coefficients :math:`(1-\alpha)(1+2\alpha)/N` and :math:`(1-1/N)(1-\alpha^2)` are checked.

    Returns:
        dict ``beta``, ``alpha``, ``sum_sq`` (:math:`S_m`, :math:`m \ge 1`), ``stationary``,
        ``first`` (:math:`S_1`), ``eq9`` (``{+1: ..., -1: ...}``: their printed
        :math:`S_{m+1}` with each sign of the last :math:`\alpha\beta^m/N` term) and ``eq9_minus_derived``
        (``{+1: 0, -1: 2(1 - 1/N)S_0\alpha\beta^m/(ND)}``).
    """
    import sympy as sp

    s = _sym()
    S0, pi = s["S0"], s["pi"]
    N, nn = sp.symbols("N n_s", positive=True)
    mg = sp.Symbol("m", integer=True, positive=True)
    L = N + nn
    alpha = nn / L
    beta = sp.factor(nn * (nn - 1) / L**2)
    assert _zero(beta - alpha * ((1 + 1 / N) * alpha - 1 / N))
    real = _moments_for(N, pi, pi)
    R2 = _sum_over_categories(real["square"], pi)
    W1 = R2 / N
    assert _zero((R2 + nn * W1) / L - W1)  # W_m = R2/N for every m
    # per-category recursion nu_m = E p_i^(m)2, with E r_i p_i^(m-1) = E r_i^2 / N
    a = sp.Symbol("a", positive=True)
    synth = _moments_for(nn, a, a)
    nu_prev = sp.Symbol("nu_prev")
    nu = (real["square"] + 2 * nn * real["square"] / N + _close(synth["square"], {a**2: nu_prev, a: pi})) / L**2
    nu = sp.expand(nu)
    assert _zero(nu.coeff(nu_prev) - beta)
    const = nu.subs(nu_prev, 0)
    paper_const = (1 - alpha) * (1 + 2 * alpha) * pi / N + (1 - 1 / N) * (1 - alpha**2) * pi**2
    assert _zero(const - paper_const)
    S1 = sp.expand(R2 / N**2)
    assert _zero(S1 - (1 / N + (1 - 1 / N) * S0))
    const_sum = _sum_over_categories(const, pi)
    stationary = sp.factor(const_sum / (1 - beta))
    # S_m = S_inf + B (S_1 - S_inf) with B standing for beta^(m-1): m = 1 is B = 1, a step multiplies B by beta
    B = sp.Symbol("B", positive=True)
    S_of = lambda b: stationary + b * (S1 - stationary)
    assert _zero(S_of(1) - S1)
    assert _zero(S_of(B * beta) - beta * S_of(B) - const_sum)
    sum_sq = S_of(beta ** (mg - 1))
    D = 1 + (1 + 1 / N) * alpha
    assert _zero(stationary - ((1 + 2 * alpha) / N + (1 - 1 / N) * (1 + alpha) * S0) / D)
    # their eq. (9) for S_{m+1}, with b = beta^m, against the derived S_{m+1} = S_inf + b (S_1 - S_inf)
    eq9_of = lambda b, sign: (
        (1 + 2 * alpha - (1 - 1 / N) * alpha * b) / (N * D) + (1 - 1 / N) * S0 * (1 + alpha + sign * alpha * b / N) / D
    )
    diff = {sign: sp.factor(sp.cancel(sp.together(eq9_of(B, sign) - S_of(B)))) for sign in (1, -1)}
    assert diff[1] == 0 and _zero(diff[-1] + 2 * (1 - 1 / N) * S0 * alpha * B / (N * D))
    bm = beta**mg
    eq9 = {sign: eq9_of(bm, sign) for sign in (1, -1)}
    diff = {sign: d.subs(B, bm) for sign, d in diff.items()}
    return {
        "alpha": alpha,
        "beta": beta,
        "sum_sq": sum_sq,
        "stationary": stationary,
        "first": S1,
        "eq9": eq9,
        "eq9_minus_derived": diff,
    }
