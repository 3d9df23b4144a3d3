"""``procstatus serve``: a Prometheus exporter of every process's memory, exact peaks included.

Serves ``/metrics`` (``procstatus.prometheus``) until SIGTERM or SIGINT, then
exits with status 0. prometheus_client is imported only when the command runs,
so the rest of the command line works without the ``prometheus`` extra.
"""

from __future__ import annotations

import argparse
import sys
from typing import Union

from .._procfs import list_pids
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    CommandError,
    announce,
    explain,
    pid_arg,
    positive_int,
    printable,
    root_arg,
)

__all__ = ["build_parser", "main", "serve"]


def main(args: list[str]) -> int:
    parser = build_parser()
    options = parser.parse_args(args)
    if options.pss_max_rss is not None and not options.pss:
        parser.error("--pss-max-rss needs --pss (it guards the smaps_rollup reads)")
    return serve(options)


def port_arg(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (0 to 65535): {text!r}")
    return int(text)


def user_arg(text: str) -> Union[int, str]:
    """A uid as an int, anything else as a user name (resolved by the collector).

    Digits only, and at most 10 of them (int() would also take "+5", " 5" or
    other scripts' digits); the collector checks the range, up to UID_MAX.
    """
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else text


def build_parser() -> argparse.ArgumentParser:
    # The library's DEFAULT_ADDRESS and DEFAULT_PORT (procstatus._serve), repeated
    # because importing them would import prometheus_client; a test keeps them equal.
    default_address, default_port = "127.0.0.1", 9640
    parser = argparse.ArgumentParser(
        prog=f"{PROG} serve",
        description="Serve the memory of this machine's processes to Prometheus at /metrics"
        " (text format): peak RSS (VmHWM), RSS and its anon/file/shmem split, swap, virtual"
        " size and its peak, threads and context switches (and, with --pss, PSS and USS),"
        " grouped by process name. Stops on"
        " SIGTERM or SIGINT (Ctrl-C) with exit status 0. Needs the prometheus extra"
        ' (pip install "procstatus[prometheus]"); the metrics are described in'
        " docs/prometheus.md of the source distribution.",
    )
    parser.add_argument(
        "--address",
        metavar="ADDR",
        default=default_address,
        help=f"the address to listen on (default: {default_address}, loopback only: the"
        " metrics name every process of this host and its memory, so they are not served to"
        " the network unless asked; give this host's address, or 0.0.0.0 or :: for every"
        " interface, for a Prometheus server on another machine)",
    )
    parser.add_argument(
        "--port",
        metavar="PORT",
        type=port_arg,
        default=default_port,
        help=f"the TCP port (default: {default_port}; 0 takes a free port, printed at start)",
    )
    parser.add_argument(
        "--name",
        metavar="PATTERN",
        action="append",
        default=[],
        help="export only processes whose name matches this shell-style pattern ('nginx',"
        " 'postgres*'); may be repeated, any pattern matching is enough",
    )
    parser.add_argument(
        "--user",
        metavar="USER",
        type=user_arg,
        action="append",
        default=[],
        help="export only processes of this effective user (a name or a uid); may be repeated",
    )
    parser.add_argument(
        "--pid",
        metavar="PID",
        type=pid_arg,
        action="append",
        default=[],
        help="export only this process (read directly, without listing the others); may be"
        " repeated. --name, --user and --pid together select the processes matching all three",
    )
    parser.add_argument(
        "--per-process",
        action="store_true",
        help="also export one series per process (labels pid and name); mind the cardinality",
    )
    parser.add_argument(
        "--reset-peaks",
        action="store_true",
        help="peak-per-interval mode: after reading each process's peak RSS, reset it"
        " (clear_refs), so that each scrape shows the peak since the previous one. This"
        " changes what every other reader of those peaks sees (VmHWM, ru_maxrss, procstatus"
        " run); off by default",
    )
    parser.add_argument(
        "--pss",
        action="store_true",
        help="also export PSS and USS from each selected process's smaps_rollup (a sum of PSS"
        " over a group is what it really uses). Each read walks the process's page tables"
        " under its mmap lock, about 10 ms per GiB of RSS: select, and see --pss-max-rss;"
        " off by default",
    )
    parser.add_argument(
        "--pss-max-rss",
        metavar="MIB",
        type=positive_int,
        default=None,
        help="with --pss: do not read smaps_rollup of processes whose RSS is above MIB"
        " mebibytes (counted in procstatus_exporter_skipped_rollups_total)",
    )
    parser.add_argument(
        "--root",
        metavar="PATH",
        type=root_arg,
        default="/proc",
        help="where procfs is mounted (default: /proc)",
    )
    return parser


def serve(options: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; 0 then."""
    try:
        from .. import prometheus  # noqa: PLC0415 - the optional extra, only for this command
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("prometheus_client"):
            raise
        raise CommandError(
            'serve needs prometheus_client: pip install "procstatus[prometheus]"'
        ) from None
    if not options.pid:
        try:
            list_pids(options.root)  # a root that is no procfs fails now, not at every scrape
        except OSError as error:
            raise explain(error, options.root) from None
    try:
        collector = prometheus.ProcStatusCollector(
            root=options.root,
            names=options.name,
            users=options.user,
            pids=options.pid,
            per_process=options.per_process,
            reset_peaks=options.reset_peaks,
            pss=options.pss,
            pss_max_rss=None if options.pss_max_rss is None else options.pss_max_rss << 20,
        )
    except ValueError as error:  # an unknown user name, a uid out of range
        build_parser().print_usage(sys.stderr)
        print(f"{PROG} serve: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE

    def listening(server: prometheus.MetricsServer) -> None:
        # Standard output may be closed (a supervisor's choice): serving goes on.
        announce(f"serving {server.url}", f"{PROG} serve")

    try:
        prometheus.serve(
            collector, address=options.address, port=options.port, on_listening=listening
        )
    except OSError as error:  # in use, not an address of this host, not resolvable
        where = f"{options.address} port {options.port}"
        raise CommandError(
            f"cannot listen on {printable(where)}: {error.strerror or error}"
        ) from None
    return EXIT_OK
