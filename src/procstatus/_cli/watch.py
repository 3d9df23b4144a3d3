"""``procstatus watch``: the memory of processes over time, for people and for scripts.

# Strategy: two sources of samples, three ways to write them.

Sources:

- ``watch PID [PID ...]``: this module reads VmRSS and VmHWM of each process
  every interval (:func:`procstatus.read_memory`), on a fixed schedule
  (``schedule.next_due``), until Ctrl-C, ``--count`` samples, or every
  process has exited.
- ``watch -- CMD [ARG ...]``: the run engine (``run_command`` of ``_run.py``)
  starts the command, follows its tree with ptrace and calls back with each
  sample it takes (``TreeSample``: at every interval and after forks, execs
  and exits of the tree, at most one such per tenth of the interval). The
  callback runs in the engine's tracer thread, so it only queues the sample
  (:class:`_Pending`, never waiting for the output); a writer thread of this
  module writes it, and a slow reader of the output never holds up the tracer
  or the tree. The queue is bounded: when the reader falls behind, the oldest
  samples waiting are dropped (text shows one line per interval anyway; with
  --json and --csv the number dropped is reported on stderr). At the end comes
  ``run``'s report, with the exact peak of every process.

Writers (``--json``, ``--csv``, or text), each flushed at every sample so that
``| jq``, ``| tee`` and ``tail -f`` see samples as they come:

- text, for people: one line per sample (with ``-- CMD``: at most one per
  interval), time with milliseconds or ``--elapsed`` seconds, sparklines; a
  summary at the end;
- JSON Lines: one object per sample (docs/cli.md lists the keys, which only
  ever get added to);
- CSV: a header row, then one row per process per sample.

With ``--json`` or ``--csv`` nothing but samples goes to the output; with
``-- CMD`` the final report goes to stderr, as ``run`` puts it. ``--plot FILE``
draws the samples at the end (``_plot.py``).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import errno
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Callable, Optional, Protocol, TextIO

import attrs

from .. import _run
from .._errors import PeakTraceError, ProcessNotFoundError, StatusParseError
from .._plot import plot_memory, plot_run
from .._procfs import path as procfs_path
from .._read import read_memory, read_pid
from .._units import show_size
from .common import (
    EXIT_OK,
    PROG,
    CommandError,
    add_common,
    add_repeat,
    explain,
    out_of_range,
    pid_arg,
    printable,
    report,
    shown_name,
)
from .plotting import add_plot_option, check_plot_option, write_plot
from .run import format_run_result
from .schedule import next_due

if TYPE_CHECKING:
    from .._plot import SampleLike

__all__ = ["CSV_COLUMNS", "build_parser", "main", "sparkline", "watch"]

_BARS = "▁▂▃▄▅▆▇█"
_ASCII_BARS = "_.-:=+*#"
_SPARK_SAMPLES = 20
_GROUP_SPARK_SAMPLES = 10  # with several PIDs, each group's sparkline

#: The columns of --csv, in order (docs/cli.md): one row per process per sample.
CSV_COLUMNS = ("time", "elapsed_s", "pid", "rss", "peak_rss", "tree_rss")

# Exit statuses of `watch -- CMD` when the command cannot be run, as `run` and env(1).
_STATUS_TRACE_FAILED = 125
_STATUS_CANNOT_RUN = 126
_STATUS_NOT_FOUND = 127

USAGE = f"{PROG} watch [options] PID [PID ...]\n       {PROG} watch [options] -- CMD [ARG ...]"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} watch",
        usage=USAGE,
        description="RSS and peak RSS (VmHWM) of processes over time: of the PIDs given, or of"
        " a command started after -- and its descendants. Text ends on Ctrl-C, when the"
        " processes exit or after --count samples, with a summary; all three exit with status 0"
        " (a command: its own exit status, as run). --json and --csv write one record per"
        " sample, flushed at once, for jq, tee and scripts.",
    )
    parser.add_argument("pids", metavar="PID", type=pid_arg, nargs="*", help="processes to watch")
    add_repeat(
        parser,
        interval=1.0,
        interval_help="seconds between samples (default: 1)",
        count_help="stop after N samples (default: until Ctrl-C or the processes exit; PIDs only)",
    )
    parser.add_argument(
        "--elapsed",
        "-e",
        action="store_true",
        help="seconds since the start instead of the time of day (text output)",
    )
    machine = parser.add_mutually_exclusive_group()
    machine.add_argument(
        "--json", action="store_true", help="one JSON object per sample per line (JSON Lines)"
    )
    machine.add_argument(
        "--csv", action="store_true", help="CSV: a header, then one row per process per sample"
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the samples to FILE instead of stdout (with -- CMD, the command keeps"
        " stdout for itself)",
    )
    add_plot_option(parser)
    add_common(parser)
    return parser


def main(args: list[str]) -> int:
    parser = build_parser()
    # Everything after "--" is the command, so its own options are never taken for ours.
    if "--" in args:
        split = args.index("--")
        options = parser.parse_args(args[:split])
        command: Optional[list[str]] = args[split + 1 :]
        if options.pids:
            parser.error("give PIDs or a command after --, not both")
        if not command:
            parser.error(f"give the command to run after --, e.g. {PROG} watch -- make -j4")
        if options.count is not None:
            parser.error("--count is for PIDs: a command is watched until it exits")
        if options.root != "/proc":
            parser.error("--root is for PIDs: a command runs on this machine's /proc")
    else:
        options = parser.parse_args(args)
        command = None
        if not options.pids:
            parser.error(f"give the PIDs to watch, or a command after --: {PROG} watch -- CMD")
    unusable = check_plot_option(parser, options.plot)
    if unusable is not None:
        return unusable  # nothing was started or sampled
    out = _open_output(options.output)
    try:
        if command is not None:
            return _watch_command(command, options, out)
        return watch(options, out)
    finally:
        if out is not sys.stdout:
            out.close()


def _open_output(path: Optional[str]) -> TextIO:
    if path is None:
        return sys.stdout
    try:
        # Line by line, as the terminal would get them: tail -f sees each sample.
        return open(path, "w", encoding="utf-8", errors="backslashreplace", buffering=1)
    except OSError as error:
        raise CommandError(f"cannot write {printable(path)}: {error.strerror or error}") from None


# ---- samples and how they are written -------------------------------------------------------


@attrs.frozen
class _Reading:
    """One process in one sample."""

    pid: int
    rss: int
    #: VmHWM when it was read with the RSS (PIDs); None when only the RSS is known (-- CMD).
    peak_rss: Optional[int]


@attrs.frozen
class _Sample:
    #: time.time() when the sample was taken.
    wall: float
    #: Seconds since the first sample (PIDs) or since the command started (-- CMD).
    elapsed_s: float
    #: The live processes, by pid.
    readings: tuple[_Reading, ...]
    #: -- CMD: the sum of VmRSS over the tree's live processes.
    tree_rss: Optional[int] = None

    @property
    def rss(self) -> Mapping[int, int]:
        return {reading.pid: reading.rss for reading in self.readings}


class _Writer(Protocol):
    def sample(self, sample: _Sample) -> None: ...


def _clock(wall: float) -> str:
    """``HH:MM:SS.mmm``, local time."""
    return time.strftime("%H:%M:%S", time.localtime(wall)) + f".{int(wall % 1 * 1000):03d}"


def _iso_time(wall: float) -> str:
    """ISO 8601 with milliseconds and the UTC offset: ``2025-06-01T22:48:29.123+02:00``."""
    return datetime.datetime.fromtimestamp(wall).astimezone().isoformat(timespec="milliseconds")


class _JsonWriter:
    def __init__(self, out: TextIO) -> None:
        self._out = out

    def sample(self, sample: _Sample) -> None:
        record = {
            "time": _iso_time(sample.wall),
            "elapsed_s": round(sample.elapsed_s, 3),
            "processes": [
                {"pid": r.pid, "rss": r.rss, "peak_rss": r.peak_rss} for r in sample.readings
            ],
            "tree_rss": sample.tree_rss,
        }
        self._out.write(json.dumps(record) + "\n")
        self._out.flush()


class _CsvWriter:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._rows = csv.writer(out, lineterminator="\n")
        self._rows.writerow(CSV_COLUMNS)
        out.flush()

    def sample(self, sample: _Sample) -> None:
        stamp = _iso_time(sample.wall)
        elapsed = f"{sample.elapsed_s:.3f}"
        tree = "" if sample.tree_rss is None else sample.tree_rss
        for r in sample.readings:
            peak = "" if r.peak_rss is None else r.peak_rss
            self._rows.writerow((stamp, elapsed, r.pid, r.rss, peak, tree))
        self._out.flush()


def _writer(options: argparse.Namespace, out: TextIO, text: Callable[[], _Writer]) -> _Writer:
    """The writer of --json or --csv, else the text one ``text`` makes."""
    if options.json:
        return _JsonWriter(out)
    if options.csv:
        return _CsvWriter(out)
    return text()


# ---- watch PID [PID ...] ------------------------------------------------------------------


@attrs.frozen
class _Watched:
    """What the plot needs of one watched process (a ``ProcessLike``)."""

    pid: int
    argv: tuple[str, ...]
    peak_rss: Optional[int]
    start_s: float
    end_s: Optional[float]


class _PidText:
    """Text for people: one line per sample, then what ended and a summary per process."""

    def __init__(
        self, out: TextIO, pids: Sequence[int], options: argparse.Namespace, names: Sequence[str]
    ) -> None:
        self._out = out
        self._pids = pids
        self._exact: bool = options.bytes
        self._elapsed: bool = options.elapsed
        self._width = 12 if self._exact else 10  # "1023.9 MiB" is 10 characters
        self._bars = _bars(out)
        self._history: dict[int, list[int]] = {pid: [] for pid in pids}
        self._spark = _SPARK_SAMPLES if len(pids) == 1 else _GROUP_SPARK_SAMPLES
        if len(pids) > 1:
            group = len(self._group(0, 0, [0] * self._spark))
            titles = [
                _shorten(f"pid {pid} {name}", group).ljust(group) for pid, name in zip(pids, names)
            ]
            stamp = "elapsed" if self._elapsed else "time"
            self._print((f"{stamp:<12}  " + "  ".join(titles)).rstrip())

    def _group(self, rss: int, peak: int, history: Sequence[int]) -> str:
        width, exact = self._width, self._exact
        shown_rss, shown_peak = show_size(rss, exact=exact), show_size(peak, exact=exact)
        return (
            f"RSS {shown_rss:>{width}}  peak {shown_peak:>{width}}"
            f"  {sparkline(history[-self._spark :], self._bars):<{self._spark}}"
        )

    def sample(self, sample: _Sample) -> None:
        stamp = f"{sample.elapsed_s:12.3f}" if self._elapsed else _clock(sample.wall)
        by_pid = {reading.pid: reading for reading in sample.readings}
        groups = []
        for pid in self._pids:
            reading = by_pid.get(pid)
            if reading is None:
                groups.append("exited")
                continue
            self._history[pid].append(reading.rss)
            peak = reading.rss if reading.peak_rss is None else reading.peak_rss
            groups.append(self._group(reading.rss, peak, self._history[pid]))
        self._print((f"{stamp}  " + "  ".join(groups)).rstrip())

    def end(self, exited: Sequence[int], summaries: Sequence[str]) -> None:
        for pid in exited:
            self._print(f"process {pid} exited")
        for line in summaries:
            self._print(line)

    def _print(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()


@attrs.define
class _Tally:
    """What the summary says of one process: samples, lowest and highest RSS, peak, end."""

    count: int = 0
    low: Optional[int] = None
    high: int = 0
    peak: int = 0
    #: Seconds from the first sample to the last one that found it alive.
    last_seen: float = 0.0
    #: Seconds from the first sample to the one that found it gone.
    ended: Optional[float] = None

    def add(self, elapsed: float, rss: int, peak: int) -> None:
        self.last_seen = elapsed
        self.count += 1
        self.low = rss if self.low is None else min(self.low, rss)
        self.high = max(self.high, rss)
        self.peak = max(self.peak, peak)


def watch(options: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Sample the PIDs every interval and write the samples, then a summary (text)."""
    out = sys.stdout if out is None else out
    pids: list[int] = list(dict.fromkeys(options.pids))  # once each, in the order given
    names = _names(pids, options.root) if len(pids) > 1 or options.plot else ["?"] * len(pids)
    writer = _writer(options, out, lambda: _PidText(out, pids, options, names))
    tallies = {pid: _Tally() for pid in pids}
    samples: list[_Sample] = []
    failure: Optional[CommandError] = None
    try:
        _sample_pids(pids, options, writer, tallies, samples)
    except KeyboardInterrupt:
        if not samples:
            raise  # nothing to summarize: an interrupted command (status 130)
        if isinstance(writer, _PidText):
            out.write("\n")  # end the line the terminal's ^C is on
    except CommandError as error:
        if not samples:
            raise
        failure = error
    if isinstance(writer, _PidText):
        writer.end(
            [pid for pid in pids if tallies[pid].ended is not None],
            [_summary(pid, tallies[pid], options.bytes) for pid in pids],
        )
    if options.plot is not None:
        _plot_pids(options.plot, pids, names, samples, tallies)
    if failure is not None:
        raise failure
    return EXIT_OK


