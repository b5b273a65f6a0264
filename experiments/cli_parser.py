"""The ``collapse`` parser: commands, generated config options, help, typo suggestions.

Split from :mod:`model_collapse.experiments.cli` (the commands and the entry point).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import inspect
import math
import re
import sys
import textwrap
from typing import Any

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
        if (
            "default" not in text
            and shown
            and action.option_strings
            and not isinstance(action, argparse._VersionAction)
        ):
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
        super().__init__([flag, "--no-" + flag[2:]], dest, nargs="?", default=default, help=help, metavar="true|false")

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
        out[m.group(1)] = text[m.end() : nxt.start() if nxt else len(text)].strip().rstrip(".")
    return out


def _field_type(field, default):
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    kind = kind.replace(" ", "").removesuffix("|None")  # an optional field: its type, default None
    kind = kind or type(default).__name__
    return {"int": int, "float": float, "bool": bool}.get(kind, str)


def _field_optional(field) -> bool:
    kind = field.type if isinstance(field.type, str) else str(field.type)
    return kind.replace(" ", "").endswith("|None")


class _ExplicitNone:
    """``--top-k none``: the value None, given on the command line (a missing option is plain ``None``)."""

    def __repr__(self) -> str:
        return "None"


EXPLICIT_NONE = _ExplicitNone()


def config_value(value: Any) -> Any:
    """A parsed config option's value for the config: ``--top-k none`` is ``None``."""
    return None if value is EXPLICIT_NONE else value


def _optional(parse):
    def parse_optional(text: str):
        return EXPLICIT_NONE if text.strip().lower() == "none" else parse(text)

    return parse_optional


def _sampler_note(model_name: str | None) -> str:
    from . import MODELS

    defaults = ", ".join(f"{name}: {m.default_sampler[0]}" for name, m in MODELS.items())
    if model_name is None:
        return f"the default differs by model ({defaults})"
    name, why = MODELS[model_name].default_sampler
    return f"the default differs by model ({defaults}); {model_name} uses {name} by default: {why}"


def _config_option(group, name: str, kind, docs: list[str], choices, default, note="", optional=False):
    flag = "--" + name.replace("_", "-")
    text = "; ".join(d for d in docs if d)
    if choices and not all(re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text) for c in choices):
        text += f"; one of: {', '.join(choices)}"
    if note:
        text += f"; {note}"
    text = text.replace("%", "%%")  # argparse formats help with %: a literal "10%" must not be read as a code
    if kind is bool:
        group.add_argument(flag, dest=f"cfg_{name}", action=_BoolAction, default=default, help=text)
        return
    parse = _choice(name, choices) if choices else {int: _int, float: _float}.get(kind, str)
    if optional:
        parse = _optional(parse)
        if "none" not in text:
            text += "; none: unset"
    group.add_argument(
        flag, dest=f"cfg_{name}", type=parse, default=default, metavar=name.upper(), choices=choices or None, help=text
    )


def _add_config_options(parser: argparse.ArgumentParser, config_cls, model_name: str | None = None) -> None:
    """One option per field of ``config_cls``, with its help, choices and default."""
    group = parser.add_argument_group(f"{config_cls.model} config (every field of {config_cls.__name__})")
    docs = _field_docs(config_cls)
    choices = getattr(config_cls, "CHOICES", {})
    for f in dataclasses.fields(config_cls):
        note = _sampler_note(model_name) if f.name == "sampler" else ""
        _config_option(
            group,
            f.name,
            _field_type(f, f.default),
            [docs.get(f.name, "")],
            choices.get(f.name),
            f.default,
            note=note,
            optional=_field_optional(f),
        )


def _add_union_config_options(parser: argparse.ArgumentParser) -> None:
    """Every model's config fields, default ``None`` (each law's own config), for ``verify``."""
    from . import MODELS

    group = parser.add_argument_group(
        "config (default: each law's own config; give the options of the laws' model to check them at yours)"
    )
    fields: dict[str, dict] = {}
    for name, model in MODELS.items():
        docs = _field_docs(model.config)
        for f in dataclasses.fields(model.config):
            entry = fields.setdefault(
                f.name,
                {"kind": _field_type(f, f.default), "docs": [], "models": [], "choices": [], "optional": False},
            )
            entry["optional"] |= _field_optional(f)
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
        _config_option(
            group,
            name,
            e["kind"],
            docs,
            tuple(e["choices"]),
            None,
            note=_sampler_note(None) if name == "sampler" else "",
            optional=e["optional"],
        )


