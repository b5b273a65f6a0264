"""Several processes (hosts) running one sweep: ``jax.distributed`` for the ``collapse`` CLI.

Every process runs the same ``collapse`` command with its own process id; the runner
then shards each chunk of seeds over the devices of *all* processes and gathers the
per-seed values to every process, which reduce them identically (see
:mod:`experiments.runner`). Only process 0 prints, and writes the cache, reports and
figures; the others compute and stay silent.

Settings, from flags or the environment (flags win):

* ``--coordinator-address HOST:PORT`` or ``COLLAPSE_COORDINATOR_ADDRESS`` /
  ``JAX_COORDINATOR_ADDRESS``: where process 0 listens;
* ``--num-processes N`` or ``COLLAPSE_NUM_PROCESSES`` / ``JAX_NUM_PROCESSES``;
* ``--process-id I`` or ``COLLAPSE_PROCESS_ID`` / ``JAX_PROCESS_ID``;
* ``--distributed`` alone: ``jax.distributed.initialize()`` detects the cluster
  (SLURM, Open MPI, Kubernetes, Cloud TPU) itself.

On CPUs the processes talk through Gloo (``jax_cpu_collectives_implementation``); on
GPUs JAX uses NCCL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..models.config import ConfigError

__all__ = ["settings_from", "initialize", "is_primary"]

_ENV = {
    "coordinator_address": ("COLLAPSE_COORDINATOR_ADDRESS", "JAX_COORDINATOR_ADDRESS"),
    "num_processes": ("COLLAPSE_NUM_PROCESSES", "JAX_NUM_PROCESSES"),
    "process_id": ("COLLAPSE_PROCESS_ID", "JAX_PROCESS_ID"),
}


def settings_from(
    coordinator_address: str | None = None,
    num_processes: int | str | None = None,
    process_id: int | str | None = None,
    auto: bool = False,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """The ``jax.distributed.initialize`` arguments, or ``None`` for a single process.

    Raises:
        ConfigError: an incomplete or inconsistent set of settings.
    """
    environ = os.environ if environ is None else environ
    given = {"coordinator_address": coordinator_address, "num_processes": num_processes, "process_id": process_id}
    for name, keys in _ENV.items():
        if given[name] is None:
            given[name] = next((environ[k] for k in keys if environ.get(k)), None)
    if all(v is None for v in given.values()):
        return {} if auto else None
    missing = [k.replace("_", "-") for k, v in given.items() if v is None]
    if missing and not auto:
        raise ConfigError(
            f"several processes need --coordinator-address, --num-processes and --process-id "
            f"(or their environment variables); missing: {', '.join('--' + m for m in missing)}"
        )
    out = {k: v for k, v in given.items() if v is not None}
    for name in ("num_processes", "process_id"):
        if name in out:
            try:
                out[name] = int(out[name])
            except (TypeError, ValueError):
                raise ConfigError(f"--{name.replace('_', '-')} must be an integer, got {out[name]!r}") from None
    if out.get("num_processes", 1) < 1:
        raise ConfigError(f"--num-processes must be >= 1, got {out['num_processes']}")
    if "process_id" in out and not 0 <= out["process_id"] < out.get("num_processes", out["process_id"] + 1):
        raise ConfigError(f"--process-id must lie in [0, {out.get('num_processes')}), got {out['process_id']}")
    address = out.get("coordinator_address")
    if address is not None and (":" not in address or not address.rsplit(":", 1)[1].isdigit()):
        raise ConfigError(f"--coordinator-address must be HOST:PORT, got {address!r}")
    return out


def initialize(settings: dict | None) -> None:
    """Start ``jax.distributed`` (before any JAX computation); ``None`` does nothing."""
    if settings is None:
        return
    import sys

    import jax

    # Gloo's C++ logs write to file descriptor 1; send them to stderr, and keep Python's
    # stdout (the command's output, e.g. its JSON) on the real stdout.
    sys.stdout.flush()
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(real_stdout, "w", buffering=1)

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(**settings)
    except Exception as err:  # noqa: BLE001 - JAX raises RuntimeError/XlaRuntimeError/ValueError here
        raise ConfigError(f"jax.distributed.initialize failed: {str(err).strip().splitlines()[0]}") from None


def is_primary() -> bool:
    """Whether this is process 0 (the one that prints and writes)."""
    import jax

    return jax.process_index() == 0
