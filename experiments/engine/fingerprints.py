"""Program fingerprints remembered on disk, so that a rerun lowers no program.

The result cache keys every entry by the fingerprint of the program that computes it
(:func:`model_collapse.experiments.engine.runner.program_fingerprint`: the hash of the
lowered program's text). Lowering costs about a second per config on 2 cores, which was
most of a rerun of ``collapse reproduce``. Here the fingerprint is computed once per
*everything the lowered program depends on* and remembered, in this process and in
``fingerprints.memo`` (JSON) next to the results:

* the config's static fields (its traced fields are arguments of the program and do not
  change its text), its model's name and the micro-batch it is vmapped over;
* the hash of every ``.py`` file of the package (``experiments/`` and ``theory/``) and of
  the files defining the model and its config class (a model registered from outside the
  package, as the tests do, is covered too);
* the versions of Python, JAX, jaxlib and NumPy, the platform and device kind, and the
  JAX settings that change a program (the PRNG implementation, partitionable Threefry).

Any change to one of them gives a new key, so the program is lowered again: a stale
fingerprint is never served for changed code. The file is a cache: deleting it, or a
write lost to a concurrent process, only costs a lowering.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["FILENAME", "source_hash", "memo_key", "fingerprint"]

FILENAME = "fingerprints.memo"  # JSON; not *.json, which names the result entries
_FORMAT = 1
_MEMO: dict[tuple[str, str], str] = {}


def _package_root() -> Path:
    return Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 of every ``.py`` file of the package (``experiments/``, ``theory/``), names and contents."""
    root = _package_root()
    digest = hashlib.sha256()
    for sub in ("experiments", "theory"):
        for path in sorted((root / sub).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=64)
def _file_hash(path: str | None) -> str:
    if path is None:
        return "-"
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "-"


def _defining_files(cfg: Any) -> tuple[str, ...]:
    from ..models import get_model

    files = []
    for obj in (type(get_model(cfg.model)), type(cfg)):
        try:
            files.append(_file_hash(inspect.getsourcefile(obj)))
        except TypeError:
            files.append("-")
    return tuple(files)


def memo_key(cfg: Any) -> str:
    """The key under which ``cfg``'s fingerprint is remembered: everything its program's text depends on."""
    import jax
    import jaxlib
    import numpy as np

    from .memory import micro_batch

    traced = set(getattr(type(cfg), "TRACED_FIELDS", ()))
    static = tuple((f.name, repr(getattr(cfg, f.name))) for f in dataclasses.fields(cfg) if f.name not in traced)
    device = jax.devices()[0]
    parts = (
        _FORMAT,
        cfg.model,
        type(cfg).__qualname__,
        static,
        micro_batch(cfg, device.platform),
        source_hash(),
        _defining_files(cfg),
        sys.version_info[:2],
        jax.__version__,
        jaxlib.__version__,
        np.__version__,
        device.platform,
        getattr(device, "device_kind", ""),
        jax.config.jax_default_prng_impl,
        jax.config.jax_threefry_partitionable,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _read(path: Path) -> dict[str, str]:
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(table, dict) or table.get("format") != _FORMAT:
        return {}
    return {k: v for k, v in table.get("fingerprints", {}).items() if isinstance(v, str)}


def _write(path: Path, table: dict[str, str]) -> None:
    """Atomic (a temporary file renamed into place); a failure only loses the memo."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump({"format": _FORMAT, "fingerprints": table}, fh, indent=0, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def fingerprint(cfg: Any, cache_dir: Path | None) -> str:
    """``program_fingerprint(cfg)``, lowered only when its :func:`memo_key` is new here and in ``cache_dir``."""
    from .runner import program_fingerprint

    key = memo_key(cfg)
    path = Path(cache_dir) / FILENAME if cache_dir is not None else None
    where = str(path)
    if (key, where) in _MEMO:
        return _MEMO[(key, where)]
    found = _read(path).get(key) if path is not None else None
    if found is None:
        found = program_fingerprint(cfg)
        if path is not None:
            table = _read(path)  # re-read: another process may have added entries meanwhile
            table[key] = found
            _write(path, table)
    _MEMO[(key, where)] = found
    return found
