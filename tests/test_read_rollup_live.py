"""read_rollup on real processes: a tree sharing one region, psutil, kernel threads, zombies,
gone processes, another user's process."""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from helpers_live import (
    SYSTEM_PYTHON,
    raw_status,
    requires_proc,
    run_as_nobody,
    shared_region_tree,
    spawn_renamed,
    spawn_zombie,
)
from procstatus import (
    ROLLUP_FIELDS,
    ProcessNotFoundError,
    Rollup,
    RssLimitExceededError,
    read_memory,
    read_rollup,
)

pytestmark = [pytest.mark.live, requires_proc]

if not os.path.exists("/proc/self/smaps_rollup"):
    pytest.skip("no /proc/self/smaps_rollup: Linux older than 4.14", allow_module_level=True)

MIB = 1 << 20
REGION = 200 * MIB


def rollup_of(pid: int) -> Rollup:
    rollup = read_rollup(pid)
    assert rollup is not None
    return rollup


def test_own_rollup_has_every_line_of_this_kernel() -> None:
    raw = Path("/proc/self/smaps_rollup").read_bytes()

    rollup = rollup_of(os.getpid())

    assert rollup.header is not None
    assert rollup.header.endswith("[rollup]")
    assert rollup.unknown == ()
    assert rollup.rss is not None
    assert rollup.pss is not None
    assert rollup.uss is not None
    assert 0 < rollup.uss <= rollup.pss <= rollup.rss
    printed = [line.partition(b":")[0].decode() for line in raw.split(b"\n")[1:] if line]
    assert [name for name in ROLLUP_FIELDS if rollup.get(name) is not None] == printed


def test_five_processes_sharing_a_region_count_it_once_in_pss() -> None:
    with shared_region_tree(REGION, children=4) as tree:
        rollups = [rollup_of(pid) for pid in (tree.pid, *tree.children)]

    total_rss = sum(rollup.rss or 0 for rollup in rollups)
    total_pss = sum(rollup.pss or 0 for rollup in rollups)
    # Every process has the 200 MiB resident: RSS counts them five times...
    assert all((rollup.rss or 0) >= REGION for rollup in rollups)
    assert total_rss >= 5 * REGION
    # ... PSS once, plus each interpreter's own memory (well under 30 MiB here).
    assert REGION <= total_pss <= REGION + 5 * 30 * MIB
    # Libraries shared with other processes add more to RSS than to PSS: a bit over 5.
    assert 4.5 <= total_rss / total_pss <= 5.5
    # Each process's share of the region is a fifth: Pss_Shmem about 40 MiB.
    for rollup in rollups:
        assert rollup.pss_shmem is None or abs(rollup.pss_shmem - REGION // 5) <= MIB


def load_psutil() -> Any:
    return importlib.import_module("psutil")  # in the test extra; untyped, so through Any


def test_uss_pss_and_swap_equal_psutil_for_an_idle_child() -> None:
    psutil = load_psutil()
    with spawn_renamed(b"rollup-idle") as child:
        # The child is idle, but its PSS moves whenever another process on the
        # machine maps or unmaps a library it shares: compare the readings that
        # psutil's own readings before and after agree with.
        # On a loaded machine (other test processes starting and ending) that can
        # take a while: try for up to 30 s, briefly pausing between tries.
        deadline = time.monotonic() + 30
        while True:
            theirs = psutil.Process(child.pid).memory_full_info()
            ours = rollup_of(child.pid)
            if psutil.Process(child.pid).memory_full_info() == theirs:
                break
            if time.monotonic() > deadline:
                pytest.fail("the shared pages of the idle child kept changing for 30 s")
            time.sleep(0.005)

    assert (ours.uss, ours.pss, ours.swap) == (theirs.uss, theirs.pss, theirs.swap)


def find_kernel_thread() -> Optional[int]:
    """A kernel thread's pid: kthreadd (2) where it is one, else any task without memory lines."""
    for name in sorted(os.listdir("/proc"), key=lambda name: (len(name), name)):
        if not name.isdigit():
            continue
        try:
            status = raw_status(int(name))
        except OSError:
            continue
        if b"\nVmRSS:" not in status and b"State:\tZ" not in status:
            return int(name)
    return None


def test_a_kernel_thread_has_no_memory() -> None:
    pid = find_kernel_thread()
    if pid is None:
        pytest.skip("no kernel thread is visible in this pid namespace")

    assert read_memory(pid) is None  # the same answer as the status readers
    assert read_rollup(pid) is None


def test_a_zombie_has_no_memory() -> None:
    with spawn_zombie() as zombie:
        assert read_rollup(zombie.pid) is None


def test_a_reaped_process_is_not_found() -> None:
    with spawn_zombie() as zombie:
        zombie.wait()
        with pytest.raises(ProcessNotFoundError) as caught:
            read_rollup(zombie.pid)

    assert caught.value.pid == zombie.pid


def test_max_rss_skips_a_large_process_after_reading_its_status() -> None:
    with spawn_renamed(b"rollup-max") as child:
        rss = read_memory(child.pid)
        assert rss is not None
        assert rss.rss is not None
        with pytest.raises(RssLimitExceededError) as caught:
            read_rollup(child.pid, max_rss=rss.rss - 1)
        assert read_rollup(child.pid, max_rss=1 << 40) is not None

    assert caught.value.max_rss == rss.rss - 1


READ_AS_NOBODY = """
import json, sys
try:
    import procstatus
except ImportError as error:
    print(json.dumps({"import": str(error)}))
    raise SystemExit(0)
pid = int(sys.argv[1])
answer = {"status_name": procstatus.read_pid(pid).name}
try:
    procstatus.read_rollup(pid)
except OSError as error:
    answer.update(type=type(error).__name__, errno=error.errno, filename=error.filename,
                  permission=isinstance(error, PermissionError))
print(json.dumps(answer))
"""


def test_another_users_process_is_a_permission_error_though_its_status_is_readable() -> None:
    with spawn_renamed(b"rollup-other") as child:
        result = run_as_nobody([SYSTEM_PYTHON, "-c", READ_AS_NOBODY, str(child.pid)])
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    if "import" in answer:
        pytest.skip(f"uid 65534 cannot import procstatus/attrs: {answer['import']}")
    assert answer == {
        "status_name": "rollup-other",
        "type": "ProcfsPermissionError",
        "errno": 13,
        "filename": f"/proc/{child.pid}/smaps_rollup",
        "permission": True,
    }
