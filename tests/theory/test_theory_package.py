"""The theory package imports its submodules lazily: importing it does not import SymPy."""

import subprocess
import sys


def test_import_theory_does_not_import_sympy():
    code = (
        "import sys, model_collapse.theory as t\n"
        "assert 'sympy' not in sys.modules, 'sympy imported eagerly'\n"
        "from model_collapse.theory import gaussian\n"
        "assert t.gaussian is gaussian and 'sympy' in sys.modules\n"
        "assert sorted(t.__all__) == ['categorical', 'gaussian', 'linreg', 'tails']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
