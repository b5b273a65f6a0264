r"""Moments of the categorical refit under replace and accumulate, derived in SymPy from one multinomial step.

The one-step fact everything here starts from (:func:`multinomial_moments`): counts
:math:`c \sim \operatorname{Mult}(M, q)` have :math:`E c = Mq` and
:math:`\operatorname{Cov} c = M(\operatorname{diag} q - q q^T)`, derived from the probability
generating function :math:`(\sum_i q_i s_i)^M` (for one or two categories the others merge into one,
so the result holds for every ``K``). Each regime's conditional moments of the next fit are then
polynomials of degree at most 2 in the current fit; SymPy checks that they close linearly in
:math:`E p_i`, :math:`E p_i^2`, :math:`E p_i p_j` and solves the recursion, starting from
generation 0 = :math:`p_0` itself (generation 1 is the fit on ``M`` real samples, i.e. one step from
:math:`p_0`: in every regime below the first step has that distribution).

* replace (:func:`replace_derivation`): :math:`E p_n = p_0`,
  :math:`\operatorname{Cov} p_n = (\operatorname{diag} p_0 - p_0 p_0^T)(1 - (1-1/M)^n)` and
  :math:`E G_n = G_0 (1 - 1/M)^n` for the Gini-Simpson index :math:`G = 1 - \sum_i p_i^2`:
  Wright-Fisher resampling; Seddik et al. 2024 (COLM), Thm 1 (their :math:`S_m = 1 - (1 - 1/n)^m
  (1 - S_0)`, their ``n`` our ``M`` and their ``m`` our ``n``).
* accumulate (:func:`accumulate_derivation`): the pooled fit :math:`p_n = (c_1 + \dots + c_n)/(nM)`
  is a martingale with :math:`E[G_n \mid p_{n-1}] = (1 - 1/(n^2 M)) G_{n-1}`, so
  :math:`E G_n = G_0 \prod_{k \le n} (1 - 1/(k^2 M))`, in closed form
  :math:`G_0 (1 - x)_n (1 + x)_n / n!^2` with :math:`x = M^{-1/2}` (rising factorials), whose
  limit is :math:`G_0 \sin(\pi x)/(\pi x)` (SymPy's ``product``, ``limit`` and ``gammasimp``);
  derived here (the accumulating-data literature, Gerstgrasser et al. 2024, states the bounded-error
  conclusion for Gaussian and regression models, not this product).

SymPy is imported inside the derivations only; the results are frozen in
:mod:`model_collapse.theory._derived` (:mod:`model_collapse.theory.frozen`).
"""

from __future__ import annotations

from ..frozen import frozen

__all__ = ["accumulate_derivation", "multinomial_moments", "replace_derivation", "symbols"]


def _sym():
    import sympy as sp

    return {
        "M": sp.Symbol("M", positive=True),
        "n": sp.Symbol("n", integer=True, nonnegative=True),
        "k": sp.Symbol("k", integer=True, positive=True),
        "qi": sp.Symbol("q_i", positive=True),
        "qj": sp.Symbol("q_j", positive=True),
        "pi": sp.Symbol("pi_i", positive=True),
        "pj": sp.Symbol("pi_j", positive=True),
        "S0": sp.Symbol("S_0", positive=True),
        "G0": sp.Symbol("G_0", positive=True),
    }


def symbols() -> dict[str, object]:
    r"""The SymPy symbols of the derivations, by name: ``M``, ``n`` (generation), ``k`` (real samples per
    generation, in :mod:`.mixing`), ``pi_i``, ``pi_j`` (:math:`p_{0,i}`, :math:`p_{0,j}`), ``S_0``
    (:math:`\sum p_0^2`), ``G_0`` (:math:`1 - S_0`), and for Seddik et al.'s chain ``N``, ``n_s``
    (real and synthetic sample counts) and ``m`` (their generation)."""
    import sympy as sp

    s = _sym()
    return {
        "M": s["M"],
        "n": s["n"],
        "k": sp.Symbol("k", nonnegative=True),
        "pi_i": s["pi"],
        "pi_j": s["pj"],
        "S_0": s["S0"],
        "G_0": s["G0"],
        "N": sp.Symbol("N", positive=True),
        "n_s": sp.Symbol("n_s", positive=True),
        "m": sp.Symbol("m", integer=True, positive=True),
    }