def _sample_pids(
    pids: Sequence[int],
    options: argparse.Namespace,
    writer: _Writer,
    tallies: Mapping[int, _Tally],
    samples: list[_Sample],
) -> None:
    """Take and write the samples until the end: --count, or every process gone."""
    start = 0.0
    for number, (taken, wall, readings) in enumerate(
        _samples(pids, options.root, options.interval)
    ):
        if number == 0:
            start = taken
        live = []
        for pid, memory in readings.items():
            if memory is None:
                if tallies[pid].ended is None:
                    tallies[pid].ended = taken - start
                continue
            live.append(_Reading(pid, *memory))
            tallies[pid].add(taken - start, *memory)
        if not live:
            return
        sample = _Sample(wall=wall, elapsed_s=taken - start, readings=tuple(live))
        samples.append(sample)
        writer.sample(sample)
        if options.count is not None and number + 1 >= options.count:
            return


def _summary(pid: int, tally: _Tally, exact: bool) -> str:
    count = tally.count
    return (
        f"process {pid}: {count} sample{'s' if count != 1 else ''} in {tally.last_seen:.1f} s;"
        f" RSS min {show_size(tally.low or 0, exact=exact)},"
        f" max {show_size(tally.high, exact=exact)}; peak RSS {show_size(tally.peak, exact=exact)}"
    )


