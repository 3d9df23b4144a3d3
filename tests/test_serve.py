"""The exporter over HTTP: procstatus._serve.MetricsServer in this process, and
``procstatus serve`` as a child: what it answers, how it stops, and a live process
whose known peak is found in /metrics. Loopback only.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client", reason="needs the prometheus extra (prometheus_client)")

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from helpers_cli import ENV, PROCSTATUS
from helpers_live import requires_proc
from helpers_serve import (
    free_port,
    http_get,
    raw_request,
    serve_command,
    spawn_peaked,
    stop,
    unique_name,
)
from procstatus._cli import serve as cli_serve
from procstatus.prometheus import DEFAULT_ADDRESS, DEFAULT_PORT, MetricsServer

MiB = 1024 * 1024


class Flaky(Collector):
    """One gauge; the scrapes listed in ``failing`` (1-based) raise instead."""

    def __init__(self, failing: Iterable[int] = ()) -> None:
        self.failing = set(failing)
        self.scrapes = 0

    def collect(self) -> Iterable[Metric]:
        self.scrapes += 1
        if self.scrapes in self.failing:
            raise RuntimeError(f"scrape number {self.scrapes} fails")
        return [GaugeMetricFamily("flaky_scrapes", "Scrapes so far.", value=self.scrapes)]


@contextlib.contextmanager
def running(collector: Collector, address: str = "127.0.0.1") -> Iterator[MetricsServer]:
    """A MetricsServer on a free port of ``address``, serving in a thread until the block ends."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    with MetricsServer(registry, address, 0) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            thread.join()


def base(server: MetricsServer) -> str:
    return server.url.rsplit("/", 1)[0]


# ---- MetricsServer --------------------------------------------------------------------


def test_metrics_in_the_text_format() -> None:
    with running(Flaky()) as server:
        answer = http_get(server.url)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    [family] = text_string_to_metric_families(answer.body.decode("utf-8"))
    assert family.name == "flaky_scrapes"
    assert family.samples[0].value == 1


def test_head_answers_without_a_body_and_without_scraping() -> None:
    # A scrape reads every process and, in the peak-per-interval mode, resets
    # their peaks: a HEAD (a health check, a proxy's probe) must do neither.
    collector = Flaky()
    with running(collector) as server:
        answer = http_get(server.url, method="HEAD")
        assert collector.scrapes == 0
        assert http_get(server.url).status == 200
    assert collector.scrapes == 1
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "Content-Length" not in answer.headers  # known only by scraping
    assert answer.body == b""


def test_head_of_the_landing_page_has_its_length() -> None:
    with running(Flaky()) as server:
        answer = http_get(base(server) + "/", method="HEAD")
    assert answer.status == 200
    assert int(answer.headers["Content-Length"]) > 0
    assert answer.body == b""


def test_the_landing_page_points_to_metrics() -> None:
    with running(Flaky()) as server:
        answer = http_get(base(server) + "/")
    assert answer.status == 200
    assert b"/metrics" in answer.body


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/nope", "GET", 404),
        ("/metrics/extra", "GET", 404),
        ("/metrics", "POST", 405),
        ("/metrics", "PUT", 405),
        ("/metrics", "DELETE", 405),
        ("/metrics", "BREW", 501),
    ],
    ids=["wrong-path", "longer-path", "post", "put", "delete", "unknown-method"],
)
def test_a_wrong_request_gets_an_http_error_and_the_server_goes_on(
    path: str, method: str, status: int
) -> None:
    with running(Flaky()) as server:
        answer = http_get(base(server) + path, method=method)
        assert answer.status == status
        if status == 405:
            assert answer.headers["Allow"] == "GET, HEAD"
        assert http_get(server.url).status == 200


@pytest.mark.parametrize(
    "data",
    [
        b"garbage\r\n\r\n",
        b"GET /metrics HTTP/7.0\r\n\r\n",
        b"GET " + b"x" * 70000 + b" HTTP/1.0\r\n\r\n",
        b"\x00\xff\x1b[31m\r\n\r\n",
    ],
    ids=["garbage", "bad-version", "too-long", "binary"],
)
def test_garbage_gets_an_http_error_and_the_server_goes_on(data: bytes) -> None:
    with running(Flaky()) as server:
        answer = raw_request("127.0.0.1", server.port, data)
        assert answer.split(b" ", 2)[1] in (b"400", b"414", b"505"), answer[:100]
        assert http_get(server.url).status == 200


