"""Bit-identical results on 1, 2 and 4 devices (simulated CPU devices, one subprocess each).

``jax_num_cpu_devices`` must be set before JAX starts, hence the subprocesses. The
runner shards each chunk over a ``seeds`` mesh with ``shard_map``; every device runs
the same micro-batched body, so per-seed values, and with them the reduction, are
identical to the single-device run.
"""

import json
import subprocess
import sys

import pytest

SCRIPT = r"""
import os, sys, json, jax
jax.config.update("jax_num_cpu_devices", int(sys.argv[1]))
import model_collapse.experiments as ex
assert len(jax.devices()) == int(sys.argv[1])
out = {}
for name in sys.argv[2].split(","):
    cfg = CONFIGS[name]
    os.environ["COLLAPSE_REDUCE_IN_PROGRAM"] = "1" if name.endswith("-in-program") else "0"
    r = ex.run(cfg, 700, seed=9, progress=False)
    out[name] = {m: [float(x).hex() for x in list(s.mean) + list(s.sem) + list(s.quantiles["0.5"])]
                 for m, s in r.metrics.items()}
    out[name + "_devices"] = r.meta["devices"]
    out[name + "_reduction"] = r.meta["reduction"]
print(json.dumps(out))
"""
CONFIGS = """
import dataclasses
CONFIGS = {}
for name, model in ex.MODELS.items():  # every registered model's first example, in both precisions
    CONFIGS[name] = model.examples()[0]
    CONFIGS[name + "32"] = dataclasses.replace(model.examples()[0], precision="float32")
# dim 6, 700 seeds: LAPACK batches big enough that jaxlib 0.10 shares them over the thread
# pool, which hung on 2 devices of a 2-core machine before model_collapse.experiments.engine.linalg.
# The accelerators' path, forced on the CPU: the program reduces each block of its own seeds.
CONFIGS["linreg-in-program"] = CONFIGS["linreg"]
CONFIGS["gaussian-lapack32"] = ex.GaussianConfig(dim=6, M=20, generations=10, regime="accumulate", sampler="exact",
                                                 precision="float32")
"""
SCRIPT = SCRIPT.replace("out = {}", CONFIGS + "out = {}")


def _run(devices: int, models) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(devices), ",".join(models)], capture_output=True, text=True, timeout=300
    )  # a deadlock fails here
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


# The default suite: regression in float64 and the Gaussian LAPACK case in float32 (both
# precisions, both samplers, both models); -m slow adds every model's first example in
# both precisions.
def _names():
    import model_collapse.experiments as ex

    return tuple(ex.MODELS)


MODELS = [
    pytest.param(("linreg", "gaussian-lapack32", "linreg-in-program"), (2,), id="default"),
    pytest.param(_names() + tuple(n + "32" for n in _names()), (2, 4), marks=pytest.mark.slow, id="every-model"),
]


@pytest.mark.parametrize("models, counts", MODELS)
def test_results_are_bit_identical_across_device_counts_and_processes(models, counts, monkeypatch):
    """float64 and float32, on 1 and 2 devices (and 4 under -m slow), and in this process (a restart);
    by default also the accelerators' in-program reduction, forced on the CPU (``linreg-in-program``),
    and only the first config rerun in this process (every one with ``-m slow``).

    Two simulated devices on a 2-core machine is the case that deadlocked before
    ``engine.linalg`` handed LAPACK one matrix per call.
    """
    import model_collapse.experiments as ex

    one = _run(1, models)
    for n in counts:
        many = _run(n, models)
        for name in models:
            assert many[name + "_devices"] == n
            assert many[name + "_reduction"] == ("in program" if name.endswith("-in-program") else "host")
            assert many[name] == one[name], f"{name} differs on {n} devices"
    scope = {"ex": ex}
    exec(CONFIGS, scope)
    for name in models[:1] if len(models) <= 3 else models:  # the default suite restarts the first one only
        monkeypatch.setenv("COLLAPSE_REDUCE_IN_PROGRAM", "1" if name.endswith("-in-program") else "0")
        r = ex.run(scope["CONFIGS"][name], 700, seed=9, progress=False)
        here = {
            m: [float(x).hex() for x in list(s.mean) + list(s.sem) + list(s.quantiles["0.5"])]
            for m, s in r.metrics.items()
        }
        assert here == one[name], f"{name} differs between processes"