def _names(pids: Sequence[int], root: str) -> list[str]:
    """Each process's name, escaped, for headers and labels; "?" when it cannot be read now
    (the first sample reports why)."""
    names = []
    for pid in pids:
        try:
            names.append(shown_name(read_pid(pid, root)))
        except (OSError, ValueError):
            names.append("?")
    return names


def _samples(
    pids: Sequence[int], root: str, interval: float
) -> Iterator[tuple[float, float, dict[int, Optional[tuple[int, int]]]]]:
    """(monotonic time, wall time, {pid: (VmRSS, VmHWM) or None once gone}) every interval.

    Ends once every process is gone. The first sample raises CommandError for a
    process that does not exist or has no memory (a kernel thread, a zombie).
    """
    due = time.monotonic()
    first = True
    alive = list(pids)
    while alive:
        readings: dict[int, Optional[tuple[int, int]]] = {}
        for pid in alive:
            readings[pid] = _read(pid, root, first=first)
        now = time.monotonic()
        wall = time.time()
        first = False
        yield now, wall, readings
        alive = [pid for pid in alive if readings[pid] is not None]
        # Sleep to the next time on the schedule, so that slow reads do not drift.
        due = next_due(due, interval, time.monotonic())
        if alive:
            time.sleep(max(0.0, due - time.monotonic()))


