"""Memory over time as a chart: ``procstatus run --plot`` and ``procstatus watch --plot``.

matplotlib is an optional extra (``pip install "procstatus[plot]"``) and is
imported only inside the functions that draw, never by ``import procstatus``.
The figure is built with matplotlib's object interface on an Agg canvas, never
through pyplot: no display is needed, no global backend is chosen, and a
program that imports procstatus keeps its own matplotlib settings. The format
follows the file's extension (PNG, SVG, PDF).

The functions take plain data, described by the protocols below: samples of
the RSS of live processes over time (``TreeSample`` of the run engine, or the
samples of ``watch``), the processes with their peaks and end times
(``ProcessRun``), and reference figures. They do not depend on how the data
was collected.

What the chart shows:

- with ``stacked=True`` (a command's tree): the RSS of the largest processes
  stacked, the rest as one band, and the tree's sum on top as a line; with
  ``stacked=False`` (unrelated PIDs): one line per process;
- each process's peak RSS as a marker where it ended (filled: exact, read at
  exit; hollow: the process was still running, its peak so far);
- reference figures as horizontal lines (``run``: the tree's bound and
  sampled peaks);
- the y axis in one IEC unit chosen from the data, the x axis in seconds.

Text given to matplotlib is escaped: a ``$`` in a command line would
otherwise start mathtext, and control characters are shown as escapes.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional, Protocol

from ._errors import Error
from ._units import format_size

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "INSTALL_HINT",
    "PLOT_FORMATS",
    "PlotUnavailableError",
    "ProcessLike",
    "RunLike",
    "SampleLike",
    "plot_format",
    "plot_memory",
    "plot_run",
    "require_matplotlib",
]

#: The file formats --plot writes, by extension.
PLOT_FORMATS = ("png", "svg", "pdf")

INSTALL_HINT = 'pip install "procstatus[plot]"'


class PlotUnavailableError(ImportError, Error):
    """matplotlib is not installed (or cannot be imported): plots cannot be drawn."""


class SampleLike(Protocol):
    """One sample: seconds since the start, and the RSS (bytes) of each live process."""

    @property
    def elapsed_s(self) -> float: ...

    @property
    def rss(self) -> Mapping[int, int]: ...


class ProcessLike(Protocol):
    """One process: its command, its peak RSS (bytes), and when it started and ended."""

    @property
    def pid(self) -> int: ...

    @property
    def argv(self) -> Sequence[str]: ...

    @property
    def peak_rss(self) -> Optional[int]: ...

    @property
    def start_s(self) -> float: ...

    @property
    def end_s(self) -> Optional[float]: ...


class RunLike(Protocol):
    """What ``plot_run`` needs of a ``RunResult``."""

    @property
    def argv(self) -> Sequence[str]: ...

    @property
    def tree_peak_rss_bound(self) -> int: ...

    @property
    def tree_peak_rss_sampled(self) -> int: ...

    @property
    def processes(self) -> Sequence[ProcessLike]: ...

    @property
    def samples(self) -> Sequence[SampleLike]: ...


def plot_format(path: str) -> str:
    """The format of ``path`` from its extension; ValueError for one that is not plotted."""
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in PLOT_FORMATS:
        shown = f".{extension}" if extension else "no extension"
        raise ValueError(
            f"the plot's file name must end in .png, .svg or .pdf (the format), not {shown}"
        )
    return extension


def require_matplotlib() -> None:
    """Raise :class:`PlotUnavailableError` unless matplotlib can be imported."""
    _matplotlib()


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError as error:
        raise PlotUnavailableError(
            f"plotting needs matplotlib, which is not installed: {INSTALL_HINT}"
        ) from error
    return matplotlib


def plot_run(path: str, result: RunLike, *, largest: int = 5) -> None:
    """The chart of a ``run_command`` result (``procstatus run --plot``) written to ``path``."""
    plot_memory(
        path,
        title=f"procstatus run -- {shlex.join(result.argv)}",
        samples=result.samples,
        processes=result.processes,
        references=(
            ("tree peak RSS, upper bound (exact)", result.tree_peak_rss_bound),
            ("tree peak RSS, highest sample", result.tree_peak_rss_sampled),
        ),
        total_label="tree RSS (sum of VmRSS, sampled)",
        largest=largest,
    )


# Colours of matplotlib's default palette; red and purple are kept for the references.
_PROCESS_COLOURS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:cyan",
    "tab:olive",
    "tab:pink",
    "tab:brown",
)
_OTHERS_COLOUR = "tab:gray"
_REFERENCE_STYLES = (("tab:red", "--"), ("tab:purple", ":"), ("black", "-."))
_UNITS = (("B", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40))
_LABEL_WIDTH = 48
_NAN = float("nan")
_TITLE_WIDTH = 100
#: For a line of one point, which matplotlib does not draw (a line needs two): a
#: process sampled once (it exited before the next sample), or a single sample.
_ALONE: dict[str, Any] = {"marker": "o", "markersize": 4}


def plot_memory(
    path: str,
    *,
    title: str,
    samples: Sequence[SampleLike],
    processes: Sequence[ProcessLike],
    references: Sequence[tuple[str, int]] = (),
    stacked: bool = True,
    total_label: Optional[str] = None,
    largest: int = 5,
    time_label: str = "seconds since the start",
    peak_label: str = "peak RSS of a process, read as it exited (VmHWM)",
) -> None:
    """Draw memory over time and write it to ``path`` (format from the extension).

    ``samples`` give the RSS of each live process at each time; ``processes``
    their peaks, drawn where each ended (``end_s``; the last sample for one
    still running). With ``stacked``, the ``largest`` processes by peak are
    stacked, the others summed into one band, and ``total_label`` names the
    line of the sum; without, each process is a line. ``references`` are
    horizontal lines (label, bytes). Raises :class:`PlotUnavailableError`
    without matplotlib, ValueError for an extension not in
    :data:`PLOT_FORMATS`, and OSError when the file cannot be written.
    """
    file_format = plot_format(path)
    matplotlib = _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    times = [sample.elapsed_s for sample in samples]
    last_time = max([*times, *(p.end_s for p in processes if p.end_s is not None), 0.0])
    highest = _highest_sampled(samples)
    ranked = sorted(
        processes, key=lambda p: (-(p.peak_rss or highest.get(p.pid, 0)), p.start_s, p.pid)
    )
    shown = ranked[:largest] if stacked else ranked
    others = ranked[largest:] if stacked else []
    colours = {id(p): _PROCESS_COLOURS[i % len(_PROCESS_COLOURS)] for i, p in enumerate(shown)}

    series = [[sample.rss.get(p.pid, 0) for sample in samples] for p in shown]
    totals = [sum(sample.rss.values()) for sample in samples] if stacked else []
    # Everything sampled that is not a band of its own goes into one band.
    shown_pids = {p.pid for p in shown}
    other_pids = {p.pid for p in others} | {pid for sample in samples for pid in sample.rss}
    other_pids -= shown_pids
    top = max(
        [
            1,
            *totals,
            *(value for values in series for value in values),
            *(p.peak_rss for p in processes if p.peak_rss is not None),
            *(value for _, value in references),
        ]
    )
    unit_name, unit = _unit_for(top)

    with matplotlib.rc_context({"svg.hashsalt": "procstatus", "font.size": 9}):
        figure = Figure(figsize=(10, 6), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        labels = [_process_label(p) for p in shown]
        line_colours = [colours[id(p)] for p in shown]
        if stacked:
            if other_pids:
                series.append(
                    [sum(sample.rss.get(pid, 0) for pid in other_pids) for sample in samples]
                )
                labels.append(_text(f"{len(others)} other processes"))
                line_colours.append(_OTHERS_COLOUR)
            total = (total_label or "sum of RSS (sampled)", totals)
            _draw_stack(axes, times, series, labels, line_colours, total, unit)
        else:
            # A process not alive at a sample has no point there: its line stops.
            for p, label, colour in zip(shown, labels, line_colours):
                values = [sample.rss.get(p.pid, _NAN) / unit for sample in samples]
                points = sum(p.pid in sample.rss for sample in samples)
                axes.plot(
                    times,
                    values,
                    color=colour,
                    linewidth=1.4,
                    label=label,
                    **_ALONE if points < 2 else {},
                )
        _draw_peaks(axes, processes, colours, last_time, unit, highlighted={id(p) for p in shown})
        for (label, value), (colour, style) in zip(references, _REFERENCE_STYLES):
            axes.axhline(
                value / unit,
                color=colour,
                linestyle=style,
                linewidth=1.2,
                label=_text(f"{label}: {format_size(value)}"),
            )
        _legend(axes, processes, Line2D, peak_label)
        axes.set_xlim(0, last_time * 1.02 if last_time > 0 else 1.0)  # room for end markers
        axes.set_ylim(0, top / unit * 1.1)
        axes.set_xlabel(time_label)
        axes.set_ylabel(f"RSS ({unit_name})")
        axes.grid(True, color="0.9", linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_title(_text(_shorten(title, _TITLE_WIDTH)), loc="left", fontsize=10)
        metadata = _metadata(file_format, _printable(title))
        figure.savefig(path, format=file_format, metadata=metadata)


def _draw_stack(
    axes: Axes,
    times: Sequence[float],
    series: Sequence[Sequence[int]],
    labels: Sequence[str],
    colours: Sequence[str],
    total: tuple[str, Sequence[int]],
    unit: int,
) -> None:
    """The processes' RSS stacked, and their sum as a line on top."""
    if not times:
        return
    bands = [[value / unit for value in values] for values in series]
    axes.stackplot(times, *bands, labels=labels, colors=colours, alpha=0.7, linewidth=0)
    label, totals = total
    axes.plot(
        times,
        [value / unit for value in totals],
        color="black",
        linewidth=1.2,
        label=_text(label),
        **_ALONE if len(times) < 2 else {},
    )


