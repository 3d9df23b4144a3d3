"""``procstatus top`` (src/procstatus/_cli/top.py): the processes using the most memory.

A fake proc tree (the ``fake_root`` fixture of conftest.py) gives exact output;
the live test checks only the order of a real listing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers_cli import procstatus_cmd
from helpers_live import requires_proc


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (None, ["big-peak", "big-rss", "swapped"]),
        ("peak", ["big-peak", "big-rss", "swapped"]),
        ("rss", ["big-rss", "swapped", "big-peak"]),
        ("swap", ["swapped", "big-rss", "big-peak"]),  # ties (0 swap) in pid order
        ("size", ["huge-size", "big-peak", "big-rss"]),
    ],
    ids=["default", "peak", "rss", "swap", "size"],
)
def test_top_sorts_and_leaves_out_kernel_threads(
    fake_root: Path, sort: str | None, order: list[str]
) -> None:
    options = [] if sort is None else ["--sort", sort]
    result = procstatus_cmd("top", "-n", "3", "--root", str(fake_root), *options)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PID", "PEAK", "RSS", "RSS", "SWAP", "SIZE", "NAME"]
    assert [line.split()[-1] for line in lines[1:]] == order


def test_top_table(fake_root: Path) -> None:
    result = procstatus_cmd("top", "--root", str(fake_root))
    assert result.stdout == (
        "PID    PEAK RSS         RSS       SWAP       SIZE  NAME\n"
        " 10   878.9 MiB  1000.0 KiB        0 B  927.7 MiB  big-peak\n"
        " 11   488.3 MiB   390.6 MiB   10.0 KiB  585.9 MiB  big-rss\n"
        " 12     2.0 MiB     1.5 MiB  293.0 MiB  390.6 MiB  swapped\n"
        " 13  1000.0 KiB   900.0 KiB        0 B    8.6 GiB  huge-size\n"
    )


def test_top_json(fake_root: Path) -> None:
    result = procstatus_cmd("top", "--json", "-n", "2", "--root", str(fake_root))
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert [(entry["Name"], entry["VmHWM"]) for entry in document] == [
        ("big-peak", 900_000 * 1024),
        ("big-rss", 500_000 * 1024),
    ]


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_top_skips_processes_that_cannot_be_read_or_parsed(
    fake_root: Path, json_output: bool
) -> None:
    options = ["--json"] if json_output else []
    expected = procstatus_cmd("top", "--root", str(fake_root), *options)
    (fake_root / "14" / "status").mkdir(parents=True)  # reading it fails with EISDIR
    (fake_root / "15").mkdir()
    (fake_root / "15" / "status").write_text("garbage\n")  # StatusParseError
    (fake_root / "16").mkdir()
    (fake_root / "16" / "status").write_text("Name:\tx\nVmRSS:\tlots\n")  # StatusParseError
    result = procstatus_cmd("top", "--root", str(fake_root), *options)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == expected.stdout
    assert len(result.stdout.splitlines()) > 4  # the four processes are all there


@pytest.mark.live
@requires_proc
def test_live_top() -> None:
    result = procstatus_cmd("top", "-n", "3", "--json")
    assert (result.returncode, result.stderr) == (0, "")
    peaks = [entry["VmHWM"] for entry in json.loads(result.stdout)]
    assert 1 <= len(peaks) <= 3
    assert peaks == sorted(peaks, reverse=True)
    text = procstatus_cmd("top", "-n", "3")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].split()[0] == "PID"
