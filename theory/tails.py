"""Tails of the Monte Carlo estimators: where a z-score on the mean means something.

A check compares the mean of ``N`` seeds with a law through the Studentized mean
``z = (mean - law) / sem`` and reads a tail probability off the normal distribution.
By the one-term Edgeworth expansion of the Studentized mean (Hall, *The Bootstrap and
Edgeworth Expansion*, 1992, Sec. 2.6, its ``q_1``; Hall 1987, Ann. Probab. 15), for a
metric of skewness ``gamma``::

    P(z <= x) = Phi(x) + gamma / (6 sqrt(N)) (2 x^2 + 1) phi(x) + O(1/N),

so ``P(z < -x) = Phi(-x) + e`` and ``P(z > x) = Phi(-x) - e`` with
``e = gamma (2 x^2 + 1) phi(x) / (6 sqrt(N))``. The Studentized mean is skewed *against*
the data: for positively skewed data the **lower** tail inflates and the upper one
thins (chi-square(1) data, ``N = 20``: ``P(z > 2) = 0.005`` and ``P(z < -2) = 0.112``
against 0.023 each; ``tests/theory/test_theory_tails.py`` measures it). The standardised
mean (known variance) is skewed the other way, ``- gamma (x^2 - 1) phi(x)/(6 sqrt(N))``;
Studentizing reverses the sign because a large positive outlier inflates the standard
error more than the mean.

At the check's critical value ``z*`` the false-alarm rate of the tail a check rejects
in is off by the relative amount :func:`edgeworth_tail_error`, by side:

* ``"upper"`` (an upper-bound check: only a large ``z`` rejects): inflated only when
  ``gamma < 0``; for ``gamma > 0`` the tail is thinner than nominal and the check is
  conservative (error 0, never refused);
* ``"lower"`` (a lower-bound check): inflated when ``gamma > 0``;
* ``"two-sided"`` (an expectation): the worse of the two tails, ``|gamma| ...``. The
  first-order terms of the two tails cancel in the total two-sided rate, but a check
  whose rejections all fall on one side is not the test it claims to be, so the rule
  is per tail (:func:`edgeworth_relative_error`).

A check is honest when that relative error is at most 1 (each tail at most about twice
its nominal rate, which the calibration of :mod:`experiments.calibrate` measures);
otherwise the package refuses the z-score and says how many seeds would make it honest
(:func:`seeds_for_honest_z`). Where the variance or skewness is infinite, no seed count
does, on any side (the expansion does not exist).

The skewness of each metric, exactly:

* the Gaussian refit's variance under replace in 1-D, ``sigma_n^2 / sigma^2 = prod_{i<=n}
  chi2_{M-1,i} / c`` (``c = M - 1`` unbiased, ``M`` MLE): :func:`chi2_product_skewness`
  (0.65 at ``n = 1``, 4,700 at ``n = 60`` for ``M = 20``);
* its ``mean_sq_error = ||mu_n - mu||^2`` under replace, any ``dim``:
  :func:`gaussian_mean_sq_error_skewness` (2.83, 3.46, 4.02, 13.2 at ``n = 1, 4, 6, 20``
  in 1-D, ``M = 20``, unbiased);
* linear regression's ``test_error`` with a random design:
  :func:`linreg_test_error_skewness` (0.84 at ``d = 32, T = 100``; infinite for
  ``T <= d + 5``); given one design, :func:`gaussian_quadratic_form_skewness`.

Each of the last two reduces to a scalar Markov recursion ``r_n = f(r_{n-1}, noise)``
whose noises are independent of the past (derived in the functions' docstrings); SymPy
expands ``E r_n^k``, ``k <= 3``, into a linear recursion in ``E r_{n-1}^j`` (lazily, on
first use: importing this module does not import SymPy), and NumPy iterates it.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps
from scipy.special import gammaln

from .frozen import frozen

__all__ = [
    "HONEST_RELATIVE_ERROR",
    "SIDES",
    "chi2_product_moment",
    "chi2_product_skewness",
    "edgeworth_relative_error",
    "edgeworth_tail_error",
    "edgeworth_tail_probability",
    "gaussian_log_det_skewness",
    "gaussian_mean_sq_error_skewness",
    "gaussian_quadratic_form_skewness",
    "gaussian_w2_skewness",
    "linreg_augment_skewness",
    "linreg_test_error_skewness",
    "seeds_for_honest_z",
]

HONEST_RELATIVE_ERROR = 1.0
SIDES = ("two-sided", "upper", "lower")


def chi2_product_moment(k: float, n: ArrayLike, dof: int, scale: float) -> np.ndarray:
    """``E[(prod_{i<=n} chi2_dof,i / scale)^k]`` for independent chi-squares (``k > -dof/2``)."""
    n = np.asarray(n, np.float64)
    if dof < 1 or scale <= 0 or k <= -dof / 2:
        raise ValueError(f"need dof >= 1, scale > 0 and k > -dof/2, got dof={dof}, scale={scale}, k={k}")
    log_one = k * np.log(2.0 / scale) + gammaln(dof / 2.0 + k) - gammaln(dof / 2.0)
    return np.exp(n * log_one)


def chi2_product_skewness(n: ArrayLike, dof: int, scale: float, power: float = 1.0) -> np.ndarray:
    """Skewness of ``(prod_{i<=n} chi2_dof,i / scale)^power``, exactly, from its raw moments.

    Infinite once the third moment overflows float64 (the skewness grows like
    ``exp(3 n Var log chi2 / 2)``).
    """
    n = np.asarray(n, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        m1, m2, m3 = (chi2_product_moment(power * j, n, dof, scale) for j in (1, 2, 3))
        # Standardise by m1 first so that large n stays finite as long as possible.
        r2, r3 = m2 / m1**2, m3 / m1**3
        var = r2 - 1.0
        skew = (r3 - 3.0 * r2 + 2.0) / var**1.5
    return np.where(np.isfinite(skew), skew, np.inf)


# --------------------------------------------------------------------------------------
# The Edgeworth expansion of the Studentized mean


def _edgeworth_term(skewness: ArrayLike, seeds: int, x: float) -> np.ndarray:
    """``e = gamma (2 x^2 + 1) phi(x) / (6 sqrt(N))``: what the lower tail gains and the upper one loses."""
    if not seeds >= 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    return np.asarray(skewness, np.float64) * (2.0 * x * x + 1.0) * sps.norm.pdf(x) / (6.0 * np.sqrt(seeds))


def edgeworth_tail_probability(skewness: ArrayLike, seeds: int, x: float, tail: str) -> np.ndarray:
    """First-order ``P(z > x)`` (``tail="upper"``) or ``P(z < -x)`` (``"lower"``), ``x >= 0``.

    ``z`` is the Studentized mean of ``seeds`` draws of skewness ``skewness`` (may be
    negative where the expansion has left its range).
    """
    if tail not in ("upper", "lower"):
        raise ValueError(f"tail must be 'upper' or 'lower', got {tail!r}")
    e = _edgeworth_term(skewness, seeds, x)
    return sps.norm.sf(x) + (e if tail == "lower" else -e)


def edgeworth_tail_error(skewness: ArrayLike, seeds: int, z: float, side: str = "two-sided") -> np.ndarray:
    """Relative inflation of a z-check's false-alarm rate at critical value ``z`` (0 where deflated).

    ``side``: the tail the check rejects in: ``"upper"`` (large ``z``: an upper-bound
    check), ``"lower"`` (a lower-bound check) or ``"two-sided"`` (the worse tail, each
    carrying half the rate). ``inf`` where the skewness is not finite, on every side.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
    skew = np.asarray(skewness, np.float64)
    rel = _edgeworth_term(np.where(np.isfinite(skew), skew, 0.0), seeds, z) / sps.norm.sf(z)
    if side == "two-sided":
        rel = np.abs(rel)
    elif side == "upper":
        rel = np.maximum(-rel, 0.0)
    else:
        rel = np.maximum(rel, 0.0)
    return np.where(np.isfinite(skew), rel, np.inf)


