"""End to end: a real Prometheus server scrapes ``procstatus serve`` and answers a
query with the exact peak of a live process.

The server is Debian's ``prometheus`` package (scripts/test installs it where
apt-get is available and it runs as root); the test skips, saying why, where the
binary is missing. Everything listens on loopback: our exporter on a port the
kernel chose, Prometheus on a free port, with its own temporary storage.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

pytest.importorskip("prometheus_client", reason="needs the prometheus extra (prometheus_client)")

from helpers_live import requires_proc
from helpers_serve import LOOPBACK, free_port, http_get, serve_command, spawn_peaked, unique_name

MiB = 1024 * 1024
PROMETHEUS = shutil.which("prometheus")

# Prometheus applies a new scrape configuration's targets in batches every 5 s
# (discovery manager's updatert), then scrapes every second: 15 s is ample on a
# quiet machine; 45 s leaves room for a busy one.
QUERY_DEADLINE_S = 45.0

requires_prometheus = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="no prometheus binary on PATH (Debian's package: apt-get install prometheus;"
    " scripts/test installs it where apt-get is available and it runs as root)",
)


@contextlib.contextmanager
def prometheus_server(target: str, workdir: Path) -> Iterator[str]:
    """A Prometheus server scraping ``target`` (host:port) every second; yields its base URL."""
    assert PROMETHEUS is not None
    config = workdir / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: procstatus\n"
        "    static_configs:\n"
        f"      - targets: ['{target}']\n",
        encoding="utf-8",
    )
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--web.listen-address={LOOPBACK}:{port}",
            f"--storage.tsdb.path={workdir / 'data'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    try:
        url = f"http://{LOOPBACK}:{port}"
        _wait_ready(url, process, workdir / "prometheus.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}: {log.read_text()}")
        with contextlib.suppress(OSError):
            if http_get(f"{url}/-/ready", timeout=2).status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"prometheus was not ready within 30 s: {log.read_text()}")


def query(url: str, promql: str) -> list[dict[str, Any]]:
    """The result vector of an instant query (empty until the series exists)."""
    answer = http_get(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    assert answer.status == 200, answer.body
    document = json.loads(answer.body)
    assert document["status"] == "success", document
    result: list[dict[str, Any]] = document["data"]["result"]
    return result


def first_value(url: str, promql: str, deadline_s: float) -> Optional[float]:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        result = query(url, promql)
        if result:
            return float(result[0]["value"][1])
        time.sleep(0.5)
    return None


@requires_prometheus
@requires_proc
@pytest.mark.live
def test_prometheus_scrapes_the_exact_peak_of_a_live_process(tmp_path: Path) -> None:
    name = unique_name("pse2e")
    with spawn_peaked(name, 48 * MiB) as child:
        assert child.peak_rss >= 48 * MiB
        with serve_command("--name", name) as served:
            target = f"{LOOPBACK}:{served.port}"
            with prometheus_server(target, tmp_path) as url:
                peak = first_value(
                    url,
                    f'procstatus_group_max_resident_memory_peak_bytes{{name="{name}"}}',
                    QUERY_DEADLINE_S,
                )
                assert peak == child.peak_rss, f"log: {(tmp_path / 'prometheus.log').read_text()}"
                # The question the exporter is for: which name peaked highest
                # (here over the last minute; a week in docs/prometheus.md).
                top = query(
                    url,
                    "topk(1, max by (name)"
                    " (max_over_time(procstatus_group_max_resident_memory_peak_bytes[1m])))",
                )
                assert [float(top[0]["value"][1])] == [child.peak_rss]
                assert top[0]["metric"] == {"name": name}
                up = query(url, 'up{job="procstatus"}')
                assert float(up[0]["value"][1]) == 1
