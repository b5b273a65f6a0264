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

import argparse
import dataclasses
import difflib
import inspect
import json
import math
import os
import re
import sys
import textwrap
import time
import traceback
import warnings

__all__ = ["EXIT_STATUSES", "entry", "main"]

PASSED, FAILED, BAD_INPUT, INCONCLUSIVE = 0, 1, 2, 3
INTERRUPTED = 130  # the shell's status for a program stopped by SIGINT
_STATUS = {"pass": PASSED, "fail": FAILED, "inconclusive": INCONCLUSIVE}

EXIT_STATUSES = """exit status:
  0    every check passed
  1    a law failed (a check contradicted it); also an internal error, shown with its traceback
  2    bad input: one line on standard error, nothing on standard output
  3    inconclusive: no check failed, but some were refused (no honest p-value at this seed
       count; the table says how many seeds would do)
  130  interrupted"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout, appends each option's default (unless None or a flag's False), and
    never breaks a line inside a hyphenated name (``accumulate-subsample``, ``--real-fraction``)."""

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _format_action_invocation(self, action):
        if isinstance(action, _BoolAction):
            return f"{action.option_strings[0]} [true|false], {action.option_strings[1]}"
        return super()._format_action_invocation(action)

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        shown = default not in (None, False, argparse.SUPPRESS)
        shown = shown or (isinstance(action, _BoolAction) and default is False)
        if ("default" not in text and shown and action.option_strings
                and not isinstance(action, argparse._VersionAction)):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # `--sig` is a typo to report, not an option to guess
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, status 2, no usage dump
        _die(message)


def _die(message: str, status: int = BAD_INPUT):
    first = str(message).strip().splitlines()[0] if str(message).strip() else "invalid input"
    print(f"collapse: error: {first}", file=sys.stderr)
    raise SystemExit(status)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"collapse: warning: {str(message).splitlines()[0]}", file=sys.stderr)


# --------------------------------------------------------------------------------------
# Values


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


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class _BoolAction(argparse.Action):
    """``--flag`` (true), ``--flag true|false`` (``False`` is false) and ``--no-flag`` (false)."""

    def __init__(self, option_strings, dest, default=None, help=None, **kwargs):
        flag = option_strings[0]
        super().__init__([flag, "--no-" + flag[2:]], dest, nargs="?", default=default, help=help,
                         metavar="true|false")

    def __call__(self, parser, namespace, value, option_string=None):
        if option_string.startswith("--no-"):
            if value is not None:
                raise argparse.ArgumentError(self, f"{option_string} takes no value, got {value!r}")
            setattr(namespace, self.dest, False)
        elif value is None or value.lower() in _TRUE:
            setattr(namespace, self.dest, True)
        elif value.lower() in _FALSE:
            setattr(namespace, self.dest, False)
        else:
            raise argparse.ArgumentError(self, f"expected true or false, got {value!r}")


def _choice(name: str, choices) -> callable:
    choices = tuple(choices)

    def parse(text: str) -> str:
        if text in choices:
            return text
        near = difflib.get_close_matches(text, choices, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise argparse.ArgumentTypeError(f"unknown {name} {text!r}{hint}; choose one of: {', '.join(choices)}")

    parse.__name__ = name
    return parse


# --------------------------------------------------------------------------------------
# Config options, generated from the config dataclasses


def _field_docs(cls) -> dict[str, str]:
    """``field -> description`` from the ``Attributes:`` section of the config's docstring."""
    doc = inspect.getdoc(cls) or ""
    if "Attributes:" not in doc:
        return {}
    block = []
    for line in doc.split("Attributes:", 1)[1].splitlines()[1:]:
        if line.strip() and not line.startswith(" "):
            break
        block.append(line.strip())
    text = re.sub(r"``([^`]*)``", r"\1", " ".join(block))
    names = [f.name for f in dataclasses.fields(cls)]
    marks = [m for m in re.finditer(r"(?:^|(?<=\s))(\w+): ", text) if m.group(1) in names]
    out = {}
    for m, nxt in zip(marks, marks[1:] + [None], strict=True):
        out[m.group(1)] = text[m.end():nxt.start() if nxt else len(text)].strip().rstrip(".")
    return out


def _field_type(field, default):
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    kind = kind or type(default).__name__
    return {"int": int, "float": float, "bool": bool}.get(kind, str)


def _sampler_note(model_name: str | None) -> str:
    from . import MODELS

    defaults = ", ".join(f"{name}: {m.default_sampler[0]}" for name, m in MODELS.items())
    if model_name is None:
        return f"the default differs by model ({defaults})"
    name, why = MODELS[model_name].default_sampler
    return f"the default differs by model ({defaults}); {model_name} uses {name} by default: {why}"


def _config_option(group, name: str, kind, docs: list[str], choices, default, note=""):
    flag = "--" + name.replace("_", "-")
    text = "; ".join(d for d in docs if d)
    if choices and not all(re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text) for c in choices):
        text += f"; one of: {', '.join(choices)}"
    if note:
        text += f"; {note}"
    if kind is bool:
        group.add_argument(flag, dest=f"cfg_{name}", action=_BoolAction, default=default, help=text)
        return
    parse = _choice(name, choices) if choices else {int: _int, float: _float}.get(kind, str)
    group.add_argument(flag, dest=f"cfg_{name}", type=parse, default=default, metavar=name.upper(),
                       choices=choices or None, help=text)


