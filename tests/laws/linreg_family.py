"""The family of regression checks shared by ``test_linreg_laws.py`` and ``test_linreg_sweeps.py``.

``ALPHA`` is the family-wise false-alarm rate over every check in the two files (Bonferroni:
each check at ``ALPHA / TOTAL``); they are two files only so that two test processes share them.
"""

from model_collapse.experiments.laws import LAWS

ALPHA = 1e-3
# The laws of experiments/laws/linreg.py (a predict defined there); the other regression law modules
# (ridge and spectra, strong collapse, weighting) have test files of their own.
_MODULE = "model_collapse.experiments.laws.linreg"
LINREG = [
    law for law in LAWS.values() if law.id.startswith("linreg/") and getattr(law.predict, "__module__", "") == _MODULE
]
TOTAL = sum(len(law.generations) for law in LINREG) + 4 * 6  # + the parameter sweep of test_linreg_sweeps.py
