"""``procstatus [PID ...]`` and ``procstatus show`` (src/procstatus/_cli/show.py).

Saved status texts (``--file``) and fake proc trees (``--root``) give exact,
machine-independent output; the live tests compare what the command prints for
real children with the raw bytes of their status files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_cli import ENV, NO_SUCH_PID, PROCSTATUS, procstatus_cmd
from helpers_live import (
    SYSTEM_PYTHON,
    kb_field,
    raw_field,
    raw_status,
    requires_proc,
    run_as_nobody,
    world_readable_dir,
)
from procstatus._units import format_size

SAVED = """\
Name:\tdump-example
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
Pid:\t4242
PPid:\t1
Uid:\t1000\t1000\t1000\t1000
Groups:\t4 27
VmPeak:\t  225532 kB
VmSize:\t  225508 kB
VmHWM:\t  121620 kB
VmRSS:\t  120564 kB
RssAnon:\t  110040 kB
RssFile:\t   10524 kB
RssShmem:\t       0 kB
VmSwap:\t    1024 kB
Threads:\t3
SigCgt:\t0000000180004a02
Cpus_allowed_list:\t0-3
"""


SAVED_SUMMARY = """\
  state      S (sleeping)
  threads    3
  RSS        117.7 MiB  VmRSS
  peak RSS   118.8 MiB  VmHWM
  size       220.2 MiB  VmSize
  peak size  220.2 MiB  VmPeak
  swap         1.0 MiB  VmSwap
  RSS anon   107.5 MiB  RssAnon
  RSS file    10.3 MiB  RssFile
  RSS shmem        0 B  RssShmem
"""


SAVED_ALL_BYTES = """\
  Name:              dump-example
  Umask:             0022
  State:             S (sleeping)
  Tgid:              4242
  Pid:               4242
  PPid:              1
  Uid:               1000 1000 1000 1000
  Groups:            4 27
  VmPeak:            230944768
  VmSize:            230920192
  VmHWM:             124538880
  VmRSS:             123457536
  RssAnon:           112680960
  RssFile:           10776576
  RssShmem:          0
  VmSwap:            1048576
  Threads:           3
  SigCgt:            0000000180004a02
  Cpus_allowed_list: 0-3
