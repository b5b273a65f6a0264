"""The ``collapse`` command line.

* ``collapse simulate MODEL [--field value ...] [--seeds N] [--seed S] [--json]``
* ``collapse verify [LAW ...] [--field value ...] [--seeds N] [--alpha A] [--list] [--json]``
* ``collapse calibrate [--base-seeds B] [--first-seed S] [--seeds N] [--alpha A] [--only ID ...] [--json] [--out FILE]``
* ``collapse figures [--outdir DIR] [--seeds N] [--only NAME ...]``
* ``collapse reproduce [--quick] [--only NAME ...] [--seeds N] [--outdir DIR]``
* ``collapse cache list|clear``, ``collapse cite LAW`` and ``collapse --version``

The config options (``--T``, ``--sigma2``, ``--design-seed`` ...) are generated from
each model's config dataclass: their help from its docstring, their choices from its
``CHOICES``, their defaults from its fields; so a new model needs no parser code.

Exit statuses (:data:`EXIT_STATUSES`): 0 every check passed (or the command
succeeded), 1 a law failed or an internal error (its traceback is printed), 2 bad
input (one line, ``collapse: error: ...``, with the nearest option for a typo), 3
inconclusive (no check failed, but some were refused), 130 interrupted. Every
command ends quietly when the reader of its output goes away (``collapse verify
--list | head``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Sequence

from .cli_parser import (  # noqa: F401  (re-exported: the parser is part of the command line's surface)
    _STATUS,
    BAD_INPUT,
    EXIT_STATUSES,
    FAILED,
    INCONCLUSIVE,
    INTERRUPTED,
    _add_config_options,
    _build_parser,
    _config_overrides,
    _die,
    _Formatter,
    _show_warning,
    _unrecognized,
    config_value,
)

__all__ = ["EXIT_STATUSES", "entry", "main"]

# --------------------------------------------------------------------------------------
# Commands


def _config_from_args(model, args):
    values = {f.name: getattr(args, f"cfg_{f.name}") for f in dataclasses.fields(model.config)}
    return model.config(**{k: config_value(v) for k, v in values.items()})


def _simulate(args) -> int:
    from . import get_model, run

    model = get_model(args.model)
    cfg = _config_from_args(model, args)
    result = run(
        cfg,
        args.seeds,
        args.seed,
        chunk_size=args.chunk_size,
        progress=False if args.quiet else None,
        metrics=args.metrics,
    )
    theory = {m: c for m, c in model.theory(cfg, result.generation, args.convention).items() if m in result.metrics}
    kinds = model.theory_kinds(cfg)
    if args.json:
        out = result.to_json(theory)
        # What each theory curve is: an exact expectation, or a bound (read as one, not as a law).
        out["theory_kind"] = {m: (kinds.get(m) if theory.get(m) is not None else None) for m in theory}
        out["convention"] = args.convention
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"{model.name} {cfg}  seeds={result.seeds} seed={result.seed}")
    for metric, summary in result.metrics.items():
        curve = theory.get(metric)
        kind = kinds.get(metric) if curve is not None else None
        print(f"\n{metric}" + (f"  (theory: {kind})" if kind else "  (no theory curve)"))
        print(f"{'gen':>5} {'mean':>12} {'sem':>10} {'q0.05':>12} {'median':>12} {'q0.95':>12} {'theory':>12}")
        q = summary.quantiles
        for g in range(len(result.generation)):
            th = "-" if curve is None else f"{curve[g]:12.6g}"
            print(
                f"{g + 1:5d} {summary.mean[g]:12.6g} {summary.sem[g]:10.3g} {q['0.05'][g]:12.6g} "
                f"{q['0.5'][g]:12.6g} {q['0.95'][g]:12.6g} {th:>12}"
            )
    return 0


def _laws_at(laws, overrides: dict, generations) -> list:
    """Each law at its config with ``overrides`` (and ``generations``); those that do not apply are skipped."""
    from .models.config import ConfigError

    models = sorted({law.model for law in laws})
    if overrides and len(models) > 1:
        from . import MODELS

        first = next(iter(overrides))
        owner = next((m for m in models if first in {f.name for f in dataclasses.fields(MODELS[m].config)}), models[0])
        raise ConfigError(
            f"config options apply to one model's laws, and laws of {', '.join(models)} are selected: "
            f"name a law or a model, e.g. `collapse verify {owner} --{first.replace('_', '-')} ...`"
        )
    if overrides:
        fields = [f.name for f in dataclasses.fields(laws[0].config)]
        foreign = [k for k in overrides if k not in fields]
        if foreign:
            raise ConfigError(
                f"--{foreign[0].replace('_', '-')} is not a {models[0]} config option; its options: "
                + ", ".join("--" + f.replace("_", "-") for f in fields)
            )
    out, skipped = [], []
    for law in laws:
        try:
            cfg = dataclasses.replace(law.config, **overrides) if overrides else law.config
            out.append(law.at(cfg, generations))
        except ConfigError as err:
            if len(laws) == 1:
                raise
            skipped.append((law.id, str(err)))
    if not out:
        raise ConfigError(f"no selected law applies to this config ({skipped[0][1]})")
    if skipped:
        print(
            f"collapse: note: {len(skipped)} selected laws do not apply to this config and are skipped "
            f"(e.g. {skipped[0][1]})",
            file=sys.stderr,
        )
    return out


def _verify(args) -> int:
    from .laws import (
        DEFAULT_ALPHA,
        law_metadata,
        power_seeds,
        select_laws,
        status,
        verify,
    )
    from .models.config import config_hash

    laws = select_laws(list(args.laws) + list(args.only or []))
    overrides = _config_overrides(args)
    if overrides or args.generations_checked:
        laws = _laws_at(laws, overrides, args.generations_checked)
    if args.list:
        width = max(len(law.id) for law in laws)
        for law in laws:
            print(f"{law.id:{width}s}  {law.kind:12s} {law.status:12s} {law.title}  [{law.source}]")
        return 0
    alpha = DEFAULT_ALPHA if args.alpha is None else args.alpha
    checks, results = verify(
        laws, seeds=args.seeds, seed=args.seed, alpha=alpha, progress=False if args.quiet else None
    )
    outcome = status(checks)
    summary = []
    for law in laws:
        key = config_hash(law.config)
        res = results[key]
        rows = [c for c in checks if c.law == law.id and c.config in (key, None)]
        zs = [c.z for c in rows if c.z is not None]
        summary.append(
            {
                "law": law,
                "seeds": res.seeds,
                "power": power_seeds(law, res, alpha, len(checks)),
                "largest_z": None if not zs else law.verdict.extreme(zs),
                "verdict": status(rows),
            }
        )
    if args.json:
        json.dump(
            {
                "alpha": alpha,
                "correction": "holm",
                "verdict": outcome,
                "passed": outcome != "fail",
                "checks": [c.to_json() for c in checks],
                "laws": [
                    {
                        **law_metadata(s["law"]),
                        "seeds": s["seeds"],
                        "verdict": s["verdict"],
                        "max_abs_z": s["largest_z"],
                        "power": {"probability": 0.99, "wrong_law_rejected_from_seeds": s["power"]},
                    }
                    for s in summary
                ],
            },
            sys.stdout,
        )
        sys.stdout.write("\n")
    else:
        from .report import format_verification

        print(format_verification(checks, summary, alpha, outcome, _STATUS[outcome]))
    short = [s for s in summary if s["power"] is not None and s["seeds"] < s["power"]]
    if short and not args.json:
        print(
            f"collapse: warning: {len(short)} of {len(summary)} laws ran with fewer seeds than 99% power against "
            "their wrong twin needs (the 'seeds for 99% power' column)",
            file=sys.stderr,
        )
    return _STATUS[outcome]


def _calibrate(args) -> int:
    from pathlib import Path

    from .calibrate import (
        DEFAULT_BASE_SEEDS,
        DEFAULT_SEEDS,
        calibrate,
        format_calibration,
    )
    from .laws import DEFAULT_ALPHA, select_laws

    laws = select_laws(args.only)
    B = DEFAULT_BASE_SEEDS if args.base_seeds is None else args.base_seeds
    if B < 2:
        _die(f"--base-seeds must be >= 2, got {B}")
    if args.first_seed < 0 or args.first_seed + B > 2**32:
        _die(f"--first-seed must be >= 0 and the base seeds below 2**32, got {args.first_seed}")
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        _die(f"--out: no such folder {str(out.parent)!r}")
    t0 = time.perf_counter()

    def on_run(seed, checks):
        if not args.quiet:
            failed = sum(not c.passed for c in checks)
            print(
                f"base seed {seed}: {len(checks)} checks, {failed} failed ({time.perf_counter() - t0:.0f} s)",
                file=sys.stderr,
            )

    cal = calibrate(
        laws,
        range(args.first_seed, args.first_seed + B),
        seeds=DEFAULT_SEEDS if args.seeds is None else args.seeds,
        alpha=DEFAULT_ALPHA if args.alpha is None else args.alpha,
        confidence=args.confidence,
        progress=False,
        on_run=on_run,
    )
    if out is not None:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps(cal, indent=1))
        tmp.replace(out)
    if args.json:
        json.dump(cal, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(format_calibration(cal))
    return 0 if cal["consistent"] else 1


def _figures(args) -> int:
    from ..figures import make_all

    for path in make_all(args.outdir, seeds=args.seeds, only=args.only, progress=False if args.quiet else None):
        print(path)
    return 0


def _reproduce(args) -> int:
    from .report import reproduce

    t0 = time.perf_counter()
    report, paths = reproduce(
        args.outdir, quick=args.quick, only=args.only, seeds=args.seeds, progress=False if args.quiet else None
    )
    for law in report["laws"]:
        maxz = "     -" if law["max_abs_z"] is None else f"{law['max_abs_z']:6.2f}"
        refused = f"  ({len(law['refused'])} refused)" if law["refused"] else ""
        verdict = {"pass": "pass", "fail": "FAIL", "inconclusive": "inconclusive"}[law["verdict"]]
        print(f"{verdict:12s}  {law['id']:48s} seeds={law['seeds']:<6d} largest |z|={maxz}{refused}")
    for path in paths:
        print(path)
    counts = {k: sum(law["verdict"] == k for law in report["laws"]) for k in ("pass", "fail", "inconclusive")}
    print(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive  "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    return _STATUS[report.get("verdict", "pass")]


def _cache(args) -> int:
    from .engine.cache import clear, default_cache_dir, entries

    if args.action == "clear":
        print(f"removed {clear()} entries from {default_cache_dir()}")
        return 0
    for e in entries():
        cfg = ", ".join(f"{k}={v}" for k, v in e["config"].items() if k != "model")
        print(f"{e['key']}  seeds={e['seeds']:<7d} {e['config']['model']}: {cfg}")
    return 0


def _cite(args) -> int:
    from .laws import LAWS, citations, select_laws

    if args.law == "package":
        print(_package_bibtex())
        return 0
    laws = list(LAWS.values()) if args.law == "all" else select_laws([args.law])
    print(citations(laws))
    return 0


def _package_bibtex() -> str:
    from .engine.runner import package_metadata
    from .laws.references import package_bibtex

    pkg = package_metadata()
    return package_bibtex(pkg["version"], pkg["commit"])


def _start_processes(args) -> None:
    """``jax.distributed`` from the flags or the environment; only process 0 prints and writes."""
    from .engine import distributed

    if not hasattr(args, "process_id"):
        return
    settings = distributed.settings_from(
        args.coordinator_address, args.num_processes, args.process_id, auto=args.distributed
    )
    distributed.initialize(settings)
    if settings is not None and not distributed.is_primary():
        import tempfile

        sys.stdout = open(os.devnull, "w")
        if getattr(args, "outdir", None) is not None or args.command == "figures":
            args.outdir = tempfile.mkdtemp(prefix="collapse-secondary-")
        if getattr(args, "out", None) is not None:
            args.out = None
        args.quiet = True


# --------------------------------------------------------------------------------------
# Entry points


class _QuietPipe:
    """Standard output that stops writing, quietly, once its reader has gone (``collapse ... | head``).

    The command runs to its end, so its exit status is still its verdict's; the
    file descriptor is pointed at ``/dev/null`` so that the interpreter's final flush
    does not complain either.
    """

    def __init__(self, stream):
        self.stream = stream
        self.gone = False

    def write(self, text):
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self):
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self):
        self.gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name):
        return getattr(self.stream, name)


_HANDLERS = ("simulate", "verify", "figures", "reproduce", "calibrate", "cache", "cite")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``collapse`` console script: parse, run one command, return the exit status."""
    warnings.showwarning = _show_warning
    argv = sys.argv[1:] if argv is None else list(argv)
    original = sys.stdout
    sys.stdout = quiet = _QuietPipe(original)
    try:
        return _main(argv)
    finally:
        quiet.flush()
        if sys.stdout is quiet:
            sys.stdout = original