def _add_config_options(parser: argparse.ArgumentParser, config_cls, model_name: str | None = None) -> None:
    """One option per field of ``config_cls``, with its help, choices and default."""
    group = parser.add_argument_group(f"{config_cls.model} config (every field of {config_cls.__name__})")
    docs = _field_docs(config_cls)
    choices = getattr(config_cls, "CHOICES", {})
    for f in dataclasses.fields(config_cls):
        note = _sampler_note(model_name) if f.name == "sampler" else ""
        _config_option(group, f.name, _field_type(f, f.default), [docs.get(f.name, "")], choices.get(f.name),
                       f.default, note=note)


def _add_union_config_options(parser: argparse.ArgumentParser) -> None:
    """Every model's config fields, default ``None`` (each law's own config), for ``verify``."""
    from . import MODELS

    group = parser.add_argument_group(
        "config (default: each law's own config; give the options of the laws' model to check them at yours)")
    fields: dict[str, dict] = {}
    for name, model in MODELS.items():
        docs = _field_docs(model.config)
        for f in dataclasses.fields(model.config):
            entry = fields.setdefault(f.name, {"kind": _field_type(f, f.default), "docs": [], "models": [],
                                               "choices": []})
            entry["models"].append(name)
            entry["docs"].append(docs.get(f.name, ""))
            for c in model.config.CHOICES.get(f.name, ()):
                if c not in entry["choices"]:
                    entry["choices"].append(c)
    for name, e in fields.items():
        by_text: dict[str, list[str]] = {}
        for model_name, doc in zip(e["models"], e["docs"], strict=True):
            by_text.setdefault(doc, []).append(model_name)
        docs = [f"{', '.join(names)}: {doc}" for doc, names in by_text.items()]
        _config_option(group, name, e["kind"], docs, tuple(e["choices"]), None,
                       note=_sampler_note(None) if name == "sampler" else "")


def _config_overrides(args) -> dict:
    return {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}


# --------------------------------------------------------------------------------------
# The parser