def test_a_connection_that_says_nothing_does_not_stop_the_server() -> None:
    with running(Flaky()) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10):
            assert http_get(server.url).status == 200  # served while the other one idles
        assert http_get(server.url).status == 200


def test_a_failing_scrape_is_a_500_and_the_next_one_works() -> None:
    with running(Flaky(failing=[1])) as server:
        assert http_get(server.url).status == 500
        answer = http_get(server.url)
    assert answer.status == 200
    assert b"flaky_scrapes 2.0" in answer.body


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as error:
        pytest.skip(f"no IPv6 loopback here: {error}")
    with running(Flaky(), "::1") as server:
        assert server.url.startswith("http://[::1]:")
        assert http_get(server.url).status == 200


# ---- procstatus serve -----------------------------------------------------------------------


@requires_proc
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_cleanly_on_a_signal(signum: int) -> None:
    with serve_command() as served:
        assert http_get(served.url).status == 200
        status, err = stop(served.process, signum)
    assert status == 0
    assert err == ""


@requires_proc
def test_serve_answers_bad_requests_and_goes_on() -> None:
    with serve_command() as served:
        assert http_get(served.url.replace("/metrics", "/nope")).status == 404
        assert http_get(served.url, method="POST").status == 405
        raw = raw_request("127.0.0.1", served.port, b"\x16\x03\x01\x1b[2J\r\n\r\n")
        assert raw.startswith(b"HTTP/1.0 400 ")
        answer = http_get(served.url)
        assert answer.status == 200
        assert b"procstatus_group_processes" in answer.body
        status, err = stop(served.process)
    assert status == 0
    # Bad requests are logged, one escaped line each: no raw control character.
    assert "code 404" in err
    assert "\x16" not in err
    assert "\x1b" not in err
    assert "\\x16\\x03\\x01\\x1b[2J" in err


@requires_proc
@pytest.mark.live
def test_serve_exports_the_exact_peak_of_a_live_process() -> None:
    name = unique_name("pspeak")
    with spawn_peaked(name, 64 * MiB) as child:
        assert child.peak_rss >= 64 * MiB + child.rss // 2
        with serve_command("--name", name, "--per-process") as served:
            text = http_get(served.url).body.decode("utf-8")
            stop(served.process)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    group = ("procstatus_group_max_resident_memory_peak_bytes", (("name", name),))
    process = (
        "procstatus_process_resident_memory_peak_bytes",
        (("name", name), ("pid", str(child.pid))),
    )
    assert samples[group] == child.peak_rss
    assert samples[process] == child.peak_rss
    assert samples["procstatus_group_processes", (("name", name),)] == 1
    # The selection left every other process out.
    assert {dict(labels).get("name") for (metric, labels) in samples if "group" in metric} == {name}


@requires_proc
def test_serve_selects_by_pid() -> None:
    name = unique_name("pspid")
    with spawn_peaked(name, MiB) as child, serve_command("--pid", str(child.pid)) as served:
        text = http_get(served.url).body.decode("utf-8")
        stop(served.process)
    assert f'procstatus_group_processes{{name="{name}"}} 1.0' in text


@requires_proc
def test_serve_exports_its_own_process_metrics_and_peak() -> None:
    with serve_command("--pid", "1") as served:
        text = http_get(served.url).body.decode("utf-8")
        stop(served.process)
    assert "\nprocess_resident_memory_bytes " in text
    assert "\nprocess_resident_memory_peak_bytes " in text


