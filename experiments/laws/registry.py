"""Laws and their registry.

A :class:`Law` is a function of the config it is checked at: ``predict(cfg, n)`` gives
the predicted values at generations ``n`` for ``cfg``, ``covers(cfg)`` says whether the
law applies to ``cfg`` at all (``None``) or why not (a one-line reason), and ``config``
is only the config the law is registered at, the default of ``collapse verify``. So a
law can be checked at any config it covers::

    law = LAWS["linreg/replace/fixed"].at(LinRegConfig(d=4, T=40, generations=5))
    law.predict(law.config, [1, 5])       # sigma2 d n/(T-d-1) at d=4, T=40

and ``dataclasses.replace(law, config=cfg)`` predicts for ``cfg`` too (or refuses a
config the law does not cover, with :class:`ConfigError`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from ..models.config import ConfigError, config_dict
from .references import DERIVED_HERE, PUBLISHED, STATUSES, Reference
from .verdicts import Verdict, as_verdict

__all__ = ["LAWS", "Law", "Setting", "citations", "law_metadata", "register_law", "select_laws", "setting"]

# Choice fields that change how a config is simulated, not what it simulates: a law
# covers every value of these unless it says otherwise.
_NEUTRAL = ("sampler", "precision")


@dataclasses.dataclass(frozen=True)
class Setting:
    """``covers(cfg)`` for a law about one model with some fields fixed (e.g. the regime).

    Called with a config, returns ``None`` if the law applies to it, or a one-line
    reason why not. ``extra`` adds a condition of its own (``cfg -> reason or None``).
    """

    model: str
    values: tuple[tuple[str, Any], ...] = ()
    extra: Callable[[Any], str | None] | None = None

    def __call__(self, cfg) -> str | None:
        model = getattr(cfg, "model", None)
        if model != self.model:
            return f"a {self.model} law; this is a {model} config"
        for name, want in self.values:
            got = getattr(cfg, name, None)
            if got != want:
                return f"the law is for {name}={want}, not {name}={got}"
        return None if self.extra is None else self.extra(cfg)


def setting(model: str, extra: Callable[[Any], str | None] | None = None, **values: Any) -> Setting:
    """A :class:`Setting`: ``setting("linreg", regime="replace", design="fixed")``."""
    return Setting(model, tuple(values.items()), extra)


def _default_covers(cfg) -> Setting:
    """The config's model and every choice field but the sampler and the precision."""
    choices = getattr(type(cfg), "CHOICES", {})
    return setting(cfg.model, **{k: getattr(cfg, k) for k in choices if k not in _NEUTRAL})


def _positional_arity(fn) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


@dataclasses.dataclass(frozen=True)
class Pinned:
    """A prediction written as a function of ``n`` alone, for one config (the older form).

    It predicts at that config only: asked for another, it raises :class:`ConfigError`
    instead of silently returning the old config's values.
    """

    fn: Callable
    config: Any

    def __call__(self, cfg, n):
        if cfg != self.config:
            raise ConfigError(
                "this law's prediction is a function of the generation alone, written for one config; "
                "write predict(cfg, n) to check it at another config"
            )
        return self.fn(n)


def as_predictor(fn: Callable, config: Any) -> Callable:
    """``fn`` as a ``(cfg, n)`` function: a one-argument ``n -> values`` is pinned to ``config``."""
    if fn is None or not callable(fn):
        raise TypeError(f"a prediction must be a function (cfg, n) -> values, got {fn!r}")
    return Pinned(fn, config) if _positional_arity(fn) == 1 else fn