def _legend(axes: Axes, processes: Sequence[ProcessLike], line: Any, peak_label: str) -> None:
    """The legend, below the axes, with one entry for each kind of peak marker."""
    handles, texts = axes.get_legend_handles_labels()
    if any(p.peak_rss is not None and p.end_s is not None for p in processes):
        handles.append(line([], [], marker="v", linestyle="none", color="black"))
        texts.append(peak_label)
    if any(p.peak_rss is not None and p.end_s is None for p in processes):
        handles.append(
            line([], [], marker="v", linestyle="none", color="black", markerfacecolor="none")
        )
        texts.append("peak RSS so far of a process still running")
    axes.legend(
        handles,
        texts,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=2,
        fontsize=8,
        frameon=False,
    )


def _draw_peaks(
    axes: Axes,
    processes: Sequence[ProcessLike],
    colours: Mapping[int, str],
    last_time: float,
    unit: int,
    *,
    highlighted: set[int],
) -> None:
    """Each peak as a triangle at the process's end: filled when exact, hollow when running."""
    for ended in (True, False):
        chosen = [p for p in processes if p.peak_rss is not None and (p.end_s is not None) == ended]
        if not chosen:
            continue
        xs = [p.end_s if p.end_s is not None else last_time for p in chosen]
        ys = [(p.peak_rss or 0) / unit for p in chosen]
        edge = [colours.get(id(p), _OTHERS_COLOUR) for p in chosen]
        axes.scatter(
            xs,
            ys,
            marker="v",
            s=40,
            c=edge if ended else "none",
            edgecolors=edge,
            linewidths=1.2,
            zorder=5,
            clip_on=False,
        )
        for p, x, y in zip(chosen, xs, ys):
            if id(p) in highlighted:
                axes.annotate(
                    format_size(p.peak_rss or 0),
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 7),
                    ha="center",
                    fontsize=7,
                    color=colours.get(id(p), "black"),
                )