@frozen()
def multinomial_moments() -> dict[str, object]:
    r"""First and second moments of :math:`c \sim \operatorname{Mult}(M, q)`, from the generating function.

    With :math:`G(s_i, s_j) = (q_i s_i + q_j s_j + 1 - q_i - q_j)^M` (all other categories merged),
    :math:`E c_i = \partial_i G`, :math:`E c_i(c_i - 1) = \partial_i^2 G`,
    :math:`E c_i c_j = \partial_i \partial_j G` at :math:`s = 1`. SymPy finds
    :math:`E c_i = M q_i`, :math:`E c_i^2 = M(M-1) q_i^2 + M q_i`, :math:`E c_i c_j = M(M-1) q_i q_j`,
    i.e. :math:`\operatorname{Cov} c = M(\operatorname{diag} q - q q^T)` (asserted).

    Returns:
        dict ``mean``, ``square``, ``cross`` (SymPy expressions in ``M``, ``q_i``, ``q_j``).
    """
    import sympy as sp

    s = _sym()
    M, qi, qj = s["M"], s["qi"], s["qj"]
    si, sj = sp.symbols("s_i s_j", positive=True)
    G = (qi * si + qj * sj + 1 - qi - qj) ** M
    at1 = {si: 1, sj: 1}
    mean = sp.simplify(sp.diff(G, si).subs(at1))
    square = sp.expand(sp.simplify(sp.diff(G, si, 2).subs(at1)) + mean)
    cross = sp.expand(sp.simplify(sp.diff(G, si, sj).subs(at1)))
    assert _zero(square - mean**2 - M * qi * (1 - qi))
    assert _zero(cross - mean * mean.subs(qi, qj) + M * qi * qj)
    return {"mean": mean, "square": square, "cross": cross}


def _moments_for(size, qi, qj):
    """The multinomial moments for ``size`` draws from a distribution with entries ``qi``, ``qj``."""
    s = _sym()
    mm = multinomial_moments()
    sub = {s["M"]: size, s["qi"]: qi, s["qj"]: qj}
    return {key: mm[key].subs(sub, simultaneous=True) for key in ("mean", "square", "cross")}


def _close(expr, monomials: dict):
    """Rewrite a polynomial in the current fit as a linear form in moment symbols (asserts closure)."""
    import sympy as sp

    variables = sorted({v for mono in monomials for v in mono.free_symbols}, key=str)
    poly = sp.Poly(sp.expand(expr), *variables)
    out = sp.Integer(0)
    for powers, coeff in poly.terms():
        mono = sp.Mul(*[v**e for v, e in zip(variables, powers, strict=True)])
        if mono == 1:
            out += coeff
            continue
        assert mono in monomials, f"moment recursion does not close: {mono}"
        out += coeff * monomials[mono]
    return sp.expand(out)


def _solve_scalar(a, b, x0, n):
    """``x_n`` with ``x_n = a x_{n-1} + b``, ``x_0`` (``rsolve``; checked by substitution)."""
    import sympy as sp

    x = sp.Function("x")
    sol = sp.rsolve(x(n + 1) - a * x(n) - b, x(n), {x(0): x0})
    assert _zero(sol.subs(n, 0) - x0)
    assert _zero(sol.subs(n, n + 1) - a * sol - b)
    return sol


def _zero(expr) -> bool:
    """``expr == 0`` as SymPy can show it: ``cancel`` first (rational functions, fast), else ``simplify`` with
    powers of products split (``(ab)^n = a^n b^n``, valid here: every base is positive)."""
    import sympy as sp

    if sp.cancel(sp.together(expr)) == 0:
        return True
    return sp.simplify(sp.expand_power_base(sp.simplify(expr), force=True)) == 0


