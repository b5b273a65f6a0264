"""theory.verifier: the written-out rates against their SymPy derivation; limits and the breakdown point."""

import numpy as np
import pytest
import sympy as sp
from model_collapse.theory import verifier as tv
from scipy.special import ndtr

RATES = [(0.4, 0.3, 0.1), (0.6, 0.9, 0.3), (0.45, 0.5, 0.9), (0.2, 1.0, 0.0), (0.7, 0.25, 1.0)]


@pytest.mark.parametrize("p, phi, psi", RATES)
def test_written_rates_equal_the_derivation(p, phi, psi):
    der = tv.derivation()
    P, PHI, PSI = der["symbols"][:3]
    at = {P: sp.Rational(str(p)), PHI: sp.Rational(str(phi)), PSI: sp.Rational(str(psi))}
    assert tv.kept_fraction(p, phi, psi) == pytest.approx(float(der["kept"].subs(at)), rel=1e-14)
    assert tv.pruned_noise_rate(p, phi, psi) == pytest.approx(float(der["noise"].subs(at)), rel=1e-14)
    assert tv.breakdown_point(phi, psi) == pytest.approx(float(der["breakdown"].subs(at)), rel=1e-14)
    # E[y_obs x | kept] = (1 - 2p') mu: the mean-difference learner's direction
    assert float(der["mean_direction"].subs(at)) == pytest.approx(1 - 2 * tv.pruned_noise_rate(p, phi, psi))


def test_breakdown_point_is_feng_et_al_s_and_where_the_direction_flips():
    der = tv.derivation()
    _, PHI, PSI = der["symbols"][:3]
    assert sp.simplify(der["breakdown"] - 1 / (1 + PSI / PHI)) == 0
    assert tv.breakdown_point(1.0, 1.0) == 0.5  # no pruning
    assert tv.breakdown_point(1.0, 0.0) == 1.0  # an oracle
    for phi, psi in ((0.9, 0.3), (0.5, 0.9)):
        p_star = tv.breakdown_point(phi, psi)
        assert tv.pruned_noise_rate(p_star, phi, psi) == pytest.approx(0.5)
        below, above = (tv.expected_alignment(1e9, p, phi, psi) for p in (p_star - 0.01, p_star + 0.01))
        assert below > 0 > above


def test_accuracy_tends_to_the_bayes_or_anti_bayes_accuracy():
    m = 1.3
    for (p, phi, psi), limit in (((0.6, 0.9, 0.3), ndtr(m)), ((0.45, 0.5, 0.9), ndtr(-m))):
        assert tv.accuracy_limit(m, p, phi, psi) == pytest.approx(limit)
        gaps = [abs(tv.accuracy_equivalent(D, 20, m, p, phi, psi) - limit) for D in (1e3, 1e5, 1e7)]
        assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-5


def test_second_order_term_shrinks_as_one_over_D_squared():
    """``h`` flattens in ``a`` as ``b = (d-1)/(f D) -> 0``, so ``c2 = O(D^-2)`` once ``b << r^2 ||mu||^2``."""
    D = np.array([1e5, 1e6, 1e7])
    for rates in ((0.6, 0.9, 0.3), (0.45, 0.5, 0.9)):
        c2 = tv.accuracy_correction(D, 20, 1.0, *rates)
        np.testing.assert_allclose(c2[1:] * D[1:] ** 2, c2[:-1] * D[:-1] ** 2, rtol=0.05)


def test_nothing_kept_and_the_exact_expectations():
    p, phi, psi = 0.4, 0.3, 0.1
    f, q = tv.kept_fraction(p, phi, psi), tv.pruned_noise_rate(p, phi, psi)
    D = np.array([1, 4, 40])
    np.testing.assert_allclose(tv.nothing_kept(D, p, phi, psi), (1 - f) ** D)
    np.testing.assert_allclose(tv.expected_noise_rate(D, p, phi, psi), q * (1 - (1 - f) ** D))
    np.testing.assert_allclose(tv.expected_alignment(D, p, phi, psi), (1 - 2 * q) * (1 - (1 - f) ** D))
    curves = tv.predict(D, d=3, mu_norm=1.0, p=p, phi=phi, psi=psi)
    assert set(curves) == set(tv.KINDS) and all(np.all(np.isfinite(v)) for v in curves.values())