def _add_run_options(parser: argparse.ArgumentParser, seeds_default: int | None, seeds_help: str) -> None:
    parser.add_argument("--seeds", type=_int, default=seeds_default, help=seeds_help)
    parser.add_argument("--seed", type=_int, default=0, help="base seed: seed i is fold_in(key(SEED), i)")
    parser.add_argument("--chunk-size", type=_int, default=None, help="seeds per compiled call (default: automatic)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_distributed_options(parser)


def _add_distributed_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("several processes (jax.distributed; see experiments/engine/distributed.py)")
    group.add_argument("--coordinator-address", default=None, metavar="HOST:PORT", help="process 0's address")
    group.add_argument("--num-processes", type=_int, default=None, help="how many processes run this command")
    group.add_argument("--process-id", type=_int, default=None, help="this process's id, 0..N-1")
    group.add_argument("--distributed", action="store_true", help="let jax.distributed detect the cluster")


def _build_parser() -> argparse.ArgumentParser:
    from . import MODELS, __version__

    parser = _Parser(prog="collapse", description="Model collapse: simulate, verify laws, draw figures.",
                     epilog=EXIT_STATUSES + "\n\n`collapse COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"collapse (model-collapse) {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    parser.collapse_parsers = {}

    sim = sub.add_parser("simulate", help="simulate one config and print per-generation statistics",
                         description="Simulate one config and print per-generation statistics and the theory's curve.")
    models = sim.add_subparsers(dest="model", required=True, metavar="MODEL", parser_class=_Parser)
    for name, model in MODELS.items():
        p = models.add_parser(name, help=model.config.__doc__.splitlines()[0],
                              description=model.config.__doc__.splitlines()[0])
        _add_config_options(p, model.config, name)
        _add_run_options(p, 4000, "number of seeds")
        p.add_argument("--convention", type=_choice("convention", ("fit", "downstream")), default="fit",
                       choices=("fit", "downstream"), metavar="CONVENTION",
                       help="theory indexing: fit (generation n is the n-th fit) or downstream (the law at n + 1)")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        parser.collapse_parsers[("simulate", name)] = p

    ver = sub.add_parser(
        "verify", help="check registered laws against simulation, at their configs or yours",
        description=textwrap.fill(
            "Check registered laws against simulation. With config options, the named law (or every selected law "
            "of one model that applies) is checked at its own config with those fields changed, e.g. "
            "`collapse verify linreg/replace/fixed --d 4 --T 20 --seeds 512 --sampler exact`. The verdicts use "
            "Holm's step-down procedure at family-wise false-alarm rate ALPHA over every scored check; a check "
            "whose p-value would not be honest at this seed count is refused, and the verification is then "
            "inconclusive.", 88),
        epilog=EXIT_STATUSES)
    ver.add_argument("laws", nargs="*", metavar="LAW", help="law ids, prefixes or glob patterns (default: all)")
    ver.add_argument("--only", nargs="+", default=None, metavar="ID", help="more law ids, prefixes or patterns")
    ver.add_argument("--list", action="store_true", help="list the selected laws (that apply to the config) and exit")
    ver.add_argument("--json", action="store_true", help="print the verification as JSON")
    ver.add_argument("--alpha", type=_float, default=None, help="family-wise false-alarm rate (default: 0.001)")
    ver.add_argument("--generations-checked", type=_int, nargs="+", default=None, metavar="N",
                     help="the generations to check (default: each law's own, within the config's generations)")
    _add_run_options(ver, None, "seeds per law (default: each law's own, 20,000)")
    _add_union_config_options(ver)
    parser.collapse_parsers[("verify",)] = ver

    cal = sub.add_parser("calibrate", help="rerun verify on many base seeds; observed vs nominal false-alarm rates",
                         epilog="exit status: 0 calibrated, 1 an observed rate is significantly above nominal, "
                         "2 bad input")
    cal.add_argument("--base-seeds", type=_int, default=None, help="independent verification runs (default: 40)")
    cal.add_argument("--first-seed", type=_int, default=1, help="base seeds are FIRST..FIRST+B-1")
    cal.add_argument("--seeds", type=_int, default=None, help="seeds per law and run (default: 2048)")
    cal.add_argument("--alpha", type=_float, default=None,
                     help="family-wise false-alarm rate of each run (default: 0.001)")
    cal.add_argument("--confidence", type=_float, default=0.99, help="of each interval")
    cal.add_argument("--only", nargs="+", default=None, metavar="ID", help="law ids or glob patterns")
    cal.add_argument("--json", action="store_true", help="print the calibration as JSON")
    cal.add_argument("--out", default=None, metavar="FILE", help="also write the JSON to FILE (atomically)")
    cal.add_argument("--quiet", action="store_true", help="no progress")
    _add_distributed_options(cal)
    parser.collapse_parsers[("calibrate",)] = cal

    rep = sub.add_parser("reproduce", help="verify every law, write report.md/report.json, draw every figure (cached)",
                         epilog=EXIT_STATUSES)
    rep.add_argument("--quick", action="store_true", help="fewer seeds: minutes on a laptop")
    rep.add_argument("--only", nargs="+", default=None, metavar="NAME", help="law ids or figure names (prefixes)")
    rep.add_argument("--seeds", type=_int, default=None, help="seeds per law and per curve (default: each one's own)")
    rep.add_argument("--outdir", default="reproduction", metavar="DIR", help="where report and figures go")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_distributed_options(rep)
    parser.collapse_parsers[("reproduce",)] = rep

    cache = sub.add_parser("cache", help="list or clear the result cache ($COLLAPSE_CACHE or .collapse_cache)")
    cache.add_argument("action", type=_choice("action", ("list", "clear")), choices=("list", "clear"),
                       metavar="ACTION", help="list or clear")
    parser.collapse_parsers[("cache",)] = cache

    cite = sub.add_parser("cite", help="print BibTeX for a law (id or prefix)")
    cite.add_argument("law", metavar="LAW", help="a law id, a prefix such as linreg/accumulate, or 'all'")
    parser.collapse_parsers[("cite",)] = cite

    fig = sub.add_parser("figures", help="regenerate every figure (PDF and PNG)")
    fig.add_argument("--outdir", default=None, metavar="DIR",
                     help="where to write (default: collapse-figures in the working directory, "
                     "model_collapse.figures.DEFAULT_OUTDIR)")
    fig.add_argument("--seeds", type=_int, default=None, help="seeds per curve (default: per figure)")
    fig.add_argument("--only", nargs="+", default=None, metavar="NAME", help="figure names")
    fig.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_distributed_options(fig)
    parser.collapse_parsers[("figures",)] = fig
    return parser


def _option_strings(parser) -> list[str]:
    return [s for s in parser._option_string_actions if s.startswith("--")]


def _unrecognized(parser, args, extra: list[str]) -> str:
    """``unrecognized arguments: ...``, with the nearest option for the first unknown one."""
    message = f"unrecognized arguments: {' '.join(extra)}"
    key = (args.command, args.model) if args.command == "simulate" else (args.command,)
    here = parser.collapse_parsers.get(key)
    token = next((t.split("=", 1)[0] for t in extra if t.startswith("-")), None)
    if here is None or token is None:
        return message
    options = _option_strings(here)
    lower = {o.lower(): o for o in options}
    if token.lower() in lower:
        return f"{message}; did you mean {lower[token.lower()]}?"
    elsewhere = [(k[1], o) for k, p in parser.collapse_parsers.items() if k[0] == "simulate" and k != key
                 for o in _option_strings(p) if o.lower() == token.lower()]
    if elsewhere:
        return f"{message}; {elsewhere[0][1]} is an option of {elsewhere[0][0]}, not of {key[-1]}"
    near = difflib.get_close_matches(token, options, n=1, cutoff=0.7)
    return f"{message}; did you mean {near[0]}?" if near else message


# --------------------------------------------------------------------------------------
# Commands


def _config_from_args(model, args):
    values = {f.name: getattr(args, f"cfg_{f.name}") for f in dataclasses.fields(model.config)}
    return model.config(**values)


def _simulate(args) -> int:
    from . import get_model, run

    model = get_model(args.model)
    cfg = _config_from_args(model, args)
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


def _laws_at(laws, overrides: dict, generations) -> list:
    """Each law at its config with ``overrides`` (and ``generations``); those that do not apply are skipped."""
    from .models.config import ConfigError

    models = sorted({law.model for law in laws})
    if overrides and len(models) > 1:
        from . import MODELS

        first = next(iter(overrides))
        owner = next((m for m in models if first in {f.name for f in dataclasses.fields(MODELS[m].config)}), models[0])
        raise ConfigError(f"config options apply to one model's laws, and laws of {', '.join(models)} are selected: "
                          f"name a law or a model, e.g. `collapse verify {owner} --{first.replace('_', '-')} ...`")
    if overrides:
        fields = [f.name for f in dataclasses.fields(laws[0].config)]
        foreign = [k for k in overrides if k not in fields]
        if foreign:
            raise ConfigError(f"--{foreign[0].replace('_', '-')} is not a {models[0]} config option; its options: "
                              + ", ".join("--" + f.replace("_", "-") for f in fields))
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
        print(f"collapse: note: {len(skipped)} selected laws do not apply to this config and are skipped "
              f"(e.g. {skipped[0][1]})", file=sys.stderr)
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
            print(f"{law.id:{width}s}  {law.kind:12s} {law.title}")
        return 0
    alpha = DEFAULT_ALPHA if args.alpha is None else args.alpha
    checks, results = verify(laws, seeds=args.seeds, seed=args.seed, alpha=alpha,
                             progress=False if args.quiet else None)
    outcome = status(checks)
    summary = []
    for law in laws:
        key = config_hash(law.config)
        res = results[key]
        rows = [c for c in checks if c.law == law.id and c.config in (key, None)]
        zs = [c.z for c in rows if c.z is not None]
        summary.append({"law": law, "seeds": res.seeds, "power": power_seeds(law, res, alpha, len(checks)),
                        "largest_z": None if not zs else law.verdict.extreme(zs), "verdict": status(rows)})
    if args.json:
        json.dump({
            "alpha": alpha,
            "correction": "holm",
            "verdict": outcome,
            "passed": outcome != "fail",
            "checks": [c.to_json() for c in checks],
            "laws": [{**law_metadata(s["law"]), "seeds": s["seeds"], "verdict": s["verdict"],
                      "max_abs_z": s["largest_z"],
                      "power": {"probability": 0.99, "wrong_law_rejected_from_seeds": s["power"]}} for s in summary],
        }, sys.stdout)
        sys.stdout.write("\n")
    else:
        _print_verification(checks, summary, alpha, outcome)
    short = [s for s in summary if s["power"] is not None and s["seeds"] < s["power"]]
    if short and not args.json:
        print(f"collapse: warning: {len(short)} of {len(summary)} laws ran with fewer seeds than 99% power against "
              "their wrong twin needs (the 'seeds for 99% power' column)", file=sys.stderr)
    return _STATUS[outcome]


def _print_verification(checks, summary, alpha: float, outcome: str) -> None:
    from scipy import stats as sps

    from .laws.verdicts import as_verdict

    scored = [c for c in checks if c.p_value is not None]
    refused = [c for c in checks if c.refused]
    m = len(scored)
    print(f"Holm step-down over {m} scored checks at family-wise false-alarm rate {alpha:g} ({len(refused)} refused)")
    if m:
        print(f"first (strictest) step: level {alpha / m:.3g}, critical |z| {sps.norm.isf(alpha / m / 2):.2f} "
              f"(two-sided), z {sps.norm.isf(alpha / m):.2f} (one-sided)")
    width = max(len(c.law) for c in checks)
    print(f"\n{'law':{width}s} {'gen':>4} {'predicted':>12} {'empirical':>12} {'sem':>10} {'z':>7} {'z*':>6} {'p':>9}  "
          "verdict")
    for c in checks:
        bound = {"upper_bound": "<=", "lower_bound": ">="}.get(c.kind, "  ")
        pred = f"{'-':>10}" if c.predicted is None else f"{c.predicted:10.6g}"
        z = f"{'-':>7}" if c.z is None else f"{c.z:7.2f}"
        crit = "-"
        if c.z is not None and c.level is not None:
            crit = f"{as_verdict(c.kind).critical(c.level):.2f}"
        p = "-" if c.p_value is None else f"{c.p_value:.2g}"
        sem = f"{c.sem:9.3g}" + ("~" if c.sem_source == "theory" else " ")
        print(f"{c.law:{width}s} {c.generation:4d} {bound}{pred} {c.empirical:12.6g} {sem} {z} {crit:>6} {p:>9}  "
              f"{c.verdict}")
    print("\nz*: the critical value this check faced at its Holm step (p > level passes); "
          "sem~: from the theory's variance of the metric")
    print(f"\n{'law':{width}s}  {'kind':12s} {'seeds':>8} {'seeds for 99% power':>20} {'largest |z|':>12}  verdict")
    for s in summary:
        power = "-" if s["power"] is None else f"{s['power']:,}" + (" SHORT" if s["seeds"] < s["power"] else "")
        largest = "-" if s["largest_z"] is None else f"{s['largest_z']:.2f}"
        print(f"{s['law'].id:{width}s}  {s['law'].kind:12s} {s['seeds']:8,d} {power:>20} {largest:>12}  "
              f"{'FAIL' if s['verdict'] == 'fail' else s['verdict']}")
    print("seeds for 99% power: from this many seeds the check rejects the law's deliberately wrong twin with "
          "probability 0.99 (SHORT: fewer were run)")
    for c in refused:
        print(f"refused {c.law} at generation {c.generation}: {c.refused}")
    failed = sum(not c.passed for c in checks)
    line = {"pass": f"PASS: all {m} checks passed",
            "fail": f"FAIL: {failed} of {m} scored checks failed",
            "inconclusive": f"INCONCLUSIVE: no check failed, but {len(refused)} of {len(checks)} were refused "
                            "(rerun with the seeds they need, or check fewer generations)"}[outcome]
    print(f"\nverdict: {line} (exit status {_STATUS[outcome]})")


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
        verdict = {"pass": "pass", "fail": "FAIL", "inconclusive": "inconclusive"}[law["verdict"]]
        print(f"{verdict:12s}  {law['id']:48s} seeds={law['seeds']:<6d} largest |z|={maxz}{refused}")
    for path in paths:
        print(path)
    counts = {k: sum(law["verdict"] == k for law in report["laws"]) for k in ("pass", "fail", "inconclusive")}
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive  "
          f"({time.perf_counter() - t0:.0f} s)")
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


def main(argv=None) -> int:
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
