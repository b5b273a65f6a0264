"""The golden test of the frozen derivations: every SymPy derivation, re-derived, equals its committed text.

A derivation that calls another one gets the other's frozen result, which its own entry
checks: the chain is checked link by link. On a failure, regenerate with
``python -m model_collapse.theory.frozen`` and review the diff of ``theory/_derived/` (one module per theory module)`.
"""

import pytest
import sympy as sp
from model_collapse.theory import frozen

TABLE = frozen.frozen_text()


def _registered():
    return frozen.import_all()


def test_every_derivation_is_frozen_at_every_argument_it_declares():
    declared = {(name, args) for name, (_, _, calls) in _registered().items() for args in calls}
    assert declared == set(TABLE), "regenerate with python -m model_collapse.theory.frozen"


@pytest.mark.parametrize("entry", sorted(TABLE), ids=lambda e: f"{e[0].rsplit('.', 1)[-1]}{list(e[1])}")
def test_the_live_derivation_equals_its_frozen_text(entry):
    name, args = entry
    served, live, _ = _registered()[name]
    assert frozen.encode(live(*args)) == TABLE[entry], f"{name}{args} changed: regenerate and review the diff"
    assert frozen.encode(served(*args)) == TABLE[entry]  # served from the text, decoded losslessly


def test_a_changed_derivation_is_caught():
    """The wrong twin: one coefficient changed in the text no longer equals the derivation."""
    entry = ("model_collapse.theory.gaussian.symbolic.chi2_moments", ())
    live = frozen.encode(_registered()[entry[0]][1]())
    assert live == TABLE[entry]
    q = sp.Symbol("q", positive=True)
    wrong = frozen.decode(TABLE[entry])
    key = next(iter(wrong))
    wrong[key] = wrong[key] + q / 1000
    assert frozen.encode(wrong) != live


def test_encode_decode_round_trip_and_refusals():
    x = sp.Symbol("x", positive=True)
    obj = {"a": (x**2 + sp.Rational(1, 3), [sp.polygamma(1, x / 2)]), "m": sp.Matrix([[x, 1], [0, x]]), "n": None}
    text = frozen.encode(obj)
    assert frozen.encode(frozen.decode(text)) == text and frozen.decode(text)["a"][0].free_symbols == {x}
    with pytest.raises(TypeError, match="cannot freeze"):
        frozen.encode(object())


def test_collapse_derive_ignores_the_frozen_results(monkeypatch):
    calls = []

    @frozen.frozen()
    def probe():
        calls.append(1)
        return sp.Integer(1)

    monkeypatch.setenv("COLLAPSE_DERIVE", "1")
    assert probe() == 1 and calls == [1]
    frozen.DERIVATIONS.pop(f"{probe.__module__}.{probe.__qualname__}")