def _highest_sampled(samples: Sequence[SampleLike]) -> dict[int, int]:
    highest: dict[int, int] = {}
    for sample in samples:
        for pid, rss in sample.rss.items():
            if rss > highest.get(pid, -1):
                highest[pid] = rss
    return highest


def _unit_for(top: int) -> tuple[str, int]:
    """The largest IEC unit in which ``top`` is at least 1."""
    chosen = _UNITS[0]
    for unit in _UNITS:
        if top >= unit[1]:
            chosen = unit
    return chosen


def _process_label(process: ProcessLike) -> str:
    """``pid program args``: the program without its directory, which a legend has no room for."""
    argv = list(process.argv)
    if argv:
        argv[0] = os.path.basename(argv[0]) or argv[0]
    command = " ".join(argv) or "?"
    return _text(f"{process.pid} {_shorten(command, _LABEL_WIDTH)}")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _printable(text: str) -> str:
    """``text`` with control characters and undecodable bytes as escapes (``\\x1b``)."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _text(text: str) -> str:
    """``text`` for matplotlib to draw: printable, and ``$`` as a plain dollar."""
    # An unescaped pair of "$" starts mathtext; "\$" is drawn as "$" (matplotlib text.py).
    return _printable(text).replace("$", r"\$")


def _metadata(file_format: str, title: str) -> dict[str, Optional[str]]:
    """No dates and no software versions: the same data gives the same file."""
    if file_format == "png":
        return {"Title": title, "Software": None}
    if file_format == "svg":
        return {"Title": title, "Date": None, "Creator": None}
    return {"Title": title, "CreationDate": None, "Creator": None, "Producer": None}