def _sum_over_categories(expr, pi):
    """``sum_i expr`` for ``expr`` linear in ``pi_i`` and ``pi_i^2``: ``pi_i -> 1``, ``pi_i^2 -> S_0``."""
    import sympy as sp

    S0 = _sym()["S0"]
    poly = sp.Poly(sp.expand(expr), pi)
    assert poly.degree() <= 2 and poly.coeff_monomial(1) == 0
    return sp.expand(poly.coeff_monomial(pi**2) * S0 + poly.coeff_monomial(pi))


def _gini(sum_sq):
    s = _sym()
    return sum_sq.subs(s["S0"], 1 - s["G0"])


@frozen()
def replace_derivation() -> dict[str, object]:
    r"""Replace: :math:`p_n = c_n/M`, :math:`c_n \mid p_{n-1} \sim \operatorname{Mult}(M, p_{n-1})`.

    One step, by :func:`multinomial_moments` with :math:`q = p_{n-1}`:
    :math:`E[p_{n,i} \mid p_{n-1}] = p_{n-1,i}`,
    :math:`E[p_{n,i}^2 \mid \cdot] = (1 - 1/M) p_{n-1,i}^2 + p_{n-1,i}/M`,
    :math:`E[p_{n,i} p_{n,j} \mid \cdot] = (1 - 1/M) p_{n-1,i} p_{n-1,j}`; solved by ``rsolve`` from
    :math:`p_0` (Wright-Fisher; Seddik et al. 2024, Thm 1).

    Returns:
        dict ``step`` (the three one-step maps as linear forms in the moment symbols ``m``, ``s``,
        ``x``), ``second_moment`` (:math:`E p_{n,i}^2`), ``cross_moment`` (:math:`E p_{n,i} p_{n,j}`),
        ``covariance_factor`` (:math:`1 - (1 - 1/M)^n`: ``Cov p_n`` over
        :math:`\operatorname{diag} p_0 - p_0 p_0^T`, asserted entrywise), ``sum_sq``
        (:math:`E \sum_i p_{n,i}^2` in :math:`S_0 = \sum p_0^2`) and ``gini``
        (:math:`E G_n = G_0 (1 - 1/M)^n`, asserted).
    """
    import sympy as sp

    s = _sym()
    M, n, pi, pj = s["M"], s["n"], s["pi"], s["pj"]
    # the current fit's entries and the moment symbols they close in
    a, b = sp.symbols("a b", positive=True)
    m_, s_, x_ = sp.symbols("m s x")
    mono = {a: m_, a**2: s_, a * b: x_}
    mom = _moments_for(M, a, b)
    step = {
        "mean": _close(mom["mean"] / M, mono),
        "square": _close(mom["square"] / M**2, mono),
        "cross": _close(mom["cross"] / M**2, mono),
    }
    assert step["mean"] == m_
    rate = step["square"].coeff(s_)
    assert _zero(rate - step["cross"].coeff(x_)) and step["cross"].coeff(m_) == 0
    second = _solve_scalar(rate, step["square"].coeff(m_) * pi, pi**2, n)
    cross = _solve_scalar(rate, 0, pi * pj, n)
    factor = 1 - (1 - 1 / M) ** n
    assert _zero(second - pi**2 - pi * (1 - pi) * factor)
    assert _zero(cross - pi * pj + pi * pj * factor)
    sum_sq = _sum_over_categories(second, pi)
    gini = sp.simplify(_gini(1 - sum_sq))
    assert _zero(gini - s["G0"] * (1 - 1 / M) ** n)
    return {
        "step": step,
        "second_moment": sp.factor(second),
        "cross_moment": sp.factor(cross),
        "covariance_factor": factor,
        "sum_sq": sum_sq,
        "gini": s["G0"] * (1 - 1 / M) ** n,
    }


