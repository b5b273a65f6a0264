"""Test configuration: float64 and NaN checks on, before any JAX work starts.

Key reuse is checked per seed in ``test_runner.py::test_simulators_never_reuse_a_key``
under ``jax.debug_key_reuse(True)``, not globally: JAX 0.10.2's checker flags
``vmap`` of a ``scan`` over correctly split keys (a false positive reproduced there).
"""

import atexit
import os
import shutil
import tempfile

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_debug_nans", True)

# One persistent compilation cache for the session, shared by the command-line subprocesses that the
# tests start (each would otherwise compile the same programs anew); a hit runs the same executable.
# With pytest-xdist the workers inherit the controller's folder, so a program compiled by one worker is
# loaded, not recompiled, by the other; every compilation of the session goes through it.
if "COLLAPSE_XLA_CACHE" not in os.environ:
    _xla = tempfile.mkdtemp(prefix="collapse-xla-")
    os.environ["COLLAPSE_XLA_CACHE"] = _xla
    atexit.register(shutil.rmtree, _xla, True)

from model_collapse.experiments.engine import xla_cache  # noqa: E402

xla_cache.enable()
