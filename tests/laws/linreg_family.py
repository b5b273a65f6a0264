"""The family of regression checks shared by ``test_linreg_laws.py`` and ``test_linreg_sweeps.py``.

``ALPHA`` is the family-wise false-alarm rate over every check in the two files (Bonferroni:
each check at ``ALPHA / TOTAL``); they are two files only so that two test processes share them.
"""

from model_collapse.experiments.laws import LAWS

ALPHA = 1e-3
LINREG = [law for law in LAWS.values() if law.id.startswith("linreg/")]
TOTAL = sum(len(law.generations) for law in LINREG) + 4 * 6  # + the parameter sweep of test_linreg_sweeps.py
