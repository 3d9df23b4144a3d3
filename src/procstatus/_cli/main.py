"""The ``procstatus`` command: one module per command, chosen here.

argparse cannot mix subcommands with bare PIDs (``procstatus 1 2`` and
``procstatus top``), so the first word chooses: a command name goes to that
command's module (imported only then), anything else to the default ``show``.
Each module's ``main(args)`` parses its own arguments and returns an exit
status; the failures a person can cause end as one line on stderr, never as a
traceback, and so does an output that cannot be written (common.guarded_streams).
docs/cli.md describes the output and the JSON schema.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Optional

from .common import (
    COMMANDS,
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    CommandError,
    OutputError,
    guarded_streams,
    report,
)

__all__ = ["EPILOG", "USAGE", "main"]

USAGE = """\
procstatus [-h] [--version] [--json] [--all] [--bytes] [--root PATH] [PID ...]
       procstatus [options] --file PATH [--file PATH ...]
       procstatus top [-n N] [--sort {peak,rss,swap,size,pss,uss}] [--user NAME|UID]
                      [--name PATTERN] [--cmdline] [--interval S [--count N]] [--bytes] [--json]
                      [--root PATH]
       procstatus watch PID [PID ...] [--interval S] [--count N] [--elapsed] [--json | --csv]
                        [--output FILE] [--plot FILE] [--bytes] [--root PATH]
       procstatus watch [options] -- CMD [ARG ...]
       procstatus run [--json] [-o FILE] [--top N] [--interval S] [--pss] [--wait-all]
                      [--plot FILE] -- CMD [ARG ...]
       procstatus serve [--address ADDR] [--port PORT] [--name PATTERN] [--user USER] [--pid PID]
                        [--per-process] [--reset-peaks] [--root PATH]
       procstatus tree PID [--max-rss MIB] [--bytes] [--json] [--root PATH]"""

EPILOG = """\
commands:
  procstatus [PID ...]       a summary of each process (the default command)
  procstatus show [PID ...]  the same, spelled out
  procstatus top             the processes using the most memory, by peak RSS
  procstatus watch PID       RSS and peak RSS over time, until Ctrl-C or exit
  procstatus watch -- CMD    run CMD and watch it and its descendants until it exits
  procstatus run -- CMD      run CMD: the exact peak RSS of every process it starts, and more
  procstatus serve           serve every process's memory to Prometheus at /metrics
  procstatus tree PID        PID and its descendants: RSS, PSS, USS, swap and totals
Options come after the command name; 'procstatus COMMAND --help' tells more.

exit status:
  0    success (watch: also when the process exits, or when stopped with Ctrl-C
       after the first sample; serve: when stopped by SIGTERM or SIGINT)
  1    something could not be read: no such process, permission denied, no
       procfs at --root, a --file that is not a status text; or the output
       could not be written (closed, a full disk)
  2    bad arguments
  70   an internal error (a bug in procstatus: please report it)
  130  interrupted with Ctrl-C
  141  the output was closed early (piped into head, for instance)
  run, watch -- CMD: the command's own exit status (128 + N when killed by
       signal N); 125 when it cannot be traced, 126 when it cannot be executed,
       127 when not found

Sizes are in IEC units (1 KiB = 1024 bytes) unless --bytes is given; --json
always gives bytes. The JSON schema is described in the documentation
(docs/cli.md in the source distribution)."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Names and dumps may hold any character; an output that cannot encode one
    # shows an escape instead of failing.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    with guarded_streams():
        return _main(args)


def _main(args: list[str]) -> int:
    try:
        try:
            status = _dispatch(args)
        finally:
            sys.stdout.flush()  # a failed write shows here, inside the handlers below
    except SystemExit as exit_:
        # argparse exits for --help, --version and bad arguments (status 2);
        # main() returns the status instead, as it does for everything else.
        return _exit_status(exit_.code)
    except OutputError as failure:
        if failure.error.errno == errno.EPIPE:
            # The reader went away (`| head -1`): stop quietly, the way tools
            # killed by SIGPIPE do.
            return EXIT_BROKEN_PIPE
        # Closed (`>&-`), a full disk, a terminal that hung up: say so on stderr.
        report(f"cannot write to standard output: {failure}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        # Only a bug gets here: the errors a person can cause are reported above.
        # One line rather than a traceback; PROCSTATUS_DEBUG=1 shows the traceback.
        if os.environ.get("PROCSTATUS_DEBUG"):
            raise
        report(
            f"internal error, please report it: {type(error).__name__}: {error}"
            " (PROCSTATUS_DEBUG=1 shows the traceback)"
        )
        return EXIT_INTERNAL
    return status


def _exit_status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: None is 0, an int itself, anything else 1."""
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_FAILURE


def _dispatch(args: list[str]) -> int:
    try:
        if args and args[0] in COMMANDS and args[0] != "show":
            command = importlib.import_module(f"{__package__}.{args[0]}")
            status: int = command.main(args[1:])
            return status
        from . import show  # like the others: imported only when chosen

        if args[:1] == ["show"]:
            return show.main(args[1:])
        return show.main(args, prog=PROG, usage=USAGE, epilog=EPILOG)
    except CommandError as failure:
        report(str(failure))
        return EXIT_FAILURE