def _read(pid: int, root: str, *, first: bool) -> Optional[tuple[int, int]]:
    try:
        memory = read_memory(pid, root)
    except ProcessNotFoundError:
        if first:
            raise CommandError(f"no such process: {pid}") from None
        return None
    except (OSError, StatusParseError) as error:
        raise explain(error, procfs_path(root, pid, "status")) from None
    except ValueError:
        raise out_of_range(pid) from None
    if memory is None or memory.rss is None:
        # Gone, or a zombie: exit_mm() has dropped its memory (kernel/exit.c).
        if first:
            raise CommandError(
                f"process {pid} has no memory to watch (a kernel thread or a zombie)"
            )
        return None
    # VmHWM is absent before 2.6.15; then the current RSS is the best peak known.
    return memory.rss, memory.rss if memory.peak_rss is None else memory.peak_rss


def _plot_pids(
    path: str,
    pids: Sequence[int],
    names: Sequence[str],
    samples: Sequence[_Sample],
    tallies: Mapping[int, _Tally],
) -> None:
    watched = [
        _Watched(
            pid=pid,
            argv=(name,),
            peak_rss=tallies[pid].peak if tallies[pid].count else None,
            start_s=0.0,
            end_s=tallies[pid].ended,
        )
        for pid, name in zip(pids, names)
    ]
    title = f"{PROG} watch " + " ".join(f"{pid} ({name})" for pid, name in zip(pids, names))
    write_plot(
        path,
        lambda: plot_memory(
            path,
            title=title,
            samples=samples,
            processes=watched,
            stacked=False,
            time_label="seconds since the first sample",
            peak_label="peak RSS of a process: the highest VmHWM sampled, where it exited",
        ),
    )


