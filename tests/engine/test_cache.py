"""The result cache (hit, exact extension, atomic writes), the report, and ``collapse cite``."""

import json

import numpy as np
import pytest
from model_collapse.experiments import LinRegConfig, run
from model_collapse.experiments.cli import main
from model_collapse.experiments.engine import cache as cache_mod
from model_collapse.experiments.laws import LAWS, verify
from model_collapse.experiments.report import build_report, write_report

CFG = LinRegConfig(d=3, T=10, sigma2=1.0, generations=4, regime="accumulate", sampler="exact")


def _same(a, b):
    for name in a.metrics:
        for field in ("mean", "sem", "std", "minimum", "maximum"):
            np.testing.assert_array_equal(getattr(a.metrics[name], field), getattr(b.metrics[name], field))
        for q in a.metrics[name].quantiles:
            np.testing.assert_array_equal(a.metrics[name].quantiles[q], b.metrics[name].quantiles[q])


def test_hit_returns_the_saved_result(tmp_path):
    first = cache_mod.cached_run(CFG, 256, seed=3, cache_dir=tmp_path, progress=False)
    assert first.meta["cache"] == "miss"
    again = cache_mod.cached_run(CFG, 256, seed=3, cache_dir=tmp_path, progress=False)
    assert again.meta["cache"] == "hit" and again.seeds == 256
    _same(first, again)
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert meta["seed_range"] == [0, 256] and meta["config"]["d"] == 3
    assert {"jax", "numpy", "sympy"} <= set(meta["versions"]) and "backend" in meta and "git_commit" in meta


def test_more_seeds_extend_the_entry_bit_for_bit(tmp_path):
    cache_mod.cached_run(CFG, 192, seed=1, cache_dir=tmp_path, progress=False)
    extended = cache_mod.cached_run(CFG, 640, seed=1, cache_dir=tmp_path, progress=False)
    assert extended.meta["cache"] == "extended from 192 seeds" and extended.seeds == 640
    _same(extended, run(CFG, 640, seed=1, progress=False))
    fewer = cache_mod.cached_run(CFG, 128, seed=1, cache_dir=tmp_path, progress=False)
    assert fewer.seeds == 128  # a request always gets exactly its own seeds


def test_a_failed_write_leaves_no_entry_and_the_next_run_completes(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_mod.np, "savez", disk_full)
    with pytest.raises(OSError, match="No space"):
        cache_mod.cached_run(CFG, 64, seed=2, cache_dir=tmp_path, progress=False)
    from model_collapse.experiments.engine.fingerprints import FILENAME

    # no partial file, no temporary left behind (the remembered fingerprint is complete and kept)
    assert [p.name for p in tmp_path.iterdir()] == [FILENAME]
    monkeypatch.undo()
    res = cache_mod.cached_run(CFG, 64, seed=2, cache_dir=tmp_path, progress=False)
    assert res.meta["cache"] == "miss" and cache_mod.load(CFG, 2, 64, tmp_path) is not None


def test_a_corrupt_entry_is_ignored(tmp_path):
    cache_mod.cached_run(CFG, 64, seed=4, cache_dir=tmp_path, progress=False)
    next(tmp_path.glob("*.npz")).write_bytes(b"truncated")
    assert cache_mod.load(CFG, 4, 64, tmp_path) is None
    assert cache_mod.cached_run(CFG, 64, seed=4, cache_dir=tmp_path, progress=False).meta["cache"] == "miss"


def test_report_json_and_markdown(tmp_path):
    laws = [LAWS["linreg/accumulate/bound"]]
    checks, results = verify(laws, seeds=256, progress=False)
    report = build_report(laws, checks, results, 1e-3)
    paths = write_report(report, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    entry = data["laws"][0]
    assert data["passed"] and entry["id"] == "linreg/accumulate/bound" and entry["seeds"] == 256
    assert entry["reference"]["arxiv"] == "2404.01413" and len(entry["checks"]) == 4
    assert "linreg/accumulate/bound" in (tmp_path / "report.md").read_text() and len(paths) == 2


def test_cite_prints_bibtex(capsys):
    assert main(["cite", "gaussian/replace/unbiased/std"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("% gaussian/replace/unbiased/std/dim1: derived here")
    assert "\n@article{shumailov2024collapse," in out and "10.1038/s41586-024-07566-y" in out
    with pytest.raises(SystemExit) as exc:
        main(["cite", "no/such"])
    assert exc.value.code == 2


_UNCACHED = {}  # runner.program_fingerprint without its per-process lru_cache


def _forget_fingerprints(monkeypatch):
    """A fresh process's view: nothing remembered in memory, the file on disk kept."""
    from model_collapse.experiments.engine import fingerprints

    monkeypatch.setattr(fingerprints, "_MEMO", {})
    from model_collapse.experiments.engine import runner

    lowered = []

    if not _UNCACHED:
        _UNCACHED["program_fingerprint"] = runner.program_fingerprint.__wrapped__
    lower = _UNCACHED["program_fingerprint"]

    def counting(cfg):
        lowered.append(cfg)
        return lower(cfg)

    monkeypatch.setattr(runner, "program_fingerprint", counting)
    return lowered


def test_a_rerun_lowers_no_program_and_a_code_change_lowers_again(tmp_path, monkeypatch):
    """The fingerprint is remembered next to the results, keyed by the package's source hash and
    the library versions: a rerun in a new process reads it (no lowering), a changed source
    file or JAX version lowers the program again (never a stale key), and the same program
    gives the same fingerprint, so the result is still served."""
    import jax
    from model_collapse.experiments.engine import fingerprints

    first = cache_mod.cached_run(CFG, 64, seed=5, cache_dir=tmp_path, progress=False)
    assert (tmp_path / fingerprints.FILENAME).exists()
    lowered = _forget_fingerprints(monkeypatch)
    again = cache_mod.cached_run(CFG, 64, seed=5, cache_dir=tmp_path, progress=False)
    assert again.meta["cache"] == "hit" and lowered == []
    _same(first, again)

    for change in (
        lambda: monkeypatch.setattr(fingerprints, "source_hash", lambda: "a changed source file"),
        lambda: monkeypatch.setattr(jax, "__version__", jax.__version__ + ".post1"),
    ):
        lowered = _forget_fingerprints(monkeypatch)
        change()
        hit = cache_mod.cached_run(CFG, 64, seed=5, cache_dir=tmp_path, progress=False)
        assert lowered == [CFG] and hit.meta["cache"] == "hit"

    # A fingerprint that no longer matches the program (what a stale memo would serve) is
    # never used to serve a result: the entry is keyed by it, so the lookup misses.
    monkeypatch.setattr(fingerprints, "source_hash", lambda: "yet another source")
    monkeypatch.setattr(fingerprints, "_MEMO", {})
    monkeypatch.setattr(cache_mod, "fingerprint", lambda cfg, cache_dir: "0" * 16)
    assert cache_mod.cached_run(CFG, 64, seed=5, cache_dir=tmp_path, progress=False).meta["cache"] == "miss"