@frozen()
def accumulate_derivation() -> dict[str, object]:
    r"""Accumulate: :math:`p_n = ((n-1) p_{n-1} + c_n/M)/n`, :math:`c_n \sim \operatorname{Mult}(M, p_{n-1})`.

    The pooled fit of :math:`nM` samples is the previous pooled fit, weight :math:`(n-1)/n`, plus the
    new batch's. One step (``n`` symbolic): :math:`E[p_{n,i} \mid \cdot] = p_{n-1,i}` and
    :math:`E[p_{n,i}^2 \mid \cdot] = p_{n-1,i}^2 + p_{n-1,i}(1 - p_{n-1,i})/(n^2 M)`, so
    :math:`E G_n = (1 - 1/(n^2M)) E G_{n-1}` and the same factor multiplies the covariance:
    :math:`\operatorname{Cov} p_n = (\operatorname{diag} p_0 - p_0p_0^T)(1 - \prod_{k \le n}(1 - 1/(k^2M)))`.
    ``product`` gives :math:`(1-x)_n (1+x)_n / n!^2`, :math:`x = M^{-1/2}`, and ``limit`` with
    ``gammasimp`` :math:`\sin(\pi x)/(\pi x)` (derived here).

    Returns:
        dict ``step`` (one-step maps in ``m``, ``s``, ``x`` at generation ``n``), ``factor``
        (:math:`1 - 1/(n^2M)`), ``gini_product`` (the unevaluated :math:`G_0\prod_{k=1}^n`),
        ``gini`` (its closed form), ``covariance_factor`` and ``gini_limit``
        (:math:`G_0 \sin(\pi/\sqrt M)/(\pi/\sqrt M)`).
    """
    import sympy as sp

    s = _sym()
    M, n, k = s["M"], s["n"], s["k"]
    npos = sp.Symbol("n", integer=True, positive=True)
    a, b = sp.symbols("a b", positive=True)
    m_, s_, x_ = sp.symbols("m s x")
    mono = {a: m_, a**2: s_, a * b: x_}
    mom = _moments_for(M, a, b)
    w = (npos - 1) / npos  # weight of the previous pooled fit
    step = {
        "mean": _close(w * a + mom["mean"] / (npos * M), mono),
        "square": _close(w**2 * a**2 + 2 * w * a * mom["mean"] / (npos * M) + mom["square"] / (npos * M) ** 2, mono),
        "cross": _close(
            w**2 * a * b
            + w * (a * mom["mean"].subs(a, b) + b * mom["mean"]) / (npos * M)
            + mom["cross"] / (npos * M) ** 2,
            mono,
        ),
    }
    assert _zero(step["mean"] - m_)
    factor = sp.factor(step["square"].coeff(s_))
    assert _zero(factor - (1 - 1 / (npos**2 * M)))
    assert _zero(step["cross"].coeff(x_) - factor) and _zero(step["square"].coeff(m_) - (1 - factor))
    # E sum p^2: S_n = f_n S_{n-1} + (1 - f_n), i.e. G_n = f_n G_{n-1}
    S_prev = sp.Symbol("S_prev")
    S_next = sp.expand(factor * S_prev + step["square"].coeff(m_))
    assert _zero((1 - S_next) - factor * (1 - S_prev))
    product = sp.Product(factor.subs(npos, k), (k, 1, n))
    closed = product.doit()
    for nv in range(4):
        assert _zero(closed.subs(n, nv) - product.subs(n, nv).doit())
    xs = sp.Symbol("x", positive=True)  # x = M^(-1/2): SymPy takes the limit in x much faster than in M
    limit = sp.gammasimp(sp.limit(closed.subs(M, xs**-2), n, sp.oo)).subs(xs, 1 / sp.sqrt(M))
    assert _zero(limit - sp.sin(sp.pi / sp.sqrt(M)) / (sp.pi / sp.sqrt(M)))
    G0 = s["G0"]
    return {
        "step": step,
        "factor": factor,
        "gini_product": G0 * product,
        "gini": G0 * closed,
        "covariance_factor": 1 - closed,
        "gini_limit": G0 * limit,
    }
