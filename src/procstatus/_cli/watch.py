"""``procstatus watch PID``: RSS and peak RSS of a process over time.

One line per sample, with a sparkline of the recent RSS, until Ctrl-C, the
process's exit or ``--count`` samples; then a summary line. Samples are taken
on a fixed schedule (multiples of the interval from the start), so slow reads
do not make the timeline drift.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Optional

from .._errors import ProcessNotFoundError, StatusParseError
from .._procfs import path as procfs_path
from .._read import read_memory
from .._units import show_size
from .common import (
    EXIT_OK,
    PROG,
    CommandError,
    add_common,
    explain,
    out_of_range,
    pid_arg,
    positive_int,
    seconds,
)

__all__ = ["build_parser", "main", "sparkline", "watch"]

_BARS = "▁▂▃▄▅▆▇█"
_ASCII_BARS = "_.-:=+*#"
_SPARK_SAMPLES = 20


def main(args: list[str]) -> int:
    return watch(build_parser().parse_args(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} watch",
        description="RSS and peak RSS (VmHWM) of a process over time, one line per sample with"
        " a sparkline of recent RSS. Ends on Ctrl-C, when the process exits or after --count"
        " samples, with a summary line; all three exit with status 0.",
    )
    parser.add_argument("pid", metavar="PID", type=pid_arg, help="the process to watch")
    parser.add_argument(
        "--interval",
        "-i",
        metavar="S",
        type=seconds,
        default=1.0,
        help="seconds between samples (default: 1)",
    )
    parser.add_argument(
        "--count",
        "-c",
        metavar="N",
        type=positive_int,
        default=None,
        help="stop after N samples (default: until Ctrl-C or the process exits)",
    )
    add_common(parser)
    return parser


def watch(options: argparse.Namespace) -> int:
    """Print a sample of one process every interval, then a summary line."""
    pid: int = options.pid
    exact: bool = options.bytes
    width = 12 if exact else 10  # "1023.9 MiB" is 10 characters
    bars = _bars()
    rss_values: list[int] = []
    peak = 0
    started = time.monotonic()
    last = started
    ending = ""
    failure: Optional[CommandError] = None
    try:
        for sample, taken in enumerate(_samples(pid, options.root, options.interval)):
            if taken is None:
                if not rss_values:
                    raise CommandError(
                        f"process {pid} has no memory to watch (a kernel thread or a zombie)"
                    )
                ending = f"process {pid} exited"
                break
            rss, hwm, last = taken
            rss_values.append(rss)
            peak = max(peak, hwm)
            print(
                f"{time.strftime('%H:%M:%S')}  RSS {show_size(rss, exact=exact):>{width}}"
                f"  peak {show_size(hwm, exact=exact):>{width}}"
                f"  {sparkline(rss_values[-_SPARK_SAMPLES:], bars)}",
                flush=True,
            )
            if options.count is not None and sample + 1 >= options.count:
                break
    except KeyboardInterrupt:
        if not rss_values:
            raise  # nothing to summarize: an interrupted command (status 130)
        print()  # end the line the terminal's ^C is on
    except CommandError as error:
        if not rss_values:
            raise
        failure = error
    if ending:
        print(ending)
    count = len(rss_values)
    print(
        f"process {pid}: {count} sample{'s' if count != 1 else ''} in {last - started:.1f} s;"
        f" RSS min {show_size(min(rss_values), exact=exact)},"
        f" max {show_size(max(rss_values), exact=exact)}; peak RSS {show_size(peak, exact=exact)}",
        flush=True,
    )
    if failure is not None:
        raise failure
    return EXIT_OK


def _samples(pid: int, root: str, interval: float) -> Iterator[Optional[tuple[int, int, float]]]:
    """(VmRSS, VmHWM, monotonic time) every ``interval`` seconds; None once the process is gone."""
    due = time.monotonic()
    first = True
    while True:
        try:
            memory = read_memory(pid, root)
        except ProcessNotFoundError:
            if first:
                raise CommandError(f"no such process: {pid}") from None
            memory = None
        except (OSError, StatusParseError) as error:
            raise explain(error, procfs_path(root, pid, "status")) from None
        except ValueError:
            raise out_of_range(pid) from None
        first = False
        now = time.monotonic()
        if memory is None or memory.rss is None:
            # Gone, or a zombie: exit_mm() has dropped its memory (kernel/exit.c).
            yield None
            return
        # VmHWM is absent before 2.6.15; then the current RSS is the best peak known.
        yield memory.rss, memory.rss if memory.peak_rss is None else memory.peak_rss, now
        # Sleep to the next multiple of the interval, so that slow reads do not drift.
        # Once behind (a read slower than the interval, procstatus stopped with
        # Ctrl-Z), the missed samples are skipped, not taken back to back.
        due += interval
        current = time.monotonic()
        if due < current:
            due += math.ceil((current - due) / interval) * interval
        time.sleep(max(0.0, due - current))


def sparkline(values: Sequence[int], bars: str = _BARS) -> str:
    """One bar per value, scaled from the smallest value (lowest bar) to the largest."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return bars[0] * len(values)
    top = len(bars) - 1
    return "".join(bars[(value - low) * top // (high - low)] for value in values)


def _bars() -> str:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        _BARS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII_BARS
    return _BARS
