"""read_rollup and iter_rollups over fake proc roots: the fallback, errors, max_rss."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

import procstatus
from helpers_live import SYSTEM_PYTHON, run_as_nobody, world_readable_dir
from helpers_rollup import ROLLUP, SMAPS, add_process
from procstatus import (
    ROLLUP_LIMIT,
    ProcessNotFoundError,
    ProcfsFileError,
    ProcfsNotFoundError,
    RollupError,
    RollupParseError,
    RssLimitExceededError,
    iter_rollups,
    parse_rollup,
    read_rollup,
)
from procstatus._rollup import sum_smaps
from strategies import ROLLUP_DAMAGE_BASES, SOME, mutated

KIB = 1024


def test_reads_and_parses_smaps_rollup(tmp_path: Path) -> None:
    add_process(tmp_path, 100)

    assert read_rollup(100, tmp_path) == parse_rollup(ROLLUP)


def test_a_root_may_be_a_str_or_a_path(tmp_path: Path) -> None:
    add_process(tmp_path, 100)

    assert read_rollup(100, str(tmp_path)) == read_rollup(100, tmp_path)


def test_without_smaps_rollup_the_smaps_lines_are_summed(tmp_path: Path) -> None:
    # A kernel before 4.14: the process exists but has no smaps_rollup file.
    add_process(tmp_path, 100, rollup=None, smaps=SMAPS)

    rollup = read_rollup(100, tmp_path)

    assert rollup is not None
    assert rollup.from_smaps
    assert rollup == sum_smaps(SMAPS)
    kernel = parse_rollup(ROLLUP)
    assert (rollup.rss, rollup.uss, rollup.swap) == (kernel.rss, kernel.uss, kernel.swap)


def test_the_fallback_of_a_process_without_memory_is_none(tmp_path: Path) -> None:
    # m_start() ends smaps at once for a task without mm: an empty file.
    add_process(tmp_path, 2, rollup=None, smaps=b"", rss_kb=None)

    assert read_rollup(2, tmp_path) is None


def test_an_empty_smaps_rollup_is_no_memory(tmp_path: Path) -> None:
    add_process(tmp_path, 2, rollup=b"", rss_kb=None)

    assert read_rollup(2, tmp_path) is None


def test_a_missing_process_is_not_found(tmp_path: Path) -> None:
    add_process(tmp_path, 100)

    with pytest.raises(ProcessNotFoundError) as caught:
        read_rollup(101, tmp_path)

    assert caught.value.pid == 101


def test_a_symlink_loop_is_an_os_error_as_read_pid_gives_not_a_gone_process(
    tmp_path: Path,
) -> None:
    # ELOOP is no "gone": the process directory is there. read_rollup looks at
    # the status after smaps_rollup answered ENOENT, and must fail as read_pid does.
    directory = add_process(tmp_path, 100, rollup=None)
    (directory / "status").unlink()
    (directory / "status").symlink_to("status")

    with pytest.raises(OSError, match="symbolic links") as from_read_pid:
        procstatus.read_pid(100, tmp_path)
    with pytest.raises(OSError, match="symbolic links") as from_read_rollup:
        read_rollup(100, tmp_path)

    assert from_read_pid.value.errno == errno.ELOOP
    assert type(from_read_rollup.value) is type(from_read_pid.value)
    assert from_read_rollup.value.errno == errno.ELOOP
    assert not isinstance(from_read_rollup.value, ProcessNotFoundError)


def test_a_process_without_either_file_is_a_file_error(tmp_path: Path) -> None:
    # Neither smaps_rollup nor smaps: a kernel without CONFIG_PROC_PAGE_MONITOR.
    add_process(tmp_path, 100, rollup=None)

    with pytest.raises(ProcfsFileError) as caught:
        read_rollup(100, tmp_path)

    assert (caught.value.errno, caught.value.filename) == (errno.ENOENT, f"{tmp_path}/100/smaps")


def test_a_missing_root_is_not_a_proc_root(tmp_path: Path) -> None:
    with pytest.raises(ProcfsNotFoundError):
        read_rollup(1, tmp_path / "nowhere")


def test_a_malformed_rollup_raises_the_parse_error(tmp_path: Path) -> None:
    add_process(tmp_path, 100, rollup=b"Rss: many kB\n")

    with pytest.raises(RollupParseError) as caught:
        read_rollup(100, tmp_path)

    assert (caught.value.line, caught.value.field) == (1, "Rss")


def test_a_rollup_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    add_process(tmp_path, 100, rollup=ROLLUP + b"X: " + b"0" * ROLLUP_LIMIT + b"\n")

    with pytest.raises(ProcfsFileError) as caught:
        read_rollup(100, tmp_path)

    assert caught.value.errno == errno.EFBIG


def test_a_fifo_in_place_of_smaps_rollup_does_not_block(tmp_path: Path) -> None:
    directory = add_process(tmp_path, 100, rollup=None)
    os.mkfifo(directory / "smaps_rollup")

    with pytest.raises(ProcfsFileError) as caught:
        read_rollup(100, tmp_path)

    assert caught.value.errno == errno.EINVAL


@pytest.mark.parametrize(
    ("pid", "error"), [("100", TypeError), (True, TypeError), (-1, ValueError)]
)
def test_pids_are_checked_before_any_path_is_built(
    tmp_path: Path, pid: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        read_rollup(pid, tmp_path)  # type: ignore[arg-type]


# ---- max_rss: the cheap status read first ----------------------------------------------


def test_max_rss_skips_a_process_above_it(tmp_path: Path) -> None:
    add_process(tmp_path, 100, rss_kb=8688)

    with pytest.raises(RssLimitExceededError) as caught:
        read_rollup(100, tmp_path, max_rss=8 << 20)

    error = caught.value
    assert (error.pid, error.rss, error.max_rss) == (100, 8688 * KIB, 8 << 20)
    assert str(error) == (
        f"process 100 skipped: its RSS ({8688 * KIB} bytes) is above max_rss ({8 << 20} bytes)"
    )


def test_max_rss_reads_a_process_at_or_below_it(tmp_path: Path) -> None:
    add_process(tmp_path, 100, rss_kb=8688)

    assert read_rollup(100, tmp_path, max_rss=8688 * KIB) == parse_rollup(ROLLUP)


def test_max_rss_answers_none_for_a_process_without_memory_lines(tmp_path: Path) -> None:
    add_process(tmp_path, 2, rollup=None, rss_kb=None)  # no smaps_rollup is ever opened

    assert read_rollup(2, tmp_path, max_rss=1) is None


@pytest.mark.parametrize("max_rss", [1.5, "10", True], ids=["float", "str", "bool"])
def test_max_rss_must_be_an_int(tmp_path: Path, max_rss: object) -> None:
    add_process(tmp_path, 100)

    with pytest.raises(TypeError, match="max_rss must be an int"):
        read_rollup(100, tmp_path, max_rss=max_rss)  # type: ignore[arg-type]


# ---- iter_rollups: sweeps -------------------------------------------------------------


@pytest.fixture
def swept(tmp_path: Path) -> Path:
    add_process(tmp_path, 100, rss_kb=8688)
    add_process(tmp_path, 2, rollup=b"", rss_kb=None)  # a kernel thread
    add_process(tmp_path, 300, rss_kb=900_000)  # large
    return tmp_path


def test_iter_rollups_yields_every_process_in_pid_order(swept: Path) -> None:
    assert [pid for pid, _ in iter_rollups(swept)] == [2, 100, 300]
    assert dict(iter_rollups(swept))[2] is None


def test_iter_rollups_hands_skipped_processes_to_on_error(swept: Path) -> None:
    skipped: list[tuple[int, RollupError]] = []

    read = list(iter_rollups(swept, max_rss=100 << 20, on_error=lambda *args: skipped.append(args)))

    assert [pid for pid, _ in read] == [2, 100]
    [(pid, error)] = skipped
    assert pid == 300
    assert isinstance(error, RssLimitExceededError)
    assert error.rss == 900_000 * KIB


def test_iter_rollups_leaves_skipped_processes_out_without_on_error(swept: Path) -> None:
    assert [pid for pid, _ in iter_rollups(swept, max_rss=100 << 20)] == [2, 100]


def test_iter_rollups_reads_only_the_pids_asked_for(swept: Path) -> None:
    assert [pid for pid, _ in iter_rollups(swept, pids=[300, 100, 7])] == [300, 100]


def test_iter_rollups_raises_a_parse_error_without_on_error(swept: Path) -> None:
    (swept / "100" / "smaps_rollup").write_bytes(b"Rss: x\n")

    with pytest.raises(RollupParseError):
        list(iter_rollups(swept))


def test_iter_rollups_checks_its_root_at_once(tmp_path: Path) -> None:
    with pytest.raises(ProcfsNotFoundError):
        iter_rollups(tmp_path / "nowhere")


# ---- permission: smaps_rollup only its owner may read ----------------------------------

READ_ROLLUP_AS_OTHER_USER = """
import json, sys
try:
    import procstatus