def _main(argv: list[str]) -> int:
    parser = _build_parser()
    if not argv:
        parser.print_help(sys.stderr)
        return BAD_INPUT
    args, extra = parser.parse_known_args(argv)
    if extra:
        _die(_unrecognized(parser, args, extra))
    from .models.config import ConfigError

    if getattr(args, "seeds", None) is not None and args.seeds < 1:
        _die(f"--seeds must be >= 1, got {args.seeds}")
    try:
        _start_processes(args)
        if args.command in ("simulate", "verify", "figures", "reproduce", "calibrate"):
            from .engine import xla_cache

            xla_cache.enable()
        handler = {name: globals()[f"_{name}"] for name in _HANDLERS}[args.command]
        return handler(args)
    except ConfigError as err:  # bad input: one line
        _die(str(err))
    except KeyboardInterrupt:
        print("collapse: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception:  # a bug, not bad input: its traceback, never disguised as a one-line error
        traceback.print_exc()
        return FAILED


def entry() -> None:
    """The ``collapse`` program: :func:`main`, then exit with its status.

    After an interruption every ``finally`` between the signal and :func:`main` has run
    (temporary cache files are gone), so the program leaves at once with status 130:
    the interpreter's own teardown under JAX's runtime otherwise ended the process by
    SIGINT instead (status -2) in about 1 of 6 trials.
    """
    code = main()
    if code == INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
