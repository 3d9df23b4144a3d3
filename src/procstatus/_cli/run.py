"""``procstatus run -- CMD``: run a command and report its peak RSS, exactly.

Argument handling and the report (human or ``--json``, on stderr so that it
does not mix with the command's own output); the measuring itself is
:func:`procstatus.run_command` (``_run.py``). procstatus exits with the
command's own status, or 125/126/127 as env(1) does when it cannot trace,
cannot execute or cannot find the command.
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
from typing import TextIO, Union

from .._run import (
    _STATUS_CANNOT_RUN,
    _STATUS_NOT_FOUND,
    _STATUS_TRACE_FAILED,
    RunResult,
    _CannotExecuteError,
    _run_traced,
)
from .._units import format_size
from .common import PROG, OutputError, printable
from .common import report as report_failure

__all__ = ["build_parser", "format_run_result", "main", "run_cli"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} run",
        usage=f"{PROG} run [-h] [--json] -- CMD [ARG ...]",
        description="Run CMD and report its peak RSS exactly: VmHWM read as the command exits"
        " (it is followed with ptrace, nothing is sampled). The report goes to stderr so that"
        " it does not mix with the command's output; procstatus exits with the command's"
        " status (125: cannot trace, 126: cannot execute, 127: not found).",
    )
    parser.add_argument("command", metavar="CMD [ARG ...]", nargs="*", help="the command to run")
    parser.add_argument(
        "--json", action="store_true", help="the report as one JSON object (sizes in bytes)"
    )
    return parser


def main(args: list[str]) -> int:
    parser = build_parser()
    # Everything from the first word that is not an option (or from "--") is the
    # command, so its own options are never taken for ours.
    start = next(
        (index for index, arg in enumerate(args) if arg == "--" or not arg.startswith("-")),
        len(args),
    )
    options = parser.parse_args(args[:start])
    command = args[start + 1 :] if args[start : start + 1] == ["--"] else args[start:]
    if not command:
        parser.error(f"give the command to run after --, e.g. {PROG} run -- make -j4")
    return run_cli(command, json_output=options.json)


def format_run_result(result: RunResult) -> str:
    """The human report of ``procstatus run``: several lines, no trailing newline."""
    if result.signal is None:
        status = str(result.exit_code)
    else:
        try:
            name = signal.Signals(result.signal).name
        except ValueError:
            name = f"signal {result.signal}"
        status = f"{result.exit_code} (killed by {name})"
    sampled = "" if result.peak_exact else " (sampled: the main thread ended first)"
    return "\n".join(
        [
            f"command:   {printable(shlex.join(result.argv))}",
            f"peak RSS:  {format_size(result.peak_rss)} ({result.peak_rss} bytes){sampled}",
            f"wall time: {result.wall_s:.3f} s",
            f"exit:      {status}",
        ]
    )


def run_cli(
    argv: Sequence[str], *, json_output: bool = False, report: Union[TextIO, None] = None
) -> int:
    """Everything ``procstatus run`` does after argparse; returns procstatus's exit status.

    The report goes to ``report`` (default: stderr, so it does not mix with the
    command's own output). The status is the command's; 127 when it is not
    found, 126 when it cannot be executed, 125 when it cannot be traced or
    procstatus itself fails while following it (the message says why).
    """
    try:
        result = _run_traced(argv)
    except _CannotExecuteError as e:
        if e.error.errno == errno.ENOENT:
            _say(f"{argv[0]}: command not found")
            return _STATUS_NOT_FOUND
        _say(f"{argv[0]}: {e.error.strerror}")
        return _STATUS_CANNOT_RUN
    except OSError as e:
        # PeakTraceError, or an error of our own while following the command
        # (it has been killed and reaped): not the command's fault, so 125 as env(1).
        _say(_describe(e))
        return _STATUS_TRACE_FAILED
    text = json.dumps(result.to_json_dict()) if json_output else format_run_result(result)
    out = sys.stderr if report is None else report
    # The command's status is the answer, even when the report cannot be
    # written (stderr closed or broken): the report is lost, the status is not.
    if out is not None:
        with contextlib.suppress(OSError, OutputError):
            out.write(text + "\n")
            out.flush()
    return result.exit_code


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
