#!/usr/bin/env bash
# The accelerator figures of bench/README.md: run from the repository root on a machine
# whose python3 has a CUDA (or other accelerator) JAX; needs numpy, scipy, sympy,
# matplotlib and tqdm, nothing installed from this repository (it runs from the checkout).
#
#   bench/gpu.sh OUTDIR [extra python -m bench --throughput flags]
#
# Writes OUTDIR/device.txt (the accelerator and versions), OUTDIR/checks.txt (the
# runner's bit-identity across chunk sizes on this backend), OUTDIR/throughput.jsonl
# (one line per entry, as each finishes), OUTDIR/throughput.json and OUTDIR/throughput.md.
set -uo pipefail
out=${1:?usage: bench/gpu.sh OUTDIR [flags]}
shift
mkdir -p "$out"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true
  "$PY" -c "import jax, jaxlib, numpy; print('jax', jax.__version__, 'jaxlib', jaxlib.__version__, 'numpy', numpy.__version__); print(jax.devices())"
  nproc; } >"$out/device.txt" 2>&1
cat "$out/device.txt"

# Bit-identity on this backend: the same seeds give the same bits whatever the chunk size
# and seed count (the runner's micro-batch is a function of the config and platform only).
"$PY" - >"$out/checks.txt" 2>&1 <<'EOF'
import dataclasses, time
import numpy as np
import experiments
from experiments import GaussianConfig, LinRegConfig, run, simulate_seeds
from experiments.runner import micro_batch
import jax
for cfg in (LinRegConfig(d=8, T=40, generations=10, regime="accumulate"),
            GaussianConfig(dim=6, M=20, generations=10, regime="accumulate", sampler="exact"),
            GaussianConfig(dim=1, M=20, generations=30, regime="replace", precision="float32")):
    micro = micro_batch(cfg, jax.devices()[0].platform)
    t = time.perf_counter()
    a = run(cfg, micro + 100, seed=3, progress=False)
    b = run(cfg, micro + 100, seed=3, chunk_size=3 * micro, progress=False)
    same = all(np.array_equal(getattr(a.metrics[m], f), getattr(b.metrics[m], f))
               for m in a.metrics for f in ("mean", "sem", "minimum", "maximum"))
    few = simulate_seeds(cfg, [5, micro + 7], seed=3)
    many = simulate_seeds(cfg, np.arange(micro + 100), seed=3)
    same_seeds = all(np.array_equal(few[m], many[m][[5, micro + 7]]) for m in few)
    print(f"{cfg.model}/{cfg.regime}/{cfg.sampler}/{cfg.precision}: micro-batch {micro}, "
          f"reductions identical across chunk sizes: {same}; seeds identical across seed counts: {same_seeds} "
          f"({time.perf_counter() - t:.1f} s)")
EOF
cat "$out/checks.txt"

"$PY" -m bench --throughput --json --out "$out/throughput.jsonl" "$@" >"$out/throughput.json"
"$PY" -m bench --table "$out/throughput.json" | tee "$out/throughput.md"
