"""The figure style: no global matplotlib state, reproducible bytes, whole-number generation ticks."""

import json
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

# Run in a fresh interpreter: nothing else has imported matplotlib, pyplot or the package yet.
SCRIPT = textwrap.dedent(
    """
    import json, sys, types
    import matplotlib

    backend = sys.argv[1]
    if backend != "auto":
        matplotlib.use(backend)

    def snapshot():
        # A copy keeps the auto-backend sentinel unresolved (reading the global's "backend" would resolve it).
        return dict(matplotlib.rcParams.copy())

    before = snapshot()
    backend_before = matplotlib.get_backend() if backend != "auto" else None

    import model_collapse.figures
    from model_collapse.figures import style

    after_import = snapshot()
    with style.context():
        inside = {k: matplotlib.rcParams[k] for k in ("font.size", "pdf.fonttype", "savefig.dpi")}
        fig = style.figure(style.COLUMN)
        ax = fig.subplots()
        x = [1, 2, 3, 4]
        summary = types.SimpleNamespace(mean=[1.0, 2.0, 3.0, 4.0], sem=[0.1, 0.1, 0.2, 0.2])
        style.band(ax, x, summary, style.PALETTE[0], label="tiny")
        style.generation_axis(ax, label="generation n")
        ax.legend()
        style.save(fig, sys.argv[2], "tiny", {"seeds": 0})
    after_render = snapshot()

    def diff(a, b):
        return sorted(k for k in set(a) | set(b) if a.get(k, "missing") != b.get(k, "missing"))

    print(json.dumps({
        "import_changed": diff(before, after_import),
        "render_changed": diff(before, after_render),
        "backend_before": backend_before,
        "backend_after": matplotlib.get_backend() if backend != "auto" else None,
        "backend_unresolved": after_render["backend"] is before["backend"],
        "pyplot_imported": "matplotlib.pyplot" in sys.modules,
        "inside": inside,
    }))
    """
)


@pytest.mark.parametrize("backend", ["auto", "svg"])
def test_import_and_render_leave_matplotlib_state_alone(backend, tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, backend, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["import_changed"] == [], "importing model_collapse.figures changed rcParams"
    assert got["render_changed"] == [], "rendering through style.context() left rcParams changed"
    assert got["backend_unresolved"], "the backend was chosen or resolved"
    assert got["backend_before"] == got["backend_after"]
    assert not got["pyplot_imported"], "the figures use pyplot's state machine"
    assert got["inside"] == {"font.size": 8.0, "pdf.fonttype": 42, "savefig.dpi": 200}
    assert (tmp_path / "tiny.pdf").stat().st_size > 0 and (tmp_path / "tiny.png").stat().st_size > 0


def _tiny(style, outdir, name):
    with style.context():
        fig = style.figure(style.COLUMN)
        ax = fig.subplots()
        summary = types.SimpleNamespace(mean=np.linspace(1, 2, 10), sem=np.full(10, 0.05))
        style.band(ax, np.arange(1, 11), summary, style.PALETTE[1], label="mean")
        ax.legend()
        return style.save(fig, outdir, name, {"seeds": 10})


def test_save_writes_reproducible_bytes_without_dates(tmp_path):
    from model_collapse.figures import style

    a = _tiny(style, tmp_path / "a", "fig")
    b = _tiny(style, tmp_path / "b", "fig")
    assert [p.suffix for p in a] == [".pdf", ".png"]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), f"{pa.name} differs between two identical renders"
    pdf, png = a[0].read_bytes(), a[1].read_bytes()
    assert pdf.startswith(b"%PDF") and png.startswith(b"\x89PNG")
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf and b"/Producer" not in pdf
    assert b"/FontFile2" in pdf, "fonts are embedded as TrueType (pdf.fonttype 42)"
    assert b"Software" not in png and b"Creation Time" not in png
    assert b"seeds=10" in pdf and b"seeds=10" in png
    assert not list(tmp_path.glob("*/*.tmp.*")), "no temporary file is left behind"


@pytest.mark.parametrize("generations", [5, 10, 20, 50, 1000])
def test_generation_axis_ticks_are_whole_numbers(generations):
    from model_collapse.figures import style

    with style.context():
        fig = style.figure(style.COLUMN)
        ax = fig.subplots()
        ax.plot(np.arange(1, generations + 1), np.ones(generations))
        style.generation_axis(ax)
        fig.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert len(ticks) >= 2
    assert all(float(t).is_integer() for t in ticks), ticks


def test_helpers_are_exported():
    from model_collapse import figures

    for name in ("band", "save", "style", "FIGURES", "make_all", "DEFAULT_OUTDIR", "FIGURE_DIR"):
        assert name in figures.__all__ and hasattr(figures, name)
    assert figures.band is figures.style.band and figures.save is figures.style.save
    assert "Example" in figures.band.__doc__ and "Example" in figures.save.__doc__
