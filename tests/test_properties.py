"""Property-based bad-input tests: any config is either valid or refused with one line.

Random and adversarial values (negative, zero, huge, NaN, infinite, wrong types,
unknown names) are thrown at the config constructors, the theory and the CLI. The
outcome must be a valid result or a :class:`ConfigError` (CLI: exit status 2 and a
single ``collapse: error:`` line), never another exception, a traceback or a NaN.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_collapse.experiments import (
    ConfigError,
    GaussianConfig,
    LinRegConfig,
    get_model,
)
from model_collapse.experiments.cli import main

NUMBERS = st.one_of(
    st.integers(-5, 200),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0, 1, 2, 3, 10**9, -1, 0.5, True, None, "3"]),
)
NAMES = st.one_of(
    st.sampled_from(
        [
            "replace",
            "accumulate",
            "accumulate-subsample",
            "mix",
            "fixed",
            "fresh",
            "shared",
            "exact",
            "faithful",
            "unbiased",
            "mle",
            "float32",
            "float64",
        ]
    ),
    st.text(max_size=8),
)


def _check_config(cls, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cfg = cls(**kwargs)
        except ConfigError as err:
            assert str(err) and "\n" not in str(err)
            return
    # Valid: its theory is finite where it exists (bounded sizes keep this cheap).
    if getattr(cfg, "generations", 0) > 200 or getattr(cfg, "M", 0) > 10**6:
        return
    for curve in get_model(cfg.model).theory(cfg, np.arange(1, cfg.generations + 1)).values():
        assert curve is None or np.all(np.isfinite(curve))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    d=NUMBERS,
    T=NUMBERS,
    sigma2=NUMBERS,
    generations=NUMBERS,
    regime=NAMES,
    design=NAMES,
    sampler=NAMES,
    precision=NAMES,
)
def test_linreg_configs_are_valid_or_refused_in_one_line(d, T, sigma2, generations, regime, design, sampler, precision):
    _check_config(
        LinRegConfig,
        dict(
            d=d,
            T=T,
            sigma2=sigma2,
            generations=generations,
            regime=regime,
            design=design,
            sampler=sampler,
            precision=precision,
        ),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dim=NUMBERS,
    M=NUMBERS,
    sigma2=NUMBERS,
    generations=NUMBERS,
    regime=NAMES,
    estimator=NAMES,
    sampler=NAMES,
    real_fraction=NUMBERS,
)
def test_gaussian_configs_are_valid_or_refused_in_one_line(
    dim, M, sigma2, generations, regime, estimator, sampler, real_fraction
):
    _check_config(
        GaussianConfig,
        dict(
            dim=dim,
            M=M,
            sigma2=sigma2,
            generations=generations,
            regime=regime,
            estimator=estimator,
            sampler=sampler,
            real_fraction=real_fraction,
        ),
    )


TOKENS = st.sampled_from(
    [
        "--d",
        "--T",
        "--M",
        "--dim",
        "--sigma2",
        "--generations",
        "--seeds",
        "--regime",
        "--real-fraction",
        "--estimator",
        "--design",
        "-1",
        "0",
        "1",
        "2",
        "3",
        "7",
        "nan",
        "inf",
        "1e400",
        "mix",
        "replace",
        "x",
        "--json",
        "--bogus",
        "",
    ]
)


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(model=st.sampled_from(["linreg", "gaussian"]), tokens=st.lists(TOKENS, max_size=6))
def test_cli_never_tracebacks(capsys, model, tokens):
    argv = ["simulate", model, "--generations", "2", "--seeds", "64", "--quiet", *tokens]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert err.startswith("collapse: error: ") and err.count("\n") == 1 and out == "", (argv, err)
    elif "--json" in argv:
        import json

        data = json.loads(out)
        for summary in data["metrics"].values():
            assert all(math.isfinite(x) for x in summary["mean"]), argv


@settings(max_examples=300, deadline=None)
@given(
    address=st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["127.0.0.1:1234", "host:", ":99", "a:b"])),
    num=st.one_of(st.none(), st.integers(-3, 5), st.text(max_size=4)),
    pid=st.one_of(st.none(), st.integers(-3, 5), st.text(max_size=4)),
    auto=st.booleans(),
)
def test_distributed_settings_are_valid_or_one_line_errors(address, num, pid, auto):
    from model_collapse.experiments.engine.distributed import settings_from

    try:
        out = settings_from(address, num, pid, auto=auto, environ={})
    except ConfigError as err:
        assert str(err) and "\n" not in str(err)
        return
    if out is None:
        assert address is None and num is None and pid is None and not auto
    elif not auto:
        assert set(out) == {"coordinator_address", "num_processes", "process_id"}
        assert 0 <= out["process_id"] < out["num_processes"] and ":" in out["coordinator_address"]


# --------------------------------------------------------------------------------------
# Config hygiene: one value, one config, one cache key, through the API and the CLI


@settings(max_examples=100, deadline=None)
@given(k=st.integers(0, 10**6), d=st.integers(1, 50))
def test_integral_values_are_one_config_and_one_hash(k, d):
    from model_collapse.experiments import config_hash

    a = LinRegConfig(d=d, T=d + 10, sigma2=k)
    for b in (
        LinRegConfig(d=d, T=d + 10, sigma2=float(k)),
        LinRegConfig(d=np.int64(d), T=np.int32(d + 10), sigma2=np.float64(k)),
    ):
        assert a == b and config_hash(a) == config_hash(b) and hash(a) == hash(b)
    assert type(b.d) is int and type(b.sigma2) is float


def test_the_cli_parses_to_the_same_config_and_key():
    from model_collapse.experiments import config_hash
    from model_collapse.experiments.cli import _build_parser, _config_from_args

    model = get_model("gaussian")
    parser = _build_parser()
    configs = [
        _config_from_args(model, parser.parse_args(["simulate", "gaussian", "--sigma2", v, "--M", m]))
        for v, m in (("1", "20"), ("1.0", "20"), ("1e0", "20"))
    ]
    assert len({config_hash(c) for c in configs}) == 1 and configs[0] == GaussianConfig(sigma2=1, M=20)


def _flagged(with_post_init: bool):
    from typing import ClassVar

    from model_collapse.experiments.models.config import config_dataclass

    class Flagged:
        flag: bool = True
        model: ClassVar[str] = "flagged"

    if with_post_init:  # every config of the package validates itself here
        Flagged.__post_init__ = lambda self: None
    return config_dataclass(Flagged)


def test_boolean_fields_take_booleans_only():
    Flagged = _flagged(with_post_init=True)
    assert Flagged(flag=False).flag is False and Flagged(flag=np.bool_(False)).flag is False
    for bad in ("False", 0, 1, None):
        with pytest.raises(ConfigError):
            Flagged(flag=bad)


def test_a_config_without_its_own_checks_is_normalised_too():
    Flagged = _flagged(with_post_init=False)
    assert Flagged(flag=np.bool_(False)).flag is False
    with pytest.raises(ConfigError):
        Flagged(flag="False")


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "linreg", "--d", "8", "--T", "9"],
        ["simulate", "gaussian", "--M", "2", "--dim", "3"],
        ["verify", "linreg/replace/fixed", "--T", "4", "--d", "4"],
        ["verify", "gaussian/mix", "--real-fraction", "0.33"],
        ["cite", "no/such/law"],
    ],
)
def test_config_errors_are_one_line_with_status_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--quiet"] if argv[0] != "cite" else argv)
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == "" and err.startswith("collapse: error: ") and err.count("\n") == 1, err