def edgeworth_relative_error(skewness: ArrayLike, seeds: int, z: float) -> np.ndarray:
    """Relative error of the worse tail of a two-sided z-check (:func:`edgeworth_tail_error`, two-sided)."""
    return edgeworth_tail_error(skewness, seeds, z, "two-sided")


def seeds_for_honest_z(
    skewness: ArrayLike, z: float, tolerance: float = HONEST_RELATIVE_ERROR, side: str = "two-sided"
) -> np.ndarray:
    """The fewest seeds (at least 1) at which :func:`edgeworth_tail_error` is at most ``tolerance`` (inf if never)."""
    per_seed = edgeworth_tail_error(skewness, 1, z, side)
    with np.errstate(over="ignore"):
        return np.maximum(np.ceil((per_seed / tolerance) ** 2), 1.0)


# --------------------------------------------------------------------------------------
# Exact skewness of the metrics: scalar moment recursions derived in SymPy


@frozen(("gaussian",), ("linreg",))
def _moment_recursion(model: str):
    """``(A, params)``: ``E r_n^k = sum_j A[k, j] E r_{n-1}^j`` for ``k, j <= 3`` (SymPy, exact).

    ``model="gaussian"``: ``r' = (g + p s)^2 + B`` with ``g ~ N(0, 1)``,
    ``p^2 = chi2_nu / c``, ``B ~ chi2_{d-1}``; ``model="linreg"``:
    ``r' = s^2 + h^2 + 2 s h t`` with ``h^2 = chi2_d / chi2_{T-d+1}`` and ``t`` a
    coordinate of a uniform unit vector in ``R^d``. ``s = sqrt(r)``; every noise is
    independent of ``s`` and of the others. Odd moments of ``p`` and ``h`` enter only
    multiplied by an odd (zero) moment of ``g`` or ``t``: the derivation asserts it.
    """
    import sympy as sp

    s = sp.Symbol("s", nonnegative=True)
    d = sp.Symbol("d", positive=True)
    odd = {}

    def rising(x, k):  # Gamma(x + k)/Gamma(x) = x (x + 1) ... (x + k - 1)
        return sp.expand_func(sp.rf(x, k))

    def chi2(nu, k):  # E (chi2_nu)^k = 2^k Gamma(nu/2 + k)/Gamma(nu/2), k a whole number (negative: inverse)
        return 2**k * rising(nu / 2, k) if k >= 0 else 1 / (2**-k * rising(nu / 2 + k, -k))

    def root(name, moment):  # a square root whose even moments are ``moment(k/2)``
        def m(k):
            return moment(k // 2) if k % 2 == 0 else odd.setdefault((name, k), sp.Symbol(f"odd_{name}_{k}"))

        return m

    def symmetric(even):  # a symmetric variable: odd moments vanish
        return lambda k: even(k) if k % 2 == 0 else sp.Integer(0)

    if model == "gaussian":
        nu, c = sp.symbols("nu c", positive=True)
        g, p, B = sp.symbols("g p B")
        step = (g + p * s) ** 2 + B
        moments = {
            g: symmetric(lambda k: sp.factorial2(k - 1)),
            p: root("p", lambda j: chi2(nu, j) / c**j),
            B: lambda k: chi2(d - 1, k),
        }
        params = (d, nu, c)
    elif model == "linreg":
        mp = sp.Symbol("mp", positive=True)  # T - d + 1
        t, h = sp.symbols("t h")
        step = s**2 + h**2 + 2 * s * h * t
        # E t^(2j) = (2j - 1)!! / (d (d + 2) ... (d + 2j - 2)): a coordinate of a uniform unit vector
        moments = {
            t: symmetric(lambda k: sp.factorial2(k - 1) / (2 ** (k // 2) * rising(d / 2, k // 2))),
            h: root("h", lambda j: chi2(d, j) * chi2(mp, -j)),
        }
        params = (d, mp)
    else:
        raise ValueError(f"unknown model {model!r}")
    noises = tuple(moments)
    A = sp.zeros(4, 4)
    for K in range(4):
        for (js, *ks), coeff in sp.Poly(sp.expand(step**K), s, *noises).terms():
            term = coeff
            for x, k in zip(noises, ks, strict=True):
                term *= moments[x](k)
            if term != 0:
                assert js % 2 == 0, (model, K, js)  # only whole powers of r survive
                A[K, js // 2] += term
    A = A.applyfunc(sp.factor)
    assert not A.free_symbols & set(odd.values()), "an odd moment of a square root survived"
    return A, params


@functools.cache
def _numeric_recursion(model: str):
    import sympy as sp

    A, params = _moment_recursion(model)
    return sp.lambdify(params, A, "numpy")


def _skewness_path(A: np.ndarray, n_max: int) -> np.ndarray:
    """Skewness of ``r_n``, ``n = 1..n_max``, from ``r_0 = 0`` (inf once the third moment overflows)."""
    m = np.array([1.0, 0.0, 0.0, 0.0])
    out = np.full(n_max, np.inf)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(n_max):
            m = A @ m
            r2, r3 = m[2] / m[1] ** 2, m[3] / m[1] ** 3
            skew = (r3 - 3.0 * r2 + 2.0) / (r2 - 1.0) ** 1.5
            if not np.isfinite(skew):
                break
            out[i] = skew
    return out


def _generations(n: ArrayLike) -> np.ndarray:
    gens = np.asarray(n)
    if gens.size and (np.any(gens < 1) or np.any(gens != np.round(gens))):
        raise ValueError(f"generations must be whole numbers >= 1, got {n}")
    return gens.astype(np.int64)


def gaussian_mean_sq_error_skewness(n: ArrayLike, *, dim: int, M: int, estimator: str = "unbiased") -> np.ndarray:
    """Exact skewness of ``||mu_n - mu||^2`` of the Gaussian refit under replace, any ``dim``.

    With ``L_i L_i^T = Sigma_i`` and ``K_i = W_i^{1/2} / sqrt(c)`` (``W_i ~ Wishart(M-1, I)``,
    ``c = M - 1`` unbiased, ``M`` MLE), ``sqrt(M) (mu_n - mu) / sigma = sum_{i<=n}
    K_1 ... K_{i-1} z_i``; the ``(z_i, K_i)`` are i.i.d., so reversing their order does not
    change the law: ``r_n = M ||mu_n - mu||^2 / sigma^2`` has the law of ``||V_n||^2`` with
    ``V_n = z_n + K_n V_{n-1}``. Given ``V_{n-1}``, ``||K_n V_{n-1}||^2 = r_{n-1} q_n`` with
    ``q_n = u^T W_n u / c ~ chi2_{M-1} / c`` for the unit ``u = V_{n-1}/||V_{n-1}||`` (the
    Wishart law is rotation invariant), and ``z_n`` splits into ``g_n ~ N(0, 1)`` along
    ``K_n V_{n-1}`` and ``chi2_{dim-1}`` across it, all independent::

        r_n = (g_n + sqrt(q_n r_{n-1}))^2 + chi2_{dim-1},   r_0 = 0.

    Exact: no bound. ``inf`` once the third moment overflows float64 (``n`` in the
    thousands for ``M = 20``).
    """
    if estimator not in ("unbiased", "mle"):
        raise ValueError(f"estimator must be 'unbiased' or 'mle', got {estimator!r}")
    if dim < 1 or M < 2:
        raise ValueError(f"need dim >= 1 and M >= 2, got dim={dim}, M={M}")
    gens = _generations(n)
    c = M - 1 if estimator == "unbiased" else M
    A = np.asarray(_numeric_recursion("gaussian")(float(dim), float(M - 1), float(c)), np.float64)
    path = _skewness_path(A, int(gens.max(initial=1)))
    return path[gens - 1]


def gaussian_quadratic_form_skewness(weights: ArrayLike) -> float:
    """Skewness of ``sum_j w_j g_j^2`` (``g_j`` i.i.d. standard normal): ``sqrt(8) sum w^3 / (sum w^2)^{3/2}``.

    The test error given the design (``design="shared"``) under replace or accumulate is
    ``sigma^2 C_n g^T (X^T X)^{-1} g``: pass the eigenvalues of ``(X^T X)^{-1}``
    (the skewness does not depend on ``n``); between ``sqrt(8/d)`` and ``sqrt(8)``.
    """
    w = np.asarray(weights, np.float64).ravel()
    if w.size == 0 or np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be nonnegative and not all zero")
    return float(np.sqrt(8.0) * np.sum(w**3) / np.sum(w**2) ** 1.5)


def linreg_test_error_skewness(n: ArrayLike, *, d: int, T: int, regime: str, design: str) -> np.ndarray:
    """Exact skewness of ``||w_n - w*||^2`` of OLS refit on its own labels, Gaussian design.

    With ``B_i = (X_i^T X_i)^{-1}`` and ``g_i`` i.i.d. ``N(0, I_d)``, the error is
    ``e_n = sigma sum_{i<=n} c_i B_i^{1/2} g_i`` (``c_i = 1`` replace, ``1/i`` accumulate).

    * ``design="fixed"`` (replace or accumulate): ``e_n = sigma C_n^{1/2} B^{1/2} g``, so
      ``||e_n||^2 / (sigma^2 C_n) = g^T B g = ||g||^2 u^T B u`` with ``u`` uniform and
      independent of ``||g||``, and ``u^T B u ~ 1 / chi2_{T-d+1}`` (Muirhead 1982, Thm
      3.2.10, with the rotation invariance of ``B``): ``chi2_d / chi2_{T-d+1}``, a scaled
      ``F(d, T-d+1)``, whatever ``n``: ``0.84`` at ``d = 32, T = 100``, ``1.31`` at
      ``d = 10, T = 50``.
    * ``design="fresh"``, replace: the steps ``z_i = B_i^{1/2} g_i`` are independent and
      rotation invariant, so ``z_n = ||z_n|| v`` with ``v`` uniform, independent of
      ``||z_n||^2 ~ chi2_d / chi2_{T-d+1}``, and ``r_n = ||e_n||^2 / sigma^2`` follows
      ``r_n = r_{n-1} + rho_n + 2 sqrt(r_{n-1} rho_n) t_n`` with ``t_n = u^T v`` a
      coordinate of a uniform unit vector: the F skewness at ``n = 1``, ``sqrt(8/d)`` as
      ``n -> oo``.

    Infinite for ``T <= d + 5`` (``E chi2_{T-d+1}^{-3}`` diverges). Accumulate with a
    fresh design (``e_n = e_{n-1} + (sum_{i<=n} X_i^T X_i)^{-1} X_n^T eps_n``, whose steps
    share the designs) and the other regimes: no exact form here, a ``ValueError``; a
    shared design: :func:`gaussian_quadratic_form_skewness`.
    """
    if design == "shared":
        raise ValueError(
            "given the design the error is a Gaussian quadratic form: "
            "use gaussian_quadratic_form_skewness on the eigenvalues of (X^T X)^-1"
        )
    if design not in ("fixed", "fresh") or regime not in ("replace", "accumulate"):
        raise ValueError(
            f"no exact skewness for regime={regime!r}, design={design!r} "
            "(covered: replace or accumulate with a fixed design, replace with a fresh one)"
        )
    if design == "fresh" and regime == "accumulate":
        raise ValueError("no exact skewness for accumulate with a fresh design (its steps share the designs)")
    if d < 1 or T <= d + 1:
        raise ValueError(f"need d >= 1 and T > d + 1, got d={d}, T={T}")
    gens = _generations(n)
    if T <= d + 5:
        return np.full(gens.shape, np.inf)
    A = np.asarray(_numeric_recursion("linreg")(float(d), float(T - d + 1)), np.float64)
    path = _skewness_path(A, 1 if design == "fixed" else int(gens.max(initial=1)))
    return path[0] * np.ones(gens.shape) if design == "fixed" else path[gens - 1]


def linreg_augment_skewness(n: ArrayLike, *, T: int, k: int) -> np.ndarray:
    """Exact skewness of ``||w_n - w*||^2`` under augment, ``d = 1``, Gaussian design (derived here).

    The real rows ``0..k-1`` keep their labels. With ``A = x^T x ~ chi2_T`` and
    ``b = x_S^T x_S / A ~ Beta((T-k)/2, k/2)`` independent of ``A``, the error is
    ``K_n(b) g^2 / A`` with ``g ~ N(0, 1)`` independent of both and
    ``K_n(b)/sigma^2 = sum_{j<n} b^{2j}(1 + 2b) - 2 b^{n+j}``
    (:func:`model_collapse.theory.linreg_augment.derive_augment_laws`). So
    ``E X^m = E K_n^m E g^{2m} E A^{-m}`` with ``E g^{2m} = 1, 3, 15`` and
    ``E A^{-m} = prod_{i<=m} 1/(T - 2i)``; ``E K_n^m`` is a Beta expectation of a
    polynomial, exact by Gauss-Jacobi quadrature with enough nodes. Infinite for ``T <= 6``.
    """
    from scipy.special import roots_jacobi

    gens = np.atleast_1d(np.asarray(n, dtype=np.int64))
    if T <= 6:
        return np.full(gens.shape, np.inf)
    if not 0 <= k <= T:
        raise ValueError(f"k must lie in 0..T, got k={k}, T={T}")
    if k in (0, T):  # b = 1 (replace) or b = 0 (every row real): a point mass
        b_, wts = np.array([1.0 if k == 0 else 0.0]), np.ones(1)
    else:  # Beta((T-k)/2, k/2) on b = (1 + x)/2; K_n^3 has degree 6n - 3 < 2 * nodes
        x, wts = roots_jacobi(3 * int(gens.max(initial=1)) + 8, k / 2 - 1, (T - k) / 2 - 1)
        b_, wts = (1 + x) / 2, wts / wts.sum()
    inv = np.cumprod([1.0 / (T - 2), 1.0 / (T - 4), 1.0 / (T - 6)])
    out = np.empty(gens.shape)
    for idx, g in np.ndenumerate(gens):
        j = np.arange(int(g))
        K = (b_[:, None] ** (2 * j) * (1 + 2 * b_[:, None]) - 2 * b_[:, None] ** (g + j)).sum(axis=1)
        m1, m2, m3 = (wts @ K**m * c * a for m, c, a in zip((1, 2, 3), (1.0, 3.0, 15.0), inv, strict=True))
        out[idx] = (m3 - 3 * m1 * m2 + 2 * m1**3) / (m2 - m1**2) ** 1.5
    return out


def gaussian_log_det_skewness(n: ArrayLike, *, dim: int, M: int) -> np.ndarray:
    """Exact skewness of ``log det Sigma_n`` of the Gaussian refit under replace (derived here).

    ``log det Sigma_n - log det Sigma`` is a constant plus ``n`` i.i.d. copies of
    ``sum_{j<=dim} log chi2_{M-j}`` (Bartlett), and the cumulants of ``log chi2_k`` are
    ``psi^{(r-1)}(k/2)``: the skewness is ``sum_j psi''((M-j)/2) / (sqrt(n) (sum_j
    psi'((M-j)/2))^{3/2})``, negative (``-0.33`` at ``n = 1``, ``M = 20``, ``dim = 1``),
    the same for either estimator (a constant shift).
    """
    from scipy.special import polygamma

    if dim < 1 or M <= dim:
        raise ValueError(f"need 1 <= dim < M, got dim={dim}, M={M}")
    gens = _generations(n)
    half = (M - np.arange(1, dim + 1)) / 2.0
    return np.sum(polygamma(2, half)) / np.sum(polygamma(1, half)) ** 1.5 / np.sqrt(gens)


def gaussian_w2_skewness(n: ArrayLike, *, M: int, estimator: str = "unbiased", temperature: float = 1.0) -> np.ndarray:
    """Exact skewness of ``W2^2`` between the 1-D refit ``N(mu_n, s_n^2)`` and the truth, under replace (derived here).

    With ``sigma = 1`` (the skewness is scale free), ``m = mu_n - mu`` and ``s = s_n`` step as
    ``m' = m + s Z/sqrt(M)``, ``s' = s R`` with ``R = sqrt(chi2_{M-1}/c)`` independent of ``Z``
    (Cochran) and of the past, so the joint moments ``E m^a s^b`` of each total degree close:
    ``E m'^a s'^b = sum_i C(a, i) M^{-i/2} E Z^i E R^b E m^{a-i} s^{b+i}``. ``W2^2 = m^2 + (s - 1)^2``
    is a polynomial of degree 2 in ``(m, s)``, so its first three moments need degrees up to 6.
    At a sampling temperature ``tau`` (the synthetic draws from ``N(mu, tau s^2)``, generation 2 on)
    the step is ``m' = m + sqrt(tau) s Z/sqrt(M)``, ``s' = sqrt(tau) s R``, which multiplies each
    term by ``tau^{(b+i)/2}`` (derived here, :mod:`model_collapse.theory.gaussian.bias_tails`).
    """
    from math import comb

    if estimator not in ("unbiased", "mle"):
        raise ValueError(f"estimator must be 'unbiased' or 'mle', got {estimator!r}")
    if M < 2:
        raise ValueError(f"need M >= 2, got M={M}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
    gens = _generations(n)
    c = M - 1 if estimator == "unbiased" else M
    deg = 6
    EZ = [1.0, 0.0, 1.0, 0.0, 3.0, 0.0, 15.0]
    ER = np.exp([b / 2 * np.log(2.0 / c) + gammaln((M - 1 + b) / 2) - gammaln((M - 1) / 2) for b in range(deg + 1)])
    # W = m^2 + s^2 - 2 s + 1 as {(a, b): coefficient}; its powers up to 3
    w = {(2, 0): 1.0, (0, 2): 1.0, (0, 1): -2.0, (0, 0): 1.0}
    powers = [{(0, 0): 1.0}]
    for _ in range(3):
        nxt: dict[tuple[int, int], float] = {}
        for (a1, b1), c1 in powers[-1].items():
            for (a2, b2), c2 in w.items():
                nxt[a1 + a2, b1 + b2] = nxt.get((a1 + a2, b1 + b2), 0.0) + c1 * c2
        powers.append(nxt)
    mom = np.zeros((deg + 1, deg + 1))
    mom[0, :] = 1.0  # generation 0: m = 0, s = 1
    out = np.empty(gens.shape)
    for g in range(1, int(gens.max(initial=0)) + 1):
        t = temperature if g > 1 else 1.0  # generation 1 fits real data
        new = np.zeros_like(mom)
        for a in range(deg + 1):
            for b in range(deg + 1 - a):
                new[a, b] = (
                    t ** (b / 2)
                    * ER[b]
                    * sum(comb(a, i) * (t / M) ** (i / 2) * EZ[i] * mom[a - i, b + i] for i in range(a + 1) if EZ[i])
                )
        mom = new
        m1, m2, m3 = (sum(coef * mom[a, b] for (a, b), coef in powers[k].items()) for k in (1, 2, 3))
        out[gens == g] = (m3 - 3 * m1 * m2 + 2 * m1**3) / (m2 - m1**2) ** 1.5
    return out
