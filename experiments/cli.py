"""The ``collapse`` command line.

* ``collapse simulate MODEL [--field value ...] [--seeds N] [--seed S] [--json]``
* ``collapse verify [--seeds N] [--seed S] [--alpha A] [--only ID ...] [--list] [--json]``
* ``collapse calibrate [--base-seeds B] [--first-seed S] [--seeds N] [--alpha A] [--only ID ...] [--json] [--out FILE]``
* ``collapse figures [--outdir DIR] [--seeds N] [--only NAME ...]``
* ``collapse reproduce [--quick] [--only NAME ...] [--seeds N] [--outdir DIR]``
* ``collapse cache list|clear`` and ``collapse cite LAW``

Options of ``simulate`` are generated from the model's config dataclass (``--T``,
``--sigma2``, ``--design-seed`` ...), so a new model needs no parser code. Bad
input prints one line, ``collapse: error: ...``, and exits with status 2; a failed
verification exits with status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
import warnings

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, no usage dump
        _die(message)


def _die(message: str, status: int = 2):
    first = str(message).strip().splitlines()[0] if str(message).strip() else "invalid input"
    print(f"collapse: error: {first}", file=sys.stderr)
    raise SystemExit(status)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"collapse: warning: {str(message).splitlines()[0]}", file=sys.stderr)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _add_config_options(parser: argparse.ArgumentParser, config_cls) -> None:
    for f in dataclasses.fields(config_cls):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        kind = {int: _int, float: _float}.get(type(default), str)
        parser.add_argument(flag, dest=f"cfg_{f.name}", type=kind, default=default, help=f"(default: {default})")


def _add_run_options(parser: argparse.ArgumentParser, seeds_default: int | None) -> None:
    parser.add_argument("--seeds", type=_int, default=seeds_default, help="number of seeds")
    parser.add_argument("--seed", type=_int, default=0, help="base seed (default: 0)")
    parser.add_argument("--chunk-size", type=_int, default=None, help="seeds per compiled call")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_distributed_options(parser)


def _add_distributed_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("several processes (jax.distributed; see experiments/distributed.py)")
    group.add_argument("--coordinator-address", default=None, metavar="HOST:PORT", help="process 0's address")
    group.add_argument("--num-processes", type=_int, default=None, help="how many processes run this command")
    group.add_argument("--process-id", type=_int, default=None, help="this process's id, 0..N-1")
    group.add_argument("--distributed", action="store_true", help="let jax.distributed detect the cluster")


def _build_parser() -> argparse.ArgumentParser:
    from . import MODELS

    parser = _Parser(prog="collapse", description="Model collapse: simulate, verify laws, draw figures.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sim = sub.add_parser("simulate", help="simulate one config and print per-generation statistics")
    models = sim.add_subparsers(dest="model", required=True, parser_class=_Parser)
    for name, model in MODELS.items():
        p = models.add_parser(name, help=model.config.__doc__.splitlines()[0])
        _add_config_options(p, model.config)
        _add_run_options(p, 4000)
        p.add_argument("--convention", default="fit", help="theory indexing: fit (default) or downstream (n+1)")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    ver = sub.add_parser("verify", help="check every registered law against simulation")
    _add_run_options(ver, None)
    ver.add_argument("--alpha", type=_float, default=None, help="family-wise false-alarm rate")
    ver.add_argument("--only", nargs="+", default=None, metavar="ID", help="law ids or glob patterns")
    ver.add_argument("--list", action="store_true", help="list the laws and exit")
    ver.add_argument("--json", action="store_true", help="print the report as JSON")

    cal = sub.add_parser("calibrate", help="rerun verify on many base seeds; observed vs nominal false-alarm rates")
    cal.add_argument("--base-seeds", type=_int, default=None, help="independent verification runs (default: 40)")
    cal.add_argument("--first-seed", type=_int, default=1, help="base seeds are FIRST..FIRST+B-1 (default: 1)")
    cal.add_argument("--seeds", type=_int, default=None, help="seeds per law and run (default: 2048)")
    cal.add_argument("--alpha", type=_float, default=None, help="family-wise false-alarm rate of each run")
    cal.add_argument("--confidence", type=_float, default=0.99, help="of each interval (default: 0.99)")
    cal.add_argument("--only", nargs="+", default=None, metavar="ID", help="law ids or glob patterns")
    cal.add_argument("--json", action="store_true", help="print the calibration as JSON")
    cal.add_argument("--out", default=None, metavar="FILE", help="also write the JSON to FILE (atomically)")
    cal.add_argument("--quiet", action="store_true", help="no progress")
    _add_distributed_options(cal)

    rep = sub.add_parser("reproduce", help="verify every law, write report.md/report.json, draw every figure (cached)")
    rep.add_argument("--quick", action="store_true", help="fewer seeds: minutes on a laptop")
    rep.add_argument("--only", nargs="+", default=None, metavar="NAME", help="law ids or figure names (prefixes)")
    rep.add_argument("--seeds", type=_int, default=None, help="seeds per law and per curve")
    rep.add_argument("--outdir", default="reproduction", help="where report and figures go (default: reproduction)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_distributed_options(rep)

    cache = sub.add_parser("cache", help="list or clear the result cache ($COLLAPSE_CACHE or .collapse_cache)")
    cache.add_argument("action", choices=["list", "clear"])

    cite = sub.add_parser("cite", help="print BibTeX for a law (id or prefix)")
    cite.add_argument("law", help="a law id, a prefix such as linreg/accumulate, or 'all'")

    fig = sub.add_parser("figures", help="regenerate every figure (PDF and PNG)")
    fig.add_argument("--outdir", default=None, help="where to write (default: the figures/ package folder)")
    fig.add_argument("--seeds", type=_int, default=None, help="seeds per curve (default: per figure)")
    fig.add_argument("--only", nargs="+", default=None, metavar="NAME", help="figure names")
    fig.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_distributed_options(fig)
    return parser


def _config_from_args(model, args):
    values = {f.name: getattr(args, f"cfg_{f.name}") for f in dataclasses.fields(model.config)}
    return model.config(**values)


def _simulate(args) -> int:
    from . import get_model, run

    model = get_model(args.model)
    cfg = _config_from_args(model, args)
    if args.convention not in ("fit", "downstream"):
        _die(f"unknown convention {args.convention!r}; choose one of: fit, downstream")
    result = run(cfg, args.seeds, args.seed, chunk_size=args.chunk_size, progress=False if args.quiet else None)
    theory = model.theory(cfg, result.generation, args.convention)
    if args.json:
        out = result.to_json(theory)
        out["convention"] = args.convention
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"{model.name} {cfg}  seeds={result.seeds} seed={result.seed}")
    for metric, summary in result.metrics.items():
        curve = theory.get(metric)
        print(f"\n{metric}")
        print(f"{'gen':>5} {'mean':>12} {'sem':>10} {'q0.05':>12} {'median':>12} {'q0.95':>12} {'theory':>12}")
        q = summary.quantiles
        for g in range(len(result.generation)):
            th = "-" if curve is None else f"{curve[g]:12.6g}"
            print(
                f"{g + 1:5d} {summary.mean[g]:12.6g} {summary.sem[g]:10.3g} {q['0.05'][g]:12.6g} "
                f"{q['0.5'][g]:12.6g} {q['0.95'][g]:12.6g} {th:>12}"
            )
    return 0


def _verify(args) -> int:
    from .models.config import config_hash
    from .laws import DEFAULT_ALPHA, law_metadata, power_seeds, select_laws, verify

    laws = select_laws(args.only)
    if args.list:
        for law in laws:
            print(f"{law.id:32s} {law.kind:12s} {law.title}")
        return 0
    alpha = DEFAULT_ALPHA if args.alpha is None else args.alpha
    checks, results = verify(laws, seeds=args.seeds, seed=args.seed, alpha=alpha, progress=False if args.quiet else None)
    failed = [c for c in checks if not c.passed]
    for law in laws:
        res = results[config_hash(law.config)]
        needed = power_seeds(law, res, alpha, len(checks))
        if needed is not None and res.seeds < needed:
            print(f"collapse: warning: {law.id}: {res.seeds} seeds give less than 99% power against its wrong twin "
                  f"(needs {needed})", file=sys.stderr)
    if args.json:
        json.dump(
            {
                "alpha": alpha,
                "checks": [c.to_json() for c in checks],
                "laws": [law_metadata(law) for law in laws],
                "passed": not failed,
            },
            sys.stdout,
        )
        sys.stdout.write("\n")
    else:
        print(f"family-wise false-alarm rate {alpha:g} over {len(checks)} checks (Bonferroni)")
        print(f"{'law':40s} {'gen':>4} {'predicted':>12} {'empirical':>12} {'sem':>10} {'z':>7} {'|z|max':>7}  verdict")
        refused = [c for c in checks if c.refused]
        for c in checks:
            verdict = "refused" if c.refused else ("pass" if c.passed else "FAIL")
            bound = "<=" if c.kind == "upper_bound" else "  "
            z = f"{'-':>7}" if c.z is None else f"{c.z:7.2f}"
            print(
                f"{c.law:40s} {c.generation:4d} {bound}{c.predicted:10.6g} {c.empirical:12.6g} {c.sem:10.3g} "
                f"{z} {c.z_critical:7.2f}  {verdict}"
            )
        for c in refused:
            print(f"refused {c.law} at generation {c.generation}: {c.refused}")
        print(f"\n{len(checks) - len(failed) - len(refused)} passed, {len(failed)} failed, {len(refused)} refused "
              "(no honest z-score at this seed count)")
    return 1 if failed else 0


def _calibrate(args) -> int:
    from pathlib import Path

    from .calibrate import DEFAULT_BASE_SEEDS, DEFAULT_SEEDS, calibrate, format_calibration
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
            print(f"base seed {seed}: {len(checks)} checks, {failed} failed ({time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr)

    cal = calibrate(laws, range(args.first_seed, args.first_seed + B),
                    seeds=DEFAULT_SEEDS if args.seeds is None else args.seeds,
                    alpha=DEFAULT_ALPHA if args.alpha is None else args.alpha, confidence=args.confidence,
                    progress=False, on_run=on_run)
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
    report, paths = reproduce(args.outdir, quick=args.quick, only=args.only, seeds=args.seeds,
                              progress=False if args.quiet else None)
    for law in report["laws"]:
        maxz = "     -" if law["max_abs_z"] is None else f"{law['max_abs_z']:6.2f}"
        refused = f"  ({len(law['refused'])} refused)" if law["refused"] else ""
        print(f"{'pass' if law['passed'] else 'FAIL'}  {law['id']:44s} seeds={law['seeds']:<6d} max z={maxz}{refused}")
    for path in paths:
        print(path)
    failed = sum(not law["passed"] for law in report["laws"])
    print(f"{len(report['laws']) - failed} passed, {failed} failed  ({time.perf_counter() - t0:.0f} s)")
    return 1 if failed else 0


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
    from .laws import LAWS, select_laws

    laws = list(LAWS.values()) if args.law == "all" else select_laws([args.law])
    seen = []
    for law in laws:
        if law.reference not in seen:
            seen.append(law.reference)
    print("\n\n".join(ref.bibtex() for ref in seen))
    return 0


def _start_processes(args) -> None:
    """``jax.distributed`` from the flags or the environment; only process 0 prints and writes."""
    from .engine import distributed

    if not hasattr(args, "process_id"):
        return
    settings = distributed.settings_from(args.coordinator_address, args.num_processes, args.process_id,
                                         auto=args.distributed)
    distributed.initialize(settings)
    if settings is not None and not distributed.is_primary():
        import os
        import tempfile

        sys.stdout = open(os.devnull, "w")
        if getattr(args, "outdir", None) is not None or args.command == "figures":
            args.outdir = tempfile.mkdtemp(prefix="collapse-secondary-")
        if getattr(args, "out", None) is not None:
            args.out = None
        args.quiet = True


INTERRUPTED = 130  # the shell's status for a program stopped by SIGINT


def main(argv=None) -> int:
    """Entry point of the ``collapse`` console script."""
    warnings.showwarning = _show_warning
    args = _build_parser().parse_args(argv)
    from .models.config import ConfigError

    if getattr(args, "seeds", None) is not None and args.seeds < 1:
        _die(f"--seeds must be >= 1, got {args.seeds}")
    try:
        _start_processes(args)
        handler = {"simulate": _simulate, "verify": _verify, "figures": _figures, "reproduce": _reproduce, "calibrate": _calibrate,
                   "cache": _cache, "cite": _cite}[args.command]
        return handler(args)
    except (ConfigError, ValueError) as err:
        _die(str(err))
    except KeyboardInterrupt:
        print("collapse: interrupted", file=sys.stderr)
        return INTERRUPTED


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