@dataclasses.dataclass(frozen=True, init=False)
class Law:
    """A closed form checked against simulation.

    Attributes:
        id: unique, slash-separated (``model/regime/...``).
        title: one line stating the formula.
        reference: the paper: the one that states the law (``status`` "published"),
            or the one whose setting it is (``status`` "derived here").
        status: ``"published"`` (the paper states this formula) or ``"derived here"``
            (the package derived it, in the paper's setting).
        statement: where: the theorem or equation as the paper numbers it (published),
            or the paper's setting and what the paper itself states nearby (derived here).
        metric: the metric compared (a name in the model's ``metrics``).
        verdict: the kind of law, an object that owns its test
            (:mod:`model_collapse.experiments.laws.verdicts`); a kind name such as
            ``"expectation"`` or ``"upper_bound"`` is accepted (also as ``kind=``).
        predict: ``(cfg, generations) -> predicted values`` (for a
            :class:`~.verdicts.Distribution`, one distribution per generation). A
            function of ``generations`` alone is accepted and pinned to ``config``.
        perturbed: a deliberately wrong prediction, same signature, that the check
            must reject (the law's wrong twin: the check's power is measured on it).
        config: the config the law is registered at (the default of ``collapse verify``).
        generations: the generations checked.
        seeds: default seed count.
        covers: ``cfg -> None`` if the law applies to ``cfg``, else a one-line reason;
            default: the same model and the same choice fields (regime, design,
            estimator, ...) as ``config``, any sampler and precision.
        variance: optional ``(cfg, generations) -> Var(metric)`` of one seed, from
            theory; where given, the z-score uses ``sqrt(variance/seeds)`` instead of
            the run's standard error.
    """

    id: str
    title: str
    reference: Reference
    status: str
    statement: str
    metric: str
    verdict: Verdict
    predict: Callable
    perturbed: Callable
    config: Any
    generations: tuple[int, ...]
    seeds: int = 20_000
    covers: Callable[[Any], str | None] = None
    variance: Callable | None = None

    def __init__(
        self,
        id: str,
        title: str,
        reference: Reference,
        metric: str,
        verdict: Verdict | str | None = None,
        predict: Callable | None = None,
        perturbed: Callable | None = None,
        config: Any = None,
        generations=(),
        seeds: int = 20_000,
        covers: Callable | None = None,
        variance: Callable | None = None,
        *,
        status: str | None = None,
        statement: str | None = None,
        kind: str | None = None,
    ):
        if kind is not None:
            if verdict is not None and as_verdict(verdict).name != kind:
                raise ValueError(f"{id}: kind={kind!r} contradicts verdict={verdict!r}")
            verdict = verdict if verdict is not None else kind
        if verdict is None:
            raise TypeError(f"{id}: a law needs a verdict (e.g. Expectation())")
        if config is None:
            raise TypeError(f"{id}: a law needs the config it is registered at")
        if status not in STATUSES:
            raise ValueError(f"{id}: status must be one of {', '.join(map(repr, STATUSES))}, got {status!r}")
        if not statement:
            raise ValueError(f"{id}: a law needs a statement: the theorem it reproduces, or whose setting it is")
        gens = tuple(int(g) for g in generations)
        if not gens or min(gens) < 1 or list(gens) != sorted(set(gens)):
            raise ValueError(f"{id}: generations must be increasing integers >= 1, got {generations!r}")
        set_ = lambda name, value: object.__setattr__(self, name, value)
        set_("id", id)
        set_("title", title)
        set_("reference", reference)
        set_("status", status)
        set_("statement", statement)
        set_("metric", metric)
        set_("verdict", as_verdict(verdict))
        set_("predict", as_predictor(predict, config))
        set_("perturbed", as_predictor(perturbed, config))
        set_("config", config)
        set_("generations", gens)
        set_("seeds", int(seeds))
        set_("covers", _default_covers(config) if covers is None else covers)
        set_("variance", None if variance is None else as_predictor(variance, config))
        reason = self.covers(config)
        if reason is not None:
            raise ConfigError(f"law {id} does not apply to this config: {reason}")
        if max(gens) > config.generations:
            raise ConfigError(f"law {id} checks generation {max(gens)}, beyond the config's {config.generations}")

    @property
    def model(self) -> str:
        """The name of the model the law is about (its config's)."""
        return self.config.model

    @property
    def source(self) -> str:
        """One line: ``Gerstgrasser et al. 2024, Theorem 1 (published)`` or ``derived here (... setting)``."""
        if self.status == PUBLISHED:
            return f"{self.reference.short()}, {self.statement} ({PUBLISHED})"
        return f"{DERIVED_HERE}; {self.statement}"

    def bibtex(self) -> str:
        """The paper's BibTeX, its ``note`` saying what this law takes from it."""
        return self.reference.bibtex(note=f"{self.status}: {self.statement}")

    @property
    def kind(self) -> str:
        """The verdict's name: ``expectation``, ``upper_bound``, ..."""
        return self.verdict.name

    def at(self, config: Any = None, generations: Iterable[int] | None = None) -> Law:
        """The same law checked at ``config`` (default: its own) and ``generations``.

        ``generations`` defaults to the law's own that ``config`` simulates.

        Raises:
            ConfigError: the law does not cover ``config`` (the reason), or no checked
                generation lies within the config's.
        """
        cfg = self.config if config is None else config
        reason = self.covers(cfg)
        if reason is not None:
            raise ConfigError(f"law {self.id} does not apply to this config: {reason}")
        if generations is None:
            gens = tuple(g for g in self.generations if g <= cfg.generations)
            if not gens:
                raise ConfigError(
                    f"law {self.id} checks generations {', '.join(map(str, self.generations))}; "
                    f"the config simulates only {cfg.generations}"
                )
        else:
            gens = tuple(sorted({int(g) for g in generations}))
            if not gens or gens[0] < 1 or gens[-1] > cfg.generations:
                raise ConfigError(
                    f"generations to check must lie in 1..{cfg.generations} (the config's), "
                    f"got {', '.join(map(str, generations)) or 'none'}"
                )
        if cfg == self.config and gens == self.generations:
            return self
        return dataclasses.replace(self, config=cfg, generations=gens)


