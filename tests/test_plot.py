"""Plots of memory over time (src/procstatus/_plot.py; ``run --plot``, ``watch --plot``).

The files are checked as a viewer would open them: a PNG's signature and the
size in its IHDR chunk, an SVG parsed as XML, a PDF's header. Without
matplotlib (simulated by a ``None`` in ``sys.modules``, which makes ``import
matplotlib`` fail), ``--plot`` is one line and exit status 2, before anything runs.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional
from xml.etree import ElementTree

import attrs
import pytest

from helpers_cli import ENV, procstatus_cmd
from helpers_live import requires_proc, spawn_renamed
from procstatus._plot import PLOT_FORMATS, plot_format, plot_memory, plot_run

MiB = 1 << 20

needs_matplotlib = pytest.mark.skipif(
    subprocess.run(
        [sys.executable, "-c", "import matplotlib"], capture_output=True, check=False
    ).returncode
    != 0,
    reason='matplotlib is not installed (scripts/test installs it: pip install "procstatus[plot]")',
)


@attrs.frozen
class Sample:
    elapsed_s: float
    rss: Mapping[int, int]


@attrs.frozen
class Process:
    pid: int
    argv: tuple[str, ...]
    peak_rss: Optional[int]
    start_s: float
    end_s: Optional[float]


@attrs.frozen
class Run:
    argv: tuple[str, ...]
    tree_peak_rss_bound: int
    tree_peak_rss_sampled: int
    processes: tuple[Process, ...]
    samples: tuple[Sample, ...]


def a_run(children: int = 8) -> Run:
    """sh (pid 100) running ``children`` workers one after the other, each peaking higher."""
    samples = []
    processes = [Process(100, ("sh", "-c", "for ...; do worker; done"), 2 * MiB, 0.0, None)]
    for child in range(children):
        pid, start = 101 + child, child * 0.5
        processes.append(
            Process(pid, ("worker", str(child)), (10 + child) * MiB, start, start + 0.4)
        )
        for step in range(5):
            rss = {100: MiB, pid: (2 + 2 * child * step) * MiB}
            samples.append(Sample(start + step * 0.1, rss))
    return Run(
        argv=("sh", "-c", "for ...; do worker; done $HOME"),
        tree_peak_rss_bound=(12 + children) * MiB,
        tree_peak_rss_sampled=(4 + 8 * children) * MiB,
        processes=tuple(processes),
        samples=tuple(samples),
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (the first chunk, RFC 2083 section 4.1.1)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize(
    ("path", "expected"),
    [("out.png", "png"), ("a/b/out.SVG", "svg"), ("x.pdf", "pdf")],
)
def test_plot_format_follows_the_extension(path: str, expected: str) -> None:
    assert plot_format(path) == expected
    assert expected in PLOT_FORMATS


@pytest.mark.parametrize(
    ("path", "shown"), [("out.gif", ".gif"), ("out", "no extension"), ("out.png.txt", ".txt")]
)
def test_plot_format_refuses_other_extensions(path: str, shown: str) -> None:
    with pytest.raises(
        ValueError, match=f"must end in .png, .svg or .pdf .the format., not {shown}"
    ):
        plot_format(path)


@needs_matplotlib
def test_plot_run_png_opens_at_its_size(tmp_path: Path) -> None:
    path = tmp_path / "run.png"
    plot_run(str(path), a_run())
    data = path.read_bytes()
    assert png_size(data) == (1000, 600)  # 10 x 6 inches at 100 dpi
    assert data.endswith(b"IEND\xaeB`\x82")  # the last chunk: the file is whole


@needs_matplotlib
def test_plot_run_svg_parses(tmp_path: Path) -> None:
    path = tmp_path / "run.svg"
    plot_run(str(path), a_run())
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [element.text for element in root.iter("{http://purl.org/dc/elements/1.1/}title")]
    # The $ is drawn as a dollar, not taken for mathtext.
    assert titles == ["procstatus run -- sh -c 'for ...; do worker; done $HOME'"]
    assert path.stat().st_size < 200_000


@needs_matplotlib
def test_plot_run_pdf(tmp_path: Path) -> None:
    path = tmp_path / "run.pdf"
    plot_run(str(path), a_run())
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")


@needs_matplotlib
def test_plot_is_the_same_for_the_same_data(tmp_path: Path) -> None:
    # No dates, no version strings, fixed ids: the docs' plot changes only with its data.
    first, second = tmp_path / "first.svg", tmp_path / "second.svg"
    plot_run(str(first), a_run())
    plot_run(str(second), a_run())
    assert first.read_bytes() == second.read_bytes()


@needs_matplotlib
@pytest.mark.parametrize(
    "text",
    ["$", "$x$", "a $b$ c $", "\\frac{$}", "\x1b[31mred", "tab\there", "\udcff", "€ ünï"],
    ids=["one-dollar", "math", "three-dollars", "tex", "escape", "tab", "not-utf8", "unicode"],
)
def test_plot_draws_any_command_line(tmp_path: Path, text: str) -> None:
    run = attrs.evolve(
        a_run(2),
        argv=("sh", "-c", text),
        processes=(Process(100, ("sh", text), 2 * MiB, 0.0, 1.0),),
    )
    path = tmp_path / "odd.png"
    plot_run(str(path), run)
    assert png_size(path.read_bytes()) == (1000, 600)


@needs_matplotlib
def test_plot_of_unrelated_processes_and_no_samples(tmp_path: Path) -> None:
    # watch's plot: lines, no stack, no references; and a plot with nothing sampled.
    samples = [Sample(t / 10, {1: (t + 1) * MiB, 2: 3 * MiB}) for t in range(10)]
    processes = [
        Process(1, ("grower",), 10 * MiB, 0.0, None),
        Process(2, ("idle",), 3 * MiB, 0.0, 0.9),
    ]
    plot_memory(
        str(tmp_path / "lines.png"),
        title="watch",
        samples=samples,
        processes=processes,
        stacked=False,
    )
    plot_memory(str(tmp_path / "empty.svg"), title="nothing", samples=[], processes=[])
    assert png_size((tmp_path / "lines.png").read_bytes()) == (1000, 600)
    ElementTree.parse(tmp_path / "empty.svg")


def drawn_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The figures plot_memory saves, kept for their artists, as they are saved."""
    from matplotlib.figure import Figure

    figures: list[Any] = []
    save = Figure.savefig

    def keep(figure: Any, *args: Any, **kwargs: Any) -> None:
        figures.append(figure)
        save(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return figures


def drawn(line: Any) -> list[tuple[float, float]]:
    """The points of a line that are drawn (not NaN), in data units."""
    return [(x, y) for x, y in line.get_xydata().tolist() if not math.isnan(y)]


@needs_matplotlib
def test_a_process_of_one_sample_is_a_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A line needs two points: a process sampled once (it exited before the second
    # sample, or watch ran one sample) would not be drawn at all.
    figures = drawn_figures(monkeypatch)
    samples = [Sample(0.0, {1: 1 * MiB, 2: 3 * MiB}), Sample(1.0, {1: 2 * MiB})]
    processes = [
        Process(1, ("long",), 2 * MiB, 0.0, None),
        Process(2, ("brief",), 3 * MiB, 0.0, 0.5),
    ]
    plot_memory(
        str(tmp_path / "w.png"), title="watch", samples=samples, processes=processes, stacked=False
    )
    [figure] = figures
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert drawn(lines["2 brief"]) == [(0.0, 3.0)]
    assert lines["2 brief"].get_marker() == "o"
    assert drawn(lines["1 long"]) == [(0.0, 1.0), (1.0, 2.0)]
    assert lines["1 long"].get_marker() == "None"  # a line of two points needs none


@needs_matplotlib
def test_a_run_of_one_sample_marks_its_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures = drawn_figures(monkeypatch)
    run = attrs.evolve(a_run(1), samples=(Sample(0.0, {100: MiB, 101: 2 * MiB}),))
    plot_run(str(tmp_path / "r.png"), run)
    [figure] = figures
    [total] = [
        line for line in figure.axes[0].get_lines() if line.get_label().startswith("tree RSS")
    ]
    assert drawn(total) == [(0.0, 3.0)]
    assert total.get_marker() == "o"


@needs_matplotlib
def test_plot_to_a_missing_directory_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No such file or directory"):
        plot_run(str(tmp_path / "missing" / "run.png"), a_run())


def test_import_procstatus_never_imports_matplotlib() -> None:
    code = (
        "import sys, procstatus, procstatus._plot\n"
        "from procstatus._cli import main, plotting, run, top, watch\n"
        "assert 'matplotlib' not in sys.modules, sorted(m for m in sys.modules if 'matplot' in m)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")


# ---- the command line, without matplotlib --------------------------------------------------

#: Runs the command line with ``import matplotlib`` failing, as where it is not installed.
WITHOUT_MATPLOTLIB = (
    "import sys; sys.modules['matplotlib'] = None\n"
    "from procstatus._cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def without_matplotlib(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MATPLOTLIB, *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )


MISSING = (
    "procstatus: --plot: plotting needs matplotlib, which is not installed:"
    ' pip install "procstatus[plot]"\n'
)


def test_run_plot_without_matplotlib_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = without_matplotlib(
        "run", "--plot", str(tmp_path / "run.png"), "--", "touch", str(marker)
    )
    assert (result.returncode, result.stdout, result.stderr) == (2, "", MISSING)
    assert not marker.exists()  # the command was never started
    assert not (tmp_path / "run.png").exists()


@pytest.mark.parametrize("mode", [[], ["--json"], ["--csv"]], ids=["text", "json", "csv"])
def test_watch_plot_without_matplotlib_samples_nothing(tmp_path: Path, mode: list[str]) -> None:
    result = without_matplotlib("watch", *mode, "--plot", str(tmp_path / "w.svg"), "1")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", MISSING)
    assert not (tmp_path / "w.svg").exists()


def test_watch_without_plot_needs_no_matplotlib(tmp_path: Path) -> None:
    result = without_matplotlib("watch", "1", "-c", "1", "--json")
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("command", [["run"], ["watch"]], ids=["run", "watch"])
def test_plot_with_another_extension_is_a_usage_error(command: list[str]) -> None:
    result = procstatus_cmd(*command, "--plot", "out.gif", "--", "true")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        f"procstatus {command[0]}: error: the plot's file name must end in .png, .svg or .pdf"
        " (the format), not .gif"
    )


# ---- live ----------------------------------------------------------------------------------


@needs_matplotlib
@pytest.mark.live
@requires_proc
def test_live_watch_plot_png_and_svg(tmp_path: Path) -> None:
    with spawn_renamed(b"ps-plot-one") as one, spawn_renamed(b"ps-plot-two") as two:
        png = procstatus_cmd(
            "watch", str(one.pid), "-c", "3", "-i", "0.05", "--plot", str(tmp_path / "w.png")
        )
        svg = procstatus_cmd(
            "watch", str(one.pid), str(two.pid), "-c", "3", "-i", "0.05", "--json",
            "--plot", str(tmp_path / "w.svg"),
        )  # fmt: skip
    assert (png.returncode, png.stderr, svg.returncode, svg.stderr) == (0, "", 0, "")
    assert png_size((tmp_path / "w.png").read_bytes()) == (1000, 600)
    root = ElementTree.parse(tmp_path / "w.svg").getroot()
    [title] = [element.text for element in root.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert title == f"procstatus watch {one.pid} (ps-plot-one) {two.pid} (ps-plot-two)"


@needs_matplotlib
@pytest.mark.live
@requires_proc
def test_live_watch_plot_that_cannot_be_written(tmp_path: Path) -> None:
    with spawn_renamed(b"ps-plot-bad") as child:
        where = tmp_path / "missing" / "w.png"
        result = procstatus_cmd("watch", str(child.pid), "-c", "1", "--plot", str(where))
    assert result.returncode == 1
    assert (
        result.stderr == f"procstatus: cannot write the plot {where}: No such file or directory\n"
    )
    assert result.stdout.splitlines()[-1].startswith(f"process {child.pid}: 1 sample in")


@needs_matplotlib
@pytest.mark.live
@requires_proc
def test_live_run_plot_of_a_command_that_forks(tmp_path: Path) -> None:
    script = (
        f'for size in 30 60; do {sys.executable} -c "import time; b = bytearray($size << 20);'
        " b[::4096] = b'x' * len(b[::4096]); time.sleep(0.2)\" & wait; done"
    )
    for name in ("run.png", "run.svg"):
        result = procstatus_cmd("run", "--plot", str(tmp_path / name), "--", "sh", "-c", script)
        if result.returncode == 125:
            pytest.skip(f"ptrace is not allowed here: {result.stderr.strip()}")
        assert result.returncode == 0, result.stderr
    assert png_size((tmp_path / "run.png").read_bytes()) == (1000, 600)
    ElementTree.parse(tmp_path / "run.svg")