def _config_overrides(args) -> dict:
    return {k[4:]: config_value(v) for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}


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

    parser = _Parser(
        prog="collapse",
        description="Model collapse: simulate, verify laws, draw figures.",
        epilog=EXIT_STATUSES + "\n\n`collapse COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"collapse (model-collapse) {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    parser.collapse_parsers = {}

    sim = sub.add_parser(
        "simulate",
        help="simulate one config and print per-generation statistics",
        description="Simulate one config and print per-generation statistics and the theory's curve.",
    )
    models = sim.add_subparsers(dest="model", required=True, metavar="MODEL", parser_class=_Parser)
    for name, model in MODELS.items():
        p = models.add_parser(
            name, help=model.config.__doc__.splitlines()[0], description=model.config.__doc__.splitlines()[0]
        )
        _add_config_options(p, model.config, name)
        _add_run_options(p, 4000, "number of seeds")
        p.add_argument(
            "--convention",
            type=_choice("convention", ("fit", "downstream")),
            default="fit",
            choices=("fit", "downstream"),
            metavar="CONVENTION",
            help="theory indexing: fit (generation n is the n-th fit) or downstream (the law at n + 1)",
        )
        p.add_argument(
            "--metrics",
            nargs="+",
            type=_choice("metric", model.metric_names),
            choices=model.metric_names,
            metavar="METRIC",
            help=f"compute only these metrics (default: all of {', '.join(model.metric_names)})",
        )
        p.add_argument("--json", action="store_true", help="print one JSON object")
        parser.collapse_parsers[("simulate", name)] = p

    ver = sub.add_parser(
        "verify",
        help="check registered laws against simulation, at their configs or yours",
        description=textwrap.fill(
            "Check registered laws against simulation. With config options, the named law (or every selected law "
            "of one model that applies) is checked at its own config with those fields changed, e.g. "
            "`collapse verify linreg/replace/fixed --d 4 --T 20 --seeds 512 --sampler exact`. The verdicts use "
            "Holm's step-down procedure at family-wise false-alarm rate ALPHA over every scored check; a check "
            "whose p-value would not be honest at this seed count is refused, and the verification is then "
            "inconclusive.",
            88,
        ),
        epilog=EXIT_STATUSES,
    )
    ver.add_argument("laws", nargs="*", metavar="LAW", help="law ids, prefixes or glob patterns (default: all)")
    ver.add_argument("--only", nargs="+", default=None, metavar="ID", help="more law ids, prefixes or patterns")
    ver.add_argument("--list", action="store_true", help="list the selected laws (that apply to the config) and exit")
    ver.add_argument("--json", action="store_true", help="print the verification as JSON")
    ver.add_argument("--alpha", type=_float, default=None, help="family-wise false-alarm rate (default: 0.001)")
    ver.add_argument(
        "--generations-checked",
        type=_int,
        nargs="+",
        default=None,
        metavar="N",
        help="the generations to check (default: each law's own, within the config's generations)",
    )
    _add_run_options(ver, None, "seeds per law (default: each law's own, 20,000)")
    _add_union_config_options(ver)
    parser.collapse_parsers[("verify",)] = ver

    cal = sub.add_parser(
        "calibrate",
        help="rerun verify on many base seeds; observed vs nominal false-alarm rates",
        epilog="exit status: 0 calibrated, 1 an observed rate is significantly above nominal, 2 bad input",
    )
    cal.add_argument("--base-seeds", type=_int, default=None, help="independent verification runs (default: 40)")
    cal.add_argument("--first-seed", type=_int, default=1, help="base seeds are FIRST..FIRST+B-1")
    cal.add_argument("--seeds", type=_int, default=None, help="seeds per law and run (default: 2048)")
    cal.add_argument(
        "--alpha", type=_float, default=None, help="family-wise false-alarm rate of each run (default: 0.001)"
    )
    cal.add_argument("--confidence", type=_float, default=0.99, help="of each interval")
    cal.add_argument("--only", nargs="+", default=None, metavar="ID", help="law ids or glob patterns")
    cal.add_argument("--json", action="store_true", help="print the calibration as JSON")
    cal.add_argument("--out", default=None, metavar="FILE", help="also write the JSON to FILE (atomically)")
    cal.add_argument("--quiet", action="store_true", help="no progress")
    _add_distributed_options(cal)
    parser.collapse_parsers[("calibrate",)] = cal

    rep = sub.add_parser(
        "reproduce",
        help="verify every law, write report.md/report.json, draw every figure (cached)",
        epilog=EXIT_STATUSES,
    )
    rep.add_argument("--quick", action="store_true", help="fewer seeds: minutes on a laptop")
    rep.add_argument("--only", nargs="+", default=None, metavar="NAME", help="law ids or figure names (prefixes)")
    rep.add_argument("--seeds", type=_int, default=None, help="seeds per law and per curve (default: each one's own)")
    rep.add_argument("--outdir", default="reproduction", metavar="DIR", help="where report and figures go")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_distributed_options(rep)
    parser.collapse_parsers[("reproduce",)] = rep

    cache = sub.add_parser("cache", help="list or clear the result cache ($COLLAPSE_CACHE or .collapse_cache)")
    cache.add_argument(
        "action",
        type=_choice("action", ("list", "clear")),
        choices=("list", "clear"),
        metavar="ACTION",
        help="list or clear",
    )
    parser.collapse_parsers[("cache",)] = cache

    cite = sub.add_parser(
        "cite",
        help="print BibTeX: of the papers behind laws (id or prefix), or of this package",
        description="BibTeX of the paper behind each law (its note says whether the paper states the law or the "
        "package derived it in the paper's setting), or of the package itself ('package').",
    )
    cite.add_argument(
        "law", metavar="LAW", help="a law id, a prefix such as linreg/accumulate, 'all', or 'package' (this package)"
    )
    parser.collapse_parsers[("cite",)] = cite

    fig = sub.add_parser("figures", help="regenerate every figure (PDF and PNG)")
    fig.add_argument(
        "--outdir",
        default=None,
        metavar="DIR",
        help="where to write (default: collapse-figures in the working directory, "
        "model_collapse.figures.DEFAULT_OUTDIR)",
    )
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
    elsewhere = [
        (k[1], o)
        for k, p in parser.collapse_parsers.items()
        if k[0] == "simulate" and k != key
        for o in _option_strings(p)
        if o.lower() == token.lower()
    ]
    if elsewhere:
        owners = ", ".join(sorted({model for model, _ in elsewhere}))
        return f"{message}; {elsewhere[0][1]} is an option of {owners}, not of {key[-1]}"
    near = difflib.get_close_matches(token, options, n=1, cutoff=0.7)
    return f"{message}; did you mean {near[0]}?" if near else message