LAWS: dict[str, Law] = {}


def register_law(law: Law) -> Law:
    if law.id in LAWS:
        raise ValueError(f"law {law.id!r} registered twice")
    LAWS[law.id] = law
    return law


def select_laws(patterns: list[str] | None = None) -> list[Law]:
    """Laws whose id matches any glob pattern or starts with any prefix (all when ``patterns`` is empty).

    A pattern that is a law's id names that law only, not the laws whose ids it prefixes
    (``categorical/replace/support`` is not ``categorical/replace/support-poisson/M50``).
    """
    if not patterns:
        return list(LAWS.values())

    def matches(law_id: str, pattern: str) -> bool:
        if pattern in LAWS:
            return law_id == pattern
        return fnmatch.fnmatch(law_id, pattern) or law_id.startswith(pattern)

    chosen = [law for law in LAWS.values() if any(matches(law.id, p) for p in patterns)]
    if not chosen:
        import difflib

        near = difflib.get_close_matches(patterns[0], list(LAWS), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ConfigError(f"no law matches {' '.join(patterns)}{hint}; see `collapse verify --list`")
    return chosen


def citations(laws: Iterable[Law]) -> str:
    """BibTeX of the papers behind ``laws``, each once, after ``%`` comment lines naming its laws.

    A paper's ``note`` is what the laws take from it: the statement of a single law (or
    of laws that share it), else the paper's own summary (:attr:`Reference.theorem`).
    """
    by_paper: dict[str, list[Law]] = {}
    for law in laws:
        by_paper.setdefault(law.reference.key, []).append(law)
    blocks = []
    for group in by_paper.values():
        ref = group[0].reference
        notes = {f"{law.status}: {law.statement}" for law in group}
        comments = [f"% {law.id}: {law.status}; {law.statement}" for law in group]
        blocks.append("\n".join([*comments, ref.bibtex(note=notes.pop() if len(notes) == 1 else None)]))
    return "\n\n".join(blocks)


def law_metadata(law: Law) -> dict[str, Any]:
    return {
        "id": law.id,
        "title": law.title,
        "kind": law.kind,
        "verdict_kind": law.kind,
        "verdict": law.verdict.describe(),
        "metric": law.metric,
        "config": config_dict(law.config),
        "reference": dataclasses.asdict(law.reference),
        "status": law.status,
        "statement": law.statement,
        "source": law.source,
        "generations": list(law.generations),
        "theory_variance": law.variance is not None,
    }
