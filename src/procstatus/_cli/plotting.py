"""``--plot FILE`` of ``run`` and ``watch``: the option, its check before anything runs, and
writing the file at the end (the drawing itself is ``procstatus._plot``).

The check comes first so that a missing matplotlib or a wrong extension costs
nothing: no command is started, no process is sampled.
"""

from __future__ import annotations

import argparse
from typing import Callable, Optional

from .._plot import INSTALL_HINT, PlotUnavailableError, plot_format, require_matplotlib
from .common import EXIT_USAGE, CommandError, printable, report

__all__ = ["add_plot_option", "check_plot_option", "write_plot"]


def add_plot_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="at the end, draw memory over time into FILE (.png, .svg or .pdf);"
        f" needs matplotlib: {INSTALL_HINT}",
    )


def check_plot_option(parser: argparse.ArgumentParser, path: Optional[str]) -> Optional[int]:
    """None when ``--plot path`` can be drawn (or was not given); else the exit status.

    A wrong extension is a usage error (argparse's message, status 2); a missing
    matplotlib is one line saying how to install it, status 2 too.
    """
    if path is None:
        return None
    try:
        plot_format(path)
    except ValueError as error:
        parser.error(str(error))
    try:
        require_matplotlib()
    except PlotUnavailableError as error:
        report(f"--plot: {error}")
        return EXIT_USAGE
    return None


def write_plot(path: str, draw: Callable[[], None]) -> None:
    """Run ``draw``; a file that cannot be written is a CommandError (one line)."""
    try:
        draw()
    except OSError as error:
        raise CommandError(
            f"cannot write the plot {printable(path)}: {error.strerror or error}"
        ) from None