"""


def test_file_summary(tmp_path: Path) -> None:
    path = tmp_path / "status.txt"
    path.write_text(SAVED)
    result = procstatus_cmd("--file", str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"process 4242: dump-example  (from {path})\n" + SAVED_SUMMARY


def test_file_all_fields_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "status.txt"
    path.write_text(SAVED)
    result = procstatus_cmd("--all", "--bytes", "--file", str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"process 4242: dump-example  (from {path})\n" + SAVED_ALL_BYTES


def test_file_from_stdin_as_json() -> None:
    result = procstatus_cmd("--json", "--file", "-", stdin=SAVED)
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert document == {
        "Name": "dump-example",
        "Umask": 18,
        "State": {"letter": "S", "meaning": "sleeping"},
        "Tgid": 4242,
        "Pid": 4242,
        "PPid": 1,
        "Uid": {"real": 1000, "effective": 1000, "saved": 1000, "filesystem": 1000},
        "Groups": [4, 27],
        "VmPeak": 225532 * 1024,
        "VmSize": 225508 * 1024,
        "VmHWM": 121620 * 1024,
        "VmRSS": 120564 * 1024,
        "RssAnon": 110040 * 1024,
        "RssFile": 10524 * 1024,
        "RssShmem": 0,
        "VmSwap": 1024 * 1024,
        "Threads": 3,
        "SigCgt": "0000000180004a02",
        "Cpus_allowed_list": [0, 1, 2, 3],
    }
    assert list(document) == [line.partition(":")[0] for line in SAVED.splitlines()]
    # One field per line, values compact.
    assert result.stdout.splitlines()[:4] == [
        "{",
        '  "Name": "dump-example",',
        '  "Umask": 18,',
        '  "State": {"letter": "S", "meaning": "sleeping"},',
    ]
    assert len(result.stdout.splitlines()) == len(document) + 2


def test_several_files_as_json_are_a_list(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Name:\ta\nVmHWM:\t4 kB\n")
    second.write_text("Name:\tb\n")
    result = procstatus_cmd("--json", "-f", str(first), "-f", str(second))
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == [{"Name": "a", "VmHWM": 4096}, {"Name": "b"}]


def test_a_zombie_or_kernel_thread_has_no_memory_lines(tmp_path: Path) -> None:
    path = tmp_path / "zombie.txt"
    path.write_text("Name:\tdefunct\nState:\tZ (zombie)\nTgid:\t9\nPid:\t9\nThreads:\t1\n")
    result = procstatus_cmd("--file", str(path))
    assert result.stdout == (
        f"process 9: defunct  (from {path})\n"
        "  state    Z (zombie)\n"
        "  threads  1\n"
        "  memory   none (kernel threads and zombies have no memory lines)\n"
    )


def test_control_characters_in_a_dump_do_not_reach_the_terminal(tmp_path: Path) -> None:
    path = tmp_path / "evil.txt"
    path.write_bytes(b"Name:\tevil\x1b[2J\\\\\xff\tx\nPid:\t5\n")
    result = procstatus_cmd("--file", str(path))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == (f"process 5: evil\\x1b[2J\\\\\\xff\\tx  (from {path})")


def test_control_characters_in_a_file_name_do_not_reach_the_terminal(tmp_path: Path) -> None:
    path = tmp_path / "dump\x1b[2J\t.txt"
    path.write_text(SAVED)
    result = procstatus_cmd("--file", str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f"process 4242: dump-example  (from {tmp_path}/dump\\x1b[2J\\t.txt)\n" + SAVED_SUMMARY
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "{path}: not a status text: it is empty"),
        (b"garbage\n", "{path}: not a status text: line 1: no ':' in the line: 'garbage'"),
    ],
    ids=["empty", "not-status"],
)
def test_a_file_that_is_not_a_status_text(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    result = procstatus_cmd("--file", str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "procstatus: " + message.format(path=path) + "\n"


def test_a_missing_file(tmp_path: Path) -> None:
    result = procstatus_cmd("--file", str(tmp_path / "nope"))
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == f"procstatus: cannot read {tmp_path / 'nope'}: No such file or directory\n"
    )


#: A saved (or a container's) status whose duplicated key is an escape sequence.
HOSTILE_KEY = b"Name:\tx\nPid:\t7\n\x1b]0;owned\x07:\t1\n\x1b]0;owned\x07:\t2\n"

#: How the error names that line: the key and the text escaped, nothing raw.
HOSTILE_KEY_ERROR = (
    "not a status text: line 4 ('\\x1b]0;owned\\x07'): the field appears twice:"
    " '\\x1b]0;owned\\x07:\\t2'"
)


def test_a_duplicated_key_with_escapes_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "dump\x1b[2J.txt"
    path.write_bytes(HOSTILE_KEY)
    result = procstatus_cmd("--file", str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: {tmp_path}/dump\\x1b[2J.txt: {HOSTILE_KEY_ERROR}\n"


def test_a_duplicated_key_with_escapes_under_a_root(tmp_path: Path) -> None:
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "status").write_bytes(HOSTILE_KEY)
    result = procstatus_cmd("--root", str(tmp_path), "7")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: {tmp_path}/7/status: {HOSTILE_KEY_ERROR}\n"


def test_a_missing_file_with_escapes_in_its_name(tmp_path: Path) -> None:
    result = procstatus_cmd("--file", str(tmp_path / "\x1b[2J"))
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == f"procstatus: cannot read {tmp_path}/\\x1b[2J: No such file or directory\n"
    )


def test_a_root_with_escapes_in_its_name(tmp_path: Path) -> None:
    result = procstatus_cmd("--root", str(tmp_path / "\x1b[2J"), "1")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: {tmp_path}/\\x1b[2J: proc root does not exist\n"


def test_a_closed_stdin() -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", *PROCSTATUS, "--file", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "procstatus: cannot read <stdin>: standard input is closed\n"


def test_a_missing_proc_root(tmp_path: Path) -> None:
    result = procstatus_cmd("--root", str(tmp_path / "none"), "1")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: {tmp_path / 'none'}: proc root does not exist\n"


def test_a_permission_problem_says_so() -> None:
    with world_readable_dir("procstatus-cli-") as root:
        where = str(root)
        (root / "1").mkdir(mode=0o755)
        status = root / "1" / "status"
        status.write_text("Name:\tsecret\n")
        status.chmod(0o600)
        result = run_as_nobody([SYSTEM_PYTHON, "-m", "procstatus", "--root", where, "1"])
    if "No module named" in result.stderr:
        pytest.skip(f"uid 65534 cannot import procstatus/attrs here: {result.stderr.strip()}")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: cannot read {where}/1/status: Permission denied\n"


@pytest.mark.parametrize("exact", [False, True], ids=["iec", "bytes"])
@pytest.mark.live
@requires_proc
def test_live_child_as_text(child: int, exact: bool) -> None:
    result = procstatus_cmd(str(child), *(["--bytes"] if exact else []))
    raw = raw_status(child)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"process {child}: ps-cli-test",
        "  state      S (sleeping)",
        "  threads    1",
    ]
    for label, key in [("RSS", "VmRSS"), ("peak RSS", "VmHWM"), ("size", "VmSize")]:
        size = kb_field(raw, key.encode())
        shown = str(size) if exact else format_size(size)
        assert re.search(rf"^  {label} +{re.escape(shown)}  {key}$", result.stdout, re.MULTILINE)


@pytest.mark.live
@requires_proc
def test_live_child_as_json(child: int) -> None:
    result = procstatus_cmd("--json", str(child))
    raw = raw_status(child)
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert document["Name"] == "ps-cli-test"
    assert document["Pid"] == child
    assert document["State"] == {"letter": "S", "meaning": "sleeping"}
    assert document["VmHWM"] == kb_field(raw, b"VmHWM")
    assert document["VmHWM"] == int(raw_field(raw, b"VmHWM").split()[0]) * 1024


@pytest.mark.live
@requires_proc
def test_live_several_with_one_missing(child: int) -> None:
    result = procstatus_cmd("--json", str(child), str(NO_SUCH_PID))
    assert result.returncode == 1
    assert result.stderr == f"procstatus: no such process: {NO_SUCH_PID}\n"
    assert [entry["Pid"] for entry in json.loads(result.stdout)] == [child]


@pytest.mark.live
@requires_proc
def test_live_no_pid_shows_itself() -> None:
    command = subprocess.Popen(
        [sys.executable, "-m", "procstatus"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        env=ENV,
    )
    try:
        stdout, stderr = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.communicate()
    assert (command.returncode, stderr) == (0, "")
    assert re.match(rf"process {command.pid}: python", stdout)