# ---- watch -- CMD -------------------------------------------------------------------------


class _TreeText:
    """Text for people: at most one line per interval, the tree's RSS and its largest process."""

    def __init__(self, out: TextIO, options: argparse.Namespace, command: Sequence[str]) -> None:
        self._out = out
        self._exact: bool = options.bytes
        self._elapsed: bool = options.elapsed
        self._interval: float = options.interval
        self._command = command
        self._width = 12 if self._exact else 10
        self._bars = _bars(out)
        self._history: list[int] = []
        self._due = 0.0
        self._started = False

    def sample(self, sample: _Sample) -> None:
        if sample.elapsed_s < self._due:
            return  # a sample taken at a fork, exec or exit between two lines
        self._due = next_due(self._due, self._interval, sample.elapsed_s)
        if not self._started:
            self._started = True
            self._print(
                "tree RSS: VmRSS summed over the command's live processes (shared pages"
                " count in each); largest: the process with the most RSS"
            )
            stamp = "elapsed" if self._elapsed else "time"
            width = self._width
            self._print(f"{stamp:<12}  {'tree RSS':>{width}}  processes  {'largest':>{width}}  pid")
        tree = sample.tree_rss or 0
        self._history.append(tree)
        largest = max(sample.readings, key=lambda r: (r.rss, -r.pid), default=None)
        stamp = f"{sample.elapsed_s:12.3f}" if self._elapsed else _clock(sample.wall)
        size = show_size(largest.rss, exact=self._exact) if largest is not None else "-"
        pid = str(largest.pid) if largest is not None else "-"
        self._print(
            f"{stamp}  {show_size(tree, exact=self._exact):>{self._width}}"
            f"  {len(sample.readings):>9}  {size:>{self._width}}  {pid:<7}"
            f"  {sparkline(self._history[-_SPARK_SAMPLES:], self._bars)}"
        )

    def _print(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()


#: How much may wait for the writer: one unit per sample and one per process in
#: it (a few hundred bytes each), so some 20 MB at most, whatever the tree's size.
_PENDING_LIMIT = 50_000


class _Pending:
    """The samples the tracer hands to the writer thread, oldest first, bounded.

    ``put`` never waits for the output (its lock is held only to link or unlink
    a sample), so a reader that stops reading holds up neither the tracer nor
    the traced command. Beyond ``limit`` units (a sample counts one plus its
    processes), the oldest samples waiting are dropped and counted in
    ``dropped``; the newest is always kept.
    """

    def __init__(self, limit: Optional[int] = None) -> None:
        self._limit = _PENDING_LIMIT if limit is None else limit
        self._ready = threading.Condition()
        self._samples: deque[SampleLike] = deque()
        self._held = 0
        self._closed = False
        self.dropped = 0

    def put(self, sample: SampleLike) -> None:
        with self._ready:
            if self._closed:
                return
            self._samples.append(sample)
            self._held += 1 + len(sample.rss)
            while self._held > self._limit and len(self._samples) > 1:
                self._held -= 1 + len(self._samples.popleft().rss)
                self.dropped += 1
            self._ready.notify()

    def get(self) -> Optional[SampleLike]:
        """The oldest sample waiting; None once closed and empty."""
        with self._ready:
            while not self._samples and not self._closed:
                self._ready.wait()
            if not self._samples:
                return None
            sample = self._samples.popleft()
            self._held -= 1 + len(sample.rss)
            return sample

    def close(self, *, discard: bool = False) -> None:
        """No more samples: ``get`` gives what waits, then None (nothing with ``discard``)."""
        with self._ready:
            self._closed = True
            if discard:
                self._samples.clear()
                self._held = 0
            self._ready.notify_all()


def _tree_sample(tree: SampleLike, start_wall: float) -> _Sample:
    readings = tuple(_Reading(pid, rss, None) for pid, rss in sorted(tree.rss.items()))
    return _Sample(
        wall=start_wall + tree.elapsed_s,
        elapsed_s=tree.elapsed_s,
        readings=readings,
        tree_rss=sum(reading.rss for reading in readings),
    )


def _watch_command(command: list[str], options: argparse.Namespace, out: TextIO) -> int:
    """Run ``command``, write its tree's samples as they come, then run's report."""
    writer = _writer(options, out, lambda: _TreeText(out, options, command))
    pending = _Pending()
    failures: list[BaseException] = []
    start_wall = time.time()

    def write_samples() -> None:
        try:
            for tree in iter(pending.get, None):
                writer.sample(_tree_sample(tree, start_wall))
        except BaseException as error:  # e.g. BrokenPipeError: stop writing, keep tracing
            failures.append(error)
            pending.close(discard=True)

    thread = threading.Thread(target=write_samples, name="procstatus-watch-writer", daemon=True)
    thread.start()
    try:
        result = _run.run_command(command, interval=options.interval, on_sample=pending.put)
    except PeakTraceError as error:
        _say(f"cannot follow {command[0]}: {error.strerror or error}")
        return _STATUS_TRACE_FAILED
    except OSError as error:
        if error.filename != command[0]:
            _say(str(error))
            return _STATUS_TRACE_FAILED
        if error.errno == errno.ENOENT:
            _say(f"{command[0]}: command not found")
            return _STATUS_NOT_FOUND
        _say(f"{command[0]}: {error.strerror or error}")
        return _STATUS_CANNOT_RUN
    finally:
        pending.close()
        thread.join()
    if failures:
        raise failures[0]
    if pending.dropped and (options.json or options.csv):
        _say(
            f"{pending.dropped} samples were not written: the output was read more slowly"
            " than they came"
        )
    _report_run(result, options, out)
    if options.plot is not None:
        write_plot(options.plot, lambda: plot_run(options.plot, result))
    return result.exit_code


def _say(message: str) -> None:
    """``procstatus watch: <message>`` on stderr, escaped (argv[0] may be anything)."""
    report(message, prog=f"{PROG} watch")


def _report_run(result: _run.RunResult, options: argparse.Namespace, out: TextIO) -> None:
    """run's report: after the samples in text, on stderr as JSON or text with --json/--csv."""
    if options.json:
        print(json.dumps(result.to_json_dict()), file=sys.stderr)
        return
    text = format_run_result(result)
    if options.csv:
        print(text, file=sys.stderr)
        return
    out.write("\n" + text + "\n")
    out.flush()


# ---- shared --------------------------------------------------------------------------------


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def sparkline(values: Sequence[int], bars: str = _BARS) -> str:
    """One bar per value, scaled from the smallest value (lowest bar) to the largest."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return bars[0] * len(values)
    top = len(bars) - 1
    return "".join(bars[(value - low) * top // (high - low)] for value in values)


def _bars(out: TextIO) -> str:
    encoding = getattr(out, "encoding", None) or "ascii"
    try:
        _BARS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII_BARS
    return _BARS