@requires_proc
def test_serve_with_a_closed_stdout_serves_and_says_where_on_stderr() -> None:
    # A supervisor may start a daemon with standard output closed: the URL is
    # a courtesy, the metrics are the job. (--port 0 would leave no way to
    # learn the port, so a free one is chosen here.)
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    process = subprocess.Popen(
        ["sh", "-c", 'exec "$@" >&-', "sh", *PROCSTATUS, "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = http_get(url)
                break
            except OSError:  # not listening yet (or it exited: then poll() says so)
                assert process.poll() is None, process.communicate(timeout=30)
                assert time.monotonic() < deadline, "procstatus serve did not start"
                time.sleep(0.05)
        status, err = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert answer.status == 200
    assert b"procstatus_group_processes" in answer.body
    assert status == 0
    assert err == (
        f"procstatus serve: serving {url}"
        " (not written to standard output: it was closed when procstatus started)\n"
    )


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "procstatus", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_an_unknown_user() -> None:
    result = run_serve("--user", "no-such-user-procstatus")
    assert result.returncode == 2
    assert result.stderr.endswith(
        "procstatus serve: error: no such user: 'no-such-user-procstatus'\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4294967294", 4294967294),
        ("0", 0),
        ("www-data", "www-data"),
        ("12345678901", "12345678901"),
    ],
    ids=["largest-uid", "root", "name", "too-long-for-a-uid"],
)
def test_serve_user_is_a_uid_or_a_name(text: str, expected: object) -> None:
    assert cli_serve.build_parser().parse_args(["--user", text]).user == [expected]


def test_serve_pss_max_rss_is_in_mebibytes_and_needs_pss() -> None:
    options = cli_serve.build_parser().parse_args(["--pss", "--pss-max-rss", "100"])
    assert (options.pss, options.pss_max_rss) == (True, 100)
    result = run_serve("--pss-max-rss", "100")
    assert result.returncode == 2
    assert result.stderr.endswith(
        "procstatus serve: error: --pss-max-rss needs --pss (it guards the smaps_rollup reads)\n"
    )


@requires_proc
def test_serve_pss_exports_the_pss_of_a_selected_process() -> None:
    name = unique_name("pspsssrv")
    with (
        spawn_peaked(name, MiB) as child,
        serve_command("--pid", str(child.pid), "--pss", "--pss-max-rss", "1024") as served,
    ):
        text = http_get(served.url).body.decode("utf-8")
        stop(served.process)
    assert f'procstatus_group_rollup_processes{{name="{name}"}} 1.0' in text
    assert f'procstatus_group_sum_proportional_memory_bytes{{name="{name}"}} ' in text


def test_serve_refuses_a_uid_out_of_range() -> None:
    result = run_serve("--user", "4294967295")
    assert result.returncode == 2
    assert result.stderr.endswith(
        "procstatus serve: error: uid must be between 0 and 4294967294, not 4294967295\n"
    )


def test_serve_refuses_a_root_that_is_not_a_procfs(tmp_path: Path) -> None:
    result = run_serve("--root", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert result.stderr == f"procstatus: {tmp_path / 'missing'}: proc root does not exist\n"


@requires_proc
def test_serve_says_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve("--port", str(port))
    assert result.returncode == 1
    assert result.stderr == (
        f"procstatus: cannot listen on 127.0.0.1 port {port}: Address already in use\n"
    )


@pytest.mark.parametrize(
    "port",
    ["65536", "-1", "http", "\N{FULLWIDTH DIGIT ONE}"],
    ids=["big", "negative", "word", "wide-digit"],
)
def test_serve_refuses_a_bad_port(port: str) -> None:
    result = run_serve("--port", port)
    assert result.returncode == 2
    assert "not a TCP port" in result.stderr


def test_serve_without_prometheus_client_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "from procstatus._cli import main; sys.exit(main(['serve']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert result.stderr == (
        'procstatus: serve needs prometheus_client: pip install "procstatus[prometheus]"\n'
    )


def test_the_command_line_defaults_are_the_library_defaults() -> None:
    options = cli_serve.build_parser().parse_args([])
    assert (options.address, options.port) == (DEFAULT_ADDRESS, DEFAULT_PORT)
    assert DEFAULT_ADDRESS == "127.0.0.1"


def test_help_says_why_the_default_address_is_loopback() -> None:
    help_text = " ".join(cli_serve.build_parser().format_help().split())
    assert "default: 127.0.0.1, loopback only" in help_text
