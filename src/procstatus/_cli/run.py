"""``procstatus run -- CMD``: run a command, follow its whole tree, report its memory.

Argument handling and the report (human or ``--json``); the measuring itself
is :func:`procstatus.run_command` (``_run.py``). The report goes to stderr, or
to the file of ``-o`` (as GNU time's ``-o``), so that it never mixes with the
command's own output. procstatus exits with the command's own status, or
125/126/127 as env(1) does when it cannot trace, cannot execute or cannot
find the command (125 also when the ``-o`` file cannot be opened).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from typing import Optional, TextIO, Union

from .._plot import plot_run
from .._run import (
    _STATUS_CANNOT_RUN,
    _STATUS_NOT_FOUND,
    _STATUS_TRACE_FAILED,
    ProcessRun,
    RunResult,
    _CannotExecuteError,
    _run_traced,
)
from .._units import format_size, show_size
from .common import PROG, CommandError, OutputError, printable, seconds
from .common import report as report_failure
from .plotting import add_plot_option, check_plot_option, write_plot

__all__ = ["build_parser", "format_run_result", "main", "run_cli"]

#: How many processes the human report lists by default (--top).
TOP_DEFAULT = 5

_LABEL = 15  # "tree PSS seen: " and the other labels, padded to one column


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} run",
        usage=f"{PROG} run [-h] [--json] [-o FILE] [--top N] [--bytes] [--interval S] [--pss]"
        " [--wait-all] [--plot FILE] -- CMD [ARG ...]",
        description="Run CMD and follow every process it starts (with ptrace): the exact peak RSS"
        " of each process (VmHWM read as it exits), the largest of them, and the tree's total"
        " as an upper bound and as the most seen in samples. The report goes to stderr (or"
        " to -o FILE) so that it does not mix with the command's output; procstatus exits with"
        " the command's status (125: cannot trace, 126: cannot execute, 127: not found).",
    )
    parser.add_argument("command", metavar="CMD [ARG ...]", nargs="*", help="the command to run")
    parser.add_argument(
        "--json", action="store_true", help="the report as one JSON object (sizes in bytes)"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the report to FILE (replacing it) instead of stderr",
    )
    parser.add_argument(
        "--top",
        metavar="N",
        type=_count,
        default=TOP_DEFAULT,
        help=f"list the N processes with the highest peaks (default {TOP_DEFAULT}; 0: all)",
    )
    parser.add_argument(
        "--bytes",
        "-b",
        action="store_true",
        help="sizes in the list of processes in bytes instead of KiB, MiB, GiB",
    )
    parser.add_argument(
        "--interval",
        metavar="S",
        type=seconds,
        default=0.05,
        help="sample the tree's RSS every S seconds between ptrace events (default 0.05)",
    )
    parser.add_argument(
        "--pss",
        action="store_true",
        help="also sample each process's PSS (costs a page-table walk per process and sample)",
    )
    parser.add_argument(
        "--wait-all",
        action="store_true",
        help="wait for every process of the tree, not only the command, before reporting",
    )
    add_plot_option(parser)  # --plot FILE
    return parser


def _takes_value(option: str) -> bool:
    """Whether ``option`` is one whose value is the next word (``-o FILE``, ``-bo FILE``)."""
    if option.startswith("--"):
        return option in ("--output", "--top", "--interval", "--plot")
    # A cluster of short flags: the value of -o is the rest of the word, or the next one.
    return option.endswith("o") and "o" not in option[1:-1]


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise argparse.ArgumentTypeError(f"not a whole number from 0 up: {text!r}")
    return int(text)


def main(args: list[str]) -> int:
    parser = build_parser()
    # Everything from the first word that is not an option (or from "--") is the
    # command, so its own options are never taken for ours. An option's value is
    # not the command: -o FILE, --top N, --interval S.
    start = 0
    while start < len(args) and args[start] != "--" and args[start].startswith("-"):
        start += 2 if _takes_value(args[start]) else 1
    start = min(start, len(args))
    options = parser.parse_args(args[:start])
    command = args[start + 1 :] if args[start : start + 1] == ["--"] else args[start:]
    if not command:
        parser.error(f"give the command to run after --, e.g. {PROG} run -- make -j4")
    unusable = check_plot_option(parser, options.plot)  # --plot: checked before running
    if unusable is not None:
        return unusable
    report = None
    if options.output is not None:
        try:
            # Opened before the command starts (and not inherited by it: close on
            # exec), so that a report that cannot be written stops nothing half way.
            report = open(options.output, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
        except OSError as e:
            _say(f"cannot write the report to {options.output}: {e.strerror or e}")
            return _STATUS_TRACE_FAILED
    try:
        return run_cli(
            command,
            json_output=options.json,
            report=report,
            top=options.top,
            exact=options.bytes,
            interval=options.interval,
            pss=options.pss,
            wait_all=options.wait_all,
            plot=options.plot,
        )
    finally:
        if report is not None:
            with contextlib.suppress(OSError):
                report.close()


def run_cli(
    argv: Sequence[str],
    *,
    json_output: bool = False,
    report: Union[TextIO, None] = None,
    top: int = TOP_DEFAULT,
    exact: bool = False,
    interval: float = 0.05,
    pss: bool = False,
    wait_all: bool = False,
    plot: Optional[str] = None,
) -> int:
    """Everything ``procstatus run`` does after argparse; returns procstatus's exit status.

    The report goes to ``report`` (default: stderr, so it does not mix with the
    command's own output). The status is the command's; 127 when it is not
    found, 126 when it cannot be executed, 125 when it cannot be traced or
    procstatus itself fails while following it (the message says why).
    """
    try:
        result = _run_traced(argv, interval=interval, pss=pss, wait_all=wait_all)
    except _CannotExecuteError as e:
        if e.error.errno == errno.ENOENT and e.error.filename == argv[0]:
            _say(f"{argv[0]}: command not found")
            return _STATUS_NOT_FOUND
        _say(f"{os.fsdecode(e.error.filename)}: {e.error.strerror}")
        return _STATUS_CANNOT_RUN
    except OSError as e:
        # PeakTraceError, or an error of our own while following the command
        # (it has been killed and reaped): not the command's fault, so 125 as env(1).
        _say(_describe(e))
        return _STATUS_TRACE_FAILED
    out = sys.stderr if report is None else report
    if json_output:
        text = json.dumps(result.to_json_dict())
    else:
        text = format_run_result(result, top=top, exact=exact, width=_width(out))
    # The command's status is the answer, even when the report cannot be
    # written (stderr closed or broken): the report is lost, the status is not.
    if out is not None:
        with contextlib.suppress(OSError, OutputError):
            out.write(text + "\n")
            out.flush()
    # --plot FILE: memory over time, after the report
    if plot is not None:
        try:
            write_plot(plot, lambda: plot_run(plot, result))
        except CommandError as error:
            _say(str(error))
            return _STATUS_TRACE_FAILED
    return result.exit_code


def format_run_result(
    result: RunResult,
    *,
    top: int = TOP_DEFAULT,
    exact: bool = False,
    width: Optional[int] = None,
) -> str:
    """The human report of ``procstatus run``: several lines, no trailing newline.

    For a tree of more than one process it adds the tree's two sums, each with
    what it is, and lists the ``top`` processes with the highest peaks (0: all).
    Command lines (only they) are cut to ``width`` columns when given.
    """
    largest = _largest(result)
    if result.peak_exact:
        how = ""
    elif largest is not None and largest.running:
        how = " (so far: still running)"
    else:
        how = " (sampled: its exit stop was missed)"
    tree = len(result.processes) > 1
    which = ", the largest process:" if tree else ""
    lines = [
        _cmd("command:", result.argv, width),
        _line("peak RSS:", f"{_size(result.peak_rss)}{how} in pid {result.peak_pid}{which}"),
    ]
    if tree:
        lines.append(_cmd("", largest.argv if largest else ("?",), width))
        lines += [
            _line("tree bound:", f"{_size(result.tree_peak_rss_bound)} at most at once:"),
            _line("", "the peaks of the processes alive at the same time, added"),
            _line(
                "tree sampled:",
                f"{_size(result.tree_peak_rss_sampled)} the most seen at once:",
            ),
            _line(
                "",
                f"RSS of the live processes added every {result.interval_s:g} s"
                " and at fork/exec/exit",
            ),
        ]
    if result.tree_peak_pss_sampled is not None:
        label = "tree PSS seen:" if tree else "PSS seen:"
        lines += [
            _line(label, f"{_size(result.tree_peak_pss_sampled)} the most PSS seen at once:"),
            _line("", "each shared page divided among the processes that map it"),
        ]
    if tree:
        lines.append(
            _line("shared pages:", "RSS counts them in every process: both RSS sums overcount")
        )
    running = sum(process.running for process in result.processes)
    left = f" ({running} still running, let go untraced)" if running else ""
    lines += [
        _line("processes:", f"{len(result.processes)}{left}"),
        _line("wall time:", f"{result.wall_s:.3f} s"),
        _line("exit:", _status(result.exit_code, result.signal)),
    ]
    if tree:
        lines += ["", *_table(result, top, exact, width)]
    return "\n".join(lines)


def _table(result: RunResult, top: int, exact: bool, width: Optional[int]) -> list[str]:
    ranked = sorted(result.processes, key=lambda process: -(process.peak_rss or 0))
    shown = ranked if top == 0 else ranked[:top]
    title = (
        f"processes by peak RSS ({len(shown)} of {len(ranked)}; --top 0 for all):"
        if len(shown) < len(ranked)
        else "processes by peak RSS:"
    )
    sizes = [
        "-" if process.peak_rss is None else show_size(process.peak_rss, exact=exact)
        for process in shown
    ]
    size_width = max([len("PEAK"), *map(len, sizes)])
    exits = [_exit_column(process) for process in shown]
    exit_width = max([len("EXIT"), *map(len, exits)])
    rows = [title, f"{'PID':>8}  {'PEAK':>{size_width}}  {'EXIT':<{exit_width}}  COMMAND"]
    for process, size, exit_ in zip(shown, sizes, exits):
        row = f"{process.pid:>8}  {size:>{size_width}}  {exit_:<{exit_width}}  "
        rows.append(row + _cut(_argv(process.argv), width, len(row)))
    return rows


def _largest(result: RunResult) -> Optional[ProcessRun]:
    for process in result.processes:
        if process.pid == result.peak_pid and process.peak_rss == result.peak_rss:
            return process
    return None


def _size(size: int) -> str:
    return f"{format_size(size)} ({size} bytes)"


def _argv(argv: Sequence[str]) -> str:
    return printable(shlex.join(argv))


def _status(exit_code: int, signum: Optional[int]) -> str:
    if signum is None:
        return str(exit_code)
    return f"{exit_code} (killed by {_signal_name(signum)})"


def _exit_column(process: ProcessRun) -> str:
    if process.running:
        return "running"
    if process.signal is not None:
        return _signal_name(process.signal)
    return "?" if process.exit_code is None else str(process.exit_code)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _line(label: str, text: str) -> str:
    return f"{label:<{_LABEL}}{text}"


def _cmd(label: str, argv: Sequence[str], width: Optional[int]) -> str:
    return _line(label, _cut(_argv(argv), width, _LABEL))


def _cut(command: str, width: Optional[int], column: int) -> str:
    """``command``, starting at ``column``, cut to end by ``width`` ("..." marks the cut).

    At least 20 characters of it are kept on however narrow a terminal.
    """
    room = None if width is None else max(width - column, 20)
    if room is None or len(command) <= room:
        return command
    return command[: room - 3] + "..."


def _width(out: Optional[TextIO]) -> Optional[int]:
    """The columns of the terminal the report goes to; None when it is not a terminal."""
    if out is None:
        return None
    try:
        if not out.isatty():
            return None
        columns = os.environ.get("COLUMNS", "")
        if columns.isascii() and columns.isdigit() and 0 < int(columns) < 10_000:
            return int(columns)
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return None


def _say(message: str) -> None:
    """``procstatus run: <message>`` on stderr, escaped (argv[0] may be anything)."""
    report_failure(message, prog=f"{PROG} run")


def _describe(error: OSError) -> str:
    """``error`` in words, without the "[Errno N]" prefix where there is a strerror."""
    if error.strerror is None:
        return str(error)  # e.g. ProcessNotFoundError: "no such process: process 42"
    if error.filename is None:
        return error.strerror
    return f"{error.strerror}: {os.fsdecode(error.filename)}"
