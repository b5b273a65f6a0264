"""The registry of laws: each pairs a closed form from :mod:`model_collapse.theory` with a simulation.

A law (:class:`Law`) names its paper and theorem (:mod:`.references`), the metric, its
kind (a verdict object that owns its test: :mod:`.verdicts`), a prediction that is a
function of the config it is checked at, the configs it covers, a deliberately wrong
twin and the config and generations it is registered with (:mod:`.registry`).
:func:`verify` simulates each distinct config once, checks every law and decides the
family with Holm's step-down procedure at a stated family-wise false-alarm rate
(:mod:`.check`); :func:`assert_law` does it for one law at your own config, for a
test suite. The registered laws are in :mod:`.linreg` and :mod:`.gaussian`.

Where a metric's skewness makes a z-score's tail dishonest (regression with a random
design and ``T <= d + 5``; the Gaussian refit under replace, whose variance is a
product of chi-squares), the check is *refused*: its row says why and how many seeds
would make it honest, and the verification is inconclusive rather than passed. The
honest alternatives are laws of their own: ``log_det`` (a sum of logs) for the
Gaussian refit, and the law conditional on the design (``given-X``) for regression.
:func:`model_collapse.experiments.calibrate.calibrate` measures the false-alarm rates.
"""

from __future__ import annotations

from .check import (
    DEFAULT_ALPHA,
    Check,
    InconclusiveError,
    apply_holm,
    assert_law,
    check_law,
    critical_z,
    holm,
    metric_skewness,
    power_seeds,
    status,
    verify,
)
from .references import Reference
from .registry import (
    LAWS,
    Law,
    Setting,
    citations,
    law_metadata,
    register_law,
    select_laws,
    setting,
)
from .verdicts import (
    POWER,
    Asymptotic,
    Deterministic,
    Distribution,
    Expectation,
    LowerBound,
    Probability,
    UpperBound,
    Verdict,
)

__all__ = [
    "DEFAULT_ALPHA",
    "LAWS",
    "POWER",
    "Asymptotic",
    "Check",
    "Deterministic",
    "Distribution",
    "Expectation",
    "InconclusiveError",
    "Law",
    "LowerBound",
    "Probability",
    "Reference",
    "Setting",
    "UpperBound",
    "Verdict",
    "apply_holm",
    "assert_law",
    "check_law",
    "citations",
    "critical_z",
    "holm",
    "law_metadata",
    "metric_skewness",
    "power_seeds",
    "register_law",
    "select_laws",
    "setting",
    "status",
    "verify",
]

# Each registers its laws; regression first, the registry's (and the report's) order.
# isort: off
from . import linreg  # noqa: F401
from . import linreg_ridge  # noqa: F401
from . import gaussian  # noqa: F401
from . import categorical  # noqa: F401
from . import curation  # noqa: F401
from . import gaussian_bias  # noqa: F401
from . import verifier  # noqa: F401
from . import weighting  # noqa: F401
from . import linreg_strong  # noqa: F401
# isort: on