except ImportError as error:
    print(json.dumps({"import": str(error)}))
    raise SystemExit(0)
try:
    procstatus.read_pid(int(sys.argv[2]), sys.argv[1])
    procstatus.read_rollup(int(sys.argv[2]), sys.argv[1])
except OSError as error:
    print(json.dumps({"type": type(error).__name__, "errno": error.errno,
                      "filename": error.filename}))
else:
    print(json.dumps({"type": None}))
"""


def test_a_rollup_only_its_owner_may_read_is_a_permission_error() -> None:
    with world_readable_dir("procstatus-rollup-perm-") as root:
        directory = add_process(root, 100)
        os.chmod(directory, 0o755)
        os.chmod(directory / "status", 0o444)  # as procfs: status is world-readable
        os.chmod(directory / "smaps_rollup", 0o400)  # and smaps_rollup is not
        result = run_as_nobody([SYSTEM_PYTHON, "-c", READ_ROLLUP_AS_OTHER_USER, str(root), "100"])
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    if "import" in answer:
        pytest.skip(f"uid 65534 cannot import procstatus/attrs: {answer['import']}")
    assert answer == {
        "type": "ProcfsPermissionError",
        "errno": errno.EACCES,
        "filename": f"{root}/100/smaps_rollup",
    }


# ---- fuzz: whatever the files hold, a rollup, None or a documented error ----------------


@SOME
@given(
    st.one_of(st.none(), st.binary(max_size=200), mutated(ROLLUP_DAMAGE_BASES)),
    st.one_of(st.none(), st.binary(max_size=200), mutated(st.just(SMAPS[:2000]))),
)
def test_any_files_give_a_rollup_none_or_a_documented_error(
    rollup: Optional[bytes], smaps: Optional[bytes]
) -> None:
    with tempfile.TemporaryDirectory() as where:
        root = Path(where)
        add_process(root, 100, rollup=rollup, smaps=smaps)
        try:
            result = read_rollup(100, root)
        except (RollupParseError, ProcfsFileError, ProcessNotFoundError):
            return  # documented: a damaged text, no smaps at all, an empty smaps_rollup dir
        assert result is None or isinstance(result, procstatus.Rollup)


def test_import_procstatus_leaves_the_shared_memory_modules_unloaded() -> None:
    code = (
        "import sys, procstatus;"
        " print(sorted(m for m in sys.modules if 'rollup' in m or '_tree' in m))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout == "[]\n"
