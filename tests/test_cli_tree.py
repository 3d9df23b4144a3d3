"""``procstatus tree`` and ``procstatus top --sort pss|uss`` over fake roots and live."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_live import requires_proc, shared_region_tree
from helpers_rollup import add_process
from procstatus._cli import main


def rollup(rss_kb: int, pss_kb: int, private_kb: int, swap_kb: int = 0) -> bytes:
    return (
        f"Rss: {rss_kb} kB\nPss: {pss_kb} kB\nPrivate_Clean: 0 kB\n"
        f"Private_Dirty: {private_kb} kB\nSwap: {swap_kb} kB\n"
    ).encode()


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    """10 > {11 > 13, 12 (another user's: unreadable rollup)}, and 20 beside; no children files."""
    add_process(tmp_path, 1, ppid=0, rollup=rollup(4096, 1024, 512))
    add_process(tmp_path, 10, ppid=1, rollup=rollup(3072, 1024, 1024, swap_kb=8))
    add_process(tmp_path, 11, ppid=10, rollup=rollup(2048, 512, 256))
    add_process(tmp_path, 12, ppid=10, rollup=b"Rss: bad\n")
    add_process(tmp_path, 13, ppid=11, rollup=rollup(2048, 512, 256))
    add_process(tmp_path, 20, ppid=1, rollup=rollup(1024, 1024, 1024))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_tree_table_indents_by_depth_and_totals_side_by_side(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "tree", "10", "--root", str(fake))

    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["PID", "RSS", "PSS", "USS", "SWAP", "NAME"]
    assert [line.split()[0] for line in lines[1:]] == ["10", "11", "13", "12", "TOTAL"]
    assert lines[1].endswith("  p10")
    assert lines[2].endswith("    p11")
    assert lines[3].endswith("      p13")
    assert lines[4].split()[1:5] == ["-", "-", "-", "-"]
    assert "p12 (damaged smaps_rollup: line 1 (Rss): expected a size like '1234 kB'" in lines[4]
    assert lines[5].split()[1:9] == ["7.0", "MiB", "2.0", "MiB", "1.5", "MiB", "8.0", "KiB"]
    assert lines[5].endswith("3 processes; RSS total = 3.5 x PSS total; 1 not measured, left out")


def test_tree_lists_a_descendant_whose_status_is_damaged_and_goes_on(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status_path = fake / "11" / "status"
    status_path.write_bytes(
        status_path.read_bytes().replace(b"Name:\tp11", b"Name:\tp11\nName:\tx")
    )

    status, out, err = run(capsys, "tree", "10", "--root", str(fake))

    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["10", "11", "13", "12", "TOTAL"]
    assert lines[2].split()[1:5] == ["-", "-", "-", "-"]
    # The parser's wording is its own (tests/test_parse.py); the line and field are given.
    assert "    ? (damaged status: line 2 (Name): " in lines[2]
    assert lines[5].endswith("2 processes; RSS total = 3.3 x PSS total; 2 not measured, left out")


def test_tree_bytes_gives_exact_numbers(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "tree", "11", "--bytes", "--root", str(fake))

    assert out.splitlines()[1].split() == ["11", "2097152", "524288", "262144", "0", "p11"]


def test_tree_json_has_the_documented_schema(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "tree", "10", "--json", "--root", str(fake))

    assert status == 0
    document = json.loads(out)
    assert document["root"] == 10
    assert document["processes"][0] == {
        "pid": 10,
        "ppid": 1,
        "name": "p10",
        "depth": 0,
        "rss": 3072 * 1024,
        "pss": 1024 * 1024,
        "uss": 1024 * 1024,
        "swap": 8 * 1024,
    }
    assert [entry["pid"] for entry in document["processes"]] == [10, 11, 13, 12]
    assert document["processes"][3]["pss"] is None  # not measured
    assert document["total"] == {
        "rss": 7168 * 1024,
        "pss": 2048 * 1024,
        "uss": 1536 * 1024,
        "swap": 8 * 1024,
    }


def test_tree_max_rss_lists_large_processes_unmeasured(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every fake status says VmRSS 8688 kB: above 1 MiB.
    _, out, _ = run(capsys, "tree", "20", "--max-rss", "1", "--root", str(fake))

    assert out.splitlines()[1].endswith("p20 (RSS above max_rss)")
    assert out.splitlines()[2].endswith("0 processes; 1 not measured, left out")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tree", "99"], "procstatus: no such process: 99\n"),
        (["tree", "99999999999"], "procstatus: no such process: 99999999999\n"),
    ],
    ids=["missing", "out-of-range"],
)
def test_tree_of_a_missing_process_fails_with_one_line(
    fake: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, out, err = run(capsys, *args, "--root", str(fake))

    assert (status, out, err) == (1, "", message)


def test_top_sort_pss_adds_the_columns_and_ranks_by_pss(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "top", "--sort", "pss", "--root", str(fake))

    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "PID", "USER", "PEAK", "RSS", "RSS", "SWAP", "SIZE", "PSS", "USS", "NAME"
    ]  # fmt: skip
    # PSS 1 MiB each for 1, 10 and 20 (pid order), then 512 KiB; 12's rollup is unreadable.
    assert [line.split()[0] for line in lines[1:]] == ["1", "10", "20", "11", "13"]


def test_top_sort_uss_ranks_by_uss(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "top", "--sort", "uss", "--root", str(fake))

    assert [line.split()[0] for line in out.splitlines()[1:]] == ["10", "20", "1", "11", "13"]


def test_top_sort_pss_json_adds_pss_and_uss(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "top", "--sort", "pss", "--json", "-n", "1", "--root", str(fake))

    [entry] = json.loads(out)
    assert (entry["Pid"], entry["pss"], entry["uss"]) == (1, 1024 * 1024, 512 * 1024)


def big(root: Path, pid: int) -> None:
    """Give ``pid`` an RSS of about 977 MiB in its status (its rollup is unchanged)."""
    path = root / str(pid) / "status"
    path.write_bytes(path.read_bytes().replace(b"    8688 kB", b" 1000000 kB"))


def test_top_sort_pss_max_rss_leaves_out_larger_processes_and_says_so(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big(fake, 10)
    big(fake, 20)

    status, out, err = run(capsys, "top", "--sort", "pss", "--max-rss", "100", "--root", str(fake))

    assert status == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["1", "11", "13"]
    assert err == "procstatus top: 2 processes above --max-rss 100 MiB not measured, left out\n"


def test_top_max_rss_that_leaves_out_nothing_says_nothing(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "top", "--sort", "uss", "--max-rss", "100", "--root", str(fake))

    assert (status, err) == (0, "")
    assert len(out.splitlines()) == 6


def test_top_max_rss_is_said_in_the_header_of_each_listing(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big(fake, 10)

    status, out, err = run(
        capsys, "top", "--sort", "pss", "--max-rss", "100", "-i", "0.01", "-c", "2", "--root",
        str(fake),
    )  # fmt: skip

    assert (status, err) == (0, "")
    headers = [line for line in out.splitlines() if "sorted by" in line]
    assert len(headers) == 2
    for header in headers:
        assert header.endswith(
            "sorted by PSS (smaps_rollup), every 0.01 s;"
            " 1 process above --max-rss 100 MiB not measured, left out"
        )


def test_top_max_rss_needs_a_rollup_sort(fake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "top", "--max-rss", "100", "--root", str(fake))

    assert (status, out) == (2, "")
    assert err.splitlines()[-1] == (
        "procstatus top: error: --max-rss needs --sort pss or --sort uss"
        " (only they read smaps_rollup)"
    )


def test_top_without_pss_sort_reads_no_rollup(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for directory in fake.iterdir():
        (directory / "smaps_rollup").unlink()

    _, out, _ = run(capsys, "top", "--root", str(fake))

    assert "PSS" not in out.splitlines()[0]


@pytest.mark.live
@requires_proc
def test_live_tree_shows_five_processes_and_the_overcount() -> None:
    with shared_region_tree(64 << 20, children=4) as shared:
        result = subprocess.run(
            [sys.executable, "-m", "procstatus", "tree", str(shared.pid)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert len(lines) == 7
    assert lines[-1].startswith("TOTAL")
    assert "5 processes; RSS total = " in lines[-1]
