"""Every registered figure renders from a small run; make_all writes where it is told, by default the cwd.

The small settings share configs across figures (the three regression figures run one
config between them; nature, regimes and logdet share replace and accumulate), so the file
simulates four configs in all (and nature's single trajectories); the cache is a
temporary folder shared by this module's tests.
``-m slow`` renders each figure with its default settings at 64 seeds (about 13 minutes on two
busy cores: the compilations of some 60 configs, of which linreg_gerstgrasser has 30).
"""

import functools
import importlib
import inspect
import pkgutil

import matplotlib
import pytest
from model_collapse import figures
from model_collapse.experiments.models.config import ConfigError

SEEDS = 64

# Small but complete settings per registered figure: a new figure adds its own here.
SMALL = {
    "linreg_gerstgrasser": {
        "d": 4,
        "T_values": (10,),
        "sigma2_values": (1.0,),
        "generations": 6,
        "regimes": ("replace",),
    },
    "linreg_designs": {"d": 4, "T_values": (10,), "generations": 6, "variants": (("replace", "fixed"),)},
    "linreg_convention": {"d": 4, "T": 10, "generations": 6},
    "linreg_augment": {"T": 8, "real_fractions": (0.5,), "shared": (2, 8), "generations": 6},
    "gaussian_nature": {"M_values": (8,), "generations": 6, "trajectories": 1},
    "gaussian_regimes": {"M": 8, "generations": 6, "real_fractions": (0.5,), "estimators": ("unbiased",)},
    # dim=1 reuses nature's and regimes' configs; the slow test below draws the default dim=10.
    "gaussian_logdet": {
        "dim": 1,
        "M": 8,
        "generations": 6,
        "regimes": ("replace", "accumulate"),
        "estimators": ("unbiased",),
    },
    # 1-D, M = 20, a quarter real, 20 generations: the program of the tempered mix law's default test.
    "gaussian_mad_trajectories": {"dim": 1, "n_real": 5, "n_synthetic": 15, "generations": 20},
    "gaussian_mad_phase": {
        "n_real": (5,),
        "n_synthetic": (15,),
        "temperatures": (0.8, 1.0),
        "window": 5,
        "generations": 20,
    },
    # the programs of the default law checks of tests/laws/test_{weighting,linreg_strong}_laws.py (compiled once)
    "weighting_golden": {
        "M": 20,
        "dim": 4,
        "sampler": "faithful",
        "real_fractions": (0.5,),
        "weights": (),
        "generations": 10,
    },
    "linreg_strong": {"d": 8, "synthetic_shares": (0.25,), "n_values": (40,)},
    "linreg_scaling": {"d": 4, "T0": 12, "n_values": (1,), "T_curve": (6, 10), "T_points": (8,)},
    "linreg_optimal_ridge": {"d": 4, "T": 8, "T0": 12, "n_curves": (1,), "ridges": (), "n_max": 2},
    "categorical_survival": {"K": 8, "M": 12, "generations": 4, "shown": (1, 4), "regimes": ("replace", "mix")},
    "categorical_decoders": {"K": 8, "M": 10, "generations": 4},
    "categorical_scaling": {"K": 50, "M": 20, "shown": (1, 2), "cut": 10},
    "curation": {"M": 8, "K_values": (4,), "generations": 3},
    "verifier": {
        "d": 3,
        "N": 4,
        "generations": 6,
        "verifiers": (("none", 1.0, 1.0), ("good", 0.9, 0.3)),
        "p_values": (0.3, 0.6),
        "sizes": (6,),
        "marked": ("good",),
    },
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("collapse-cache")


@pytest.fixture
def cache(cache_dir, monkeypatch):
    monkeypatch.setenv("COLLAPSE_CACHE", str(cache_dir))
    return cache_dir


def _rc():
    return dict(matplotlib.rcParams.copy())  # a copy: the auto-backend sentinel stays unresolved


def test_registry_is_the_union_of_the_model_modules():
    modules = [m.name for m in pkgutil.iter_modules(figures.__path__) if m.name != "style"]
    union = {}
    for name in modules:
        union.update(importlib.import_module(f"model_collapse.figures.{name}").FIGURES)
    assert {"linreg", "gaussian", "categorical"} <= set(modules)
    assert figures.FIGURES == union
    assert set(SMALL) == set(figures.FIGURES), "give each registered figure small settings in SMALL"


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_signature(name):
    params = list(inspect.signature(figures.FIGURES[name]).parameters.values())
    assert [p.name for p in params[:3]] == ["outdir", "seeds", "progress"]
    assert params[1].default is None and params[2].default is None
    for p in params[3:]:
        assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, p.name
        assert p.name in figures.FIGURES[name].__doc__, f"{name}: document {p.name}"


# The default suite renders these (the cheapest of each figure module at its small settings, most of them on
# programs the law tests compile); every figure renders under -m slow. `collapse reproduce --quick` renders all.
DEFAULT_RENDERS = {
    "linreg_convention",
    "linreg_designs",
    "gaussian_logdet",
    "categorical_scaling",
    "linreg_optimal_ridge",
    "weighting_golden",
    "gaussian_mad_phase",
    "verifier",
}


@pytest.mark.parametrize(
    "name",
    [name if name in DEFAULT_RENDERS else pytest.param(name, marks=pytest.mark.slow) for name in figures.FIGURES],
)
def test_each_figure_renders(name, cache, tmp_path):
    before = _rc()
    paths = figures.FIGURES[name](tmp_path, seeds=SEEDS, progress=False, **SMALL[name])
    assert _rc() == before, f"{name} left rcParams changed"
    assert [p.name for p in paths] == [f"{name}.pdf", f"{name}.png"]
    pdf, png = (p.read_bytes() for p in paths)
    assert pdf.startswith(b"%PDF") and png.startswith(b"\x89PNG")
    assert f"seeds={SEEDS}".encode() in pdf
    assert any(cache.iterdir()), "the run went through the cache in $COLLAPSE_CACHE"


def test_make_all_defaults_to_the_working_directory(cache, tmp_path, monkeypatch):
    name = "linreg_convention"
    monkeypatch.setitem(figures.FIGURES, name, functools.partial(figures.FIGURES[name], **SMALL[name]))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    package = {p: p.stat().st_mtime_ns for p in figures.FIGURE_DIR.iterdir()}
    paths = figures.make_all(seeds=SEEDS, only=[name], progress=False)
    assert [p.resolve() for p in paths] == [work / "collapse-figures" / f"{name}.{ext}" for ext in ("pdf", "png")]
    assert all(p.is_file() for p in paths)
    assert {p: p.stat().st_mtime_ns for p in figures.FIGURE_DIR.iterdir()} == package, "wrote into the package"


def test_make_all_refuses_an_unknown_figure(tmp_path):
    with pytest.raises(ConfigError, match="unknown figure"):
        figures.make_all(tmp_path, only=["no_such_figure"])
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(figures.FIGURES))
def test_each_figure_renders_with_its_default_settings(name, cache, tmp_path):
    paths = figures.FIGURES[name](tmp_path, seeds=SEEDS, progress=False)
    assert [p.name for p in paths] == [f"{name}.pdf", f"{name}.png"]
