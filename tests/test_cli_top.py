"""``procstatus top`` (src/procstatus/_cli/top.py): the processes using the most memory.

A fake proc tree (the ``fake_root`` fixture of conftest.py, or ``owned_root``
here, with users and command lines) gives exact output; the live tests find
children they start by user, name and command line, and drive the refresh
mode in a real terminal (tmux).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers_cli import ENV, PROCSTATUS, procstatus_cmd, sigint_not_ignored
from helpers_live import as_nobody, requires_proc, spawn_renamed, wait_for_state
from helpers_tmux import terminal


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
    assert lines[0].split() == ["PID", "USER", "PEAK", "RSS", "RSS", "SWAP", "SIZE", "NAME"]
    assert [line.split()[-1] for line in lines[1:]] == order


def test_top_table(fake_root: Path) -> None:
    result = procstatus_cmd("top", "--root", str(fake_root))
    assert result.stdout == (
        # No Uid line in these texts: the user is not known.
        "PID  USER    PEAK RSS         RSS       SWAP       SIZE  NAME\n"
        " 10  ?      878.9 MiB  1000.0 KiB        0 B  927.7 MiB  big-peak\n"
        " 11  ?      488.3 MiB   390.6 MiB   10.0 KiB  585.9 MiB  big-rss\n"
        " 12  ?        2.0 MiB     1.5 MiB  293.0 MiB  390.6 MiB  swapped\n"
        " 13  ?     1000.0 KiB   900.0 KiB        0 B    8.6 GiB  huge-size\n"
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


# ---- filters: --user, --name, --cmdline ------------------------------------------------


def owned_process(pid: int, name: str, uid: int, rss: int) -> str:
    """A status text with a Uid line (real, effective, saved, filesystem) and memory in kB."""
    return (
        f"Name:\t{name}\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\n"
        f"Uid:\t{uid + 1}\t{uid}\t{uid}\t{uid}\nVmHWM:\t{rss:8d} kB\nVmRSS:\t{rss:8d} kB\n"
    )


#: pid: (name, effective uid, RSS in kB, command line)
OWNED = {
    20: ("postgres", 0, 9_000, b"postgres: checkpointer\x00"),
    21: ("python3", 65534, 8_000, b"python3\x00-m\x00http.server\x008000\x00"),
    22: ("python3", 0, 7_000, b"/usr/bin/python3\x00/srv/app/worker.py\x00--queue=fast\x00"),
    23: ("python3", 4_000_000, 6_000, b"python3\x00-c\x00\x1b[31mred\x00"),
    24: ("bash", 0, 5_000, b""),  # an empty command line: matched by its name
}


@pytest.fixture
def owned_root(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    for pid, (name, uid, rss, cmdline) in OWNED.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "status").write_text(owned_process(pid, name, uid, rss))
        (root / str(pid) / "cmdline").write_bytes(cmdline)
    return root


def top_pids(root: Path, *options: str) -> list[int]:
    result = procstatus_cmd("top", "--root", str(root), *options)
    assert (result.returncode, result.stderr) == (0, "")
    return [int(line.split()[0]) for line in result.stdout.splitlines()[1:]]


def test_top_user_column_names_the_effective_user(owned_root: Path) -> None:
    result = procstatus_cmd("top", "--root", str(owned_root))
    assert (result.returncode, result.stderr) == (0, "")
    # Names from this machine's user database; a uid without one stays a number.
    assert result.stdout == (
        "PID  USER     PEAK RSS      RSS  SWAP  SIZE  NAME\n"
        " 20  root      8.8 MiB  8.8 MiB     -     -  postgres\n"
        " 21  nobody    7.8 MiB  7.8 MiB     -     -  python3\n"
        " 22  root      6.8 MiB  6.8 MiB     -     -  python3\n"
        " 23  4000000   5.9 MiB  5.9 MiB     -     -  python3\n"
        " 24  root      4.9 MiB  4.9 MiB     -     -  bash\n"
    )


@pytest.mark.parametrize(
    ("users", "pids"),
    [
        (["root"], [20, 22, 24]),
        (["0"], [20, 22, 24]),
        (["nobody"], [21]),
        (["65534"], [21]),
        (["65535"], []),  # the real uid of pid 21 is 65535: only the effective one counts
        (["4000000"], [23]),
        (["nobody", "4000000"], [21, 23]),
    ],
    ids=["name", "uid", "nobody", "nobody-uid", "real-uid", "no-name", "two"],
)
def test_top_user_keeps_one_users_processes(
    owned_root: Path, users: list[str], pids: list[int]
) -> None:
    options = [option for user in users for option in ("--user", user)]
    assert top_pids(owned_root, *options) == pids


def test_top_user_takes_the_largest_uid(owned_root: Path) -> None:
    # uid_t is unsigned 32-bit; (uid_t)-1 = 4294967295 is no uid (INVALID_UID).
    (owned_root / "25").mkdir()
    (owned_root / "25" / "status").write_text(owned_process(25, "mapped", 4294967294, 1_000))
    assert top_pids(owned_root, "--user", "4294967294") == [25]
    result = procstatus_cmd("top", "--root", str(owned_root), "--user", "4294967295")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        "procstatus top: error: argument --user/-u: no such user: '4294967295'"
    )


def test_top_unknown_user_is_a_usage_error(owned_root: Path) -> None:
    result = procstatus_cmd("top", "--root", str(owned_root), "--user", "no-such-user")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        "procstatus top: error: argument --user/-u: no such user: 'no-such-user'"
    )


@pytest.mark.parametrize(
    ("patterns", "pids"),
    [
        (["python3"], [21, 22, 23]),
        (["py*"], [21, 22, 23]),
        (["*s*"], [20, 24]),
        (["?ash"], [24]),
        (["[bp]*s*"], [20, 24]),
        (["Python3"], []),  # names are matched case for case
        (["python"], []),  # the whole name must match
        (["bash", "postgres"], [20, 24]),
    ],
    ids=["exact", "star", "inner", "question", "class", "case", "whole", "two"],
)
def test_top_name_matches_the_process_name(
    owned_root: Path, patterns: list[str], pids: list[int]
) -> None:
    options = [option for pattern in patterns for option in ("--name", pattern)]
    assert top_pids(owned_root, *options) == pids


@pytest.mark.parametrize(
    ("pattern", "pids"),
    [
        ("*http.server*", [21]),
        ("*/worker.py *", [22]),
        ("postgres: *", [20]),
        ("python3", []),  # the whole command line must match
        ("bash", [24]),  # no command line: the name
    ],
    ids=["module", "script", "proctitle", "whole", "empty"],
)
def test_top_cmdline_matches_the_command_line(
    owned_root: Path, pattern: str, pids: list[int]
) -> None:
    assert top_pids(owned_root, "--cmdline", "--name", pattern) == pids


def test_top_cmdline_shows_the_command_line_escaped(owned_root: Path) -> None:
    result = procstatus_cmd("top", "--root", str(owned_root), "--cmdline", "-n", "4")
    assert (result.returncode, result.stderr) == (0, "")
    assert [line.split("  ")[-1] for line in result.stdout.splitlines()] == [
        "COMMAND",
        "postgres: checkpointer",
        "python3 -m http.server 8000",
        "/usr/bin/python3 /srv/app/worker.py --queue=fast",
        "python3 -c \\x1b[31mred",  # no escape sequence reaches the terminal
    ]


def test_top_cmdline_skips_a_process_whose_command_line_cannot_be_read(
    owned_root: Path,
) -> None:
    (owned_root / "21" / "cmdline").unlink()  # as if it exited between the two reads
    (owned_root / "22" / "cmdline").unlink()
    (owned_root / "22" / "cmdline").mkdir()  # EISDIR: not readable
    assert top_pids(owned_root, "--cmdline") == [20, 23, 24]
    assert top_pids(owned_root, "--cmdline", "--name", "*") == [20, 23, 24]
    assert top_pids(owned_root, "--name", "python3") == [21, 22, 23]  # not needed here


# ---- again and again: --interval -------------------------------------------------------

#: The header of one listing, whatever its time.
HEADER = (
    r"\d\d:\d\d:\d\d\.\d\d\d  5 processes{filters}, sorted by peak RSS \(VmHWM\), every 0\.05 s"
)


def test_top_interval_in_a_pipe_repeats_the_listing_after_a_header(owned_root: Path) -> None:
    result = procstatus_cmd(
        "top", "--root", str(owned_root), "-i", "0.05", "-c", "3", "-n", "2", "--bytes"
    )
    assert (result.returncode, result.stderr) == (0, "")
    listings = result.stdout.split("\n\n")
    assert len(listings) == 3
    for listing in listings:
        lines = listing.rstrip("\n").splitlines()
        assert re.fullmatch(HEADER.format(filters=""), lines[0]), lines[0]
        rss = sum(rss for _, _, rss, _ in OWNED.values()) * 1024
        assert lines[1] == (
            f"sums: RSS {rss}, swap 0 (RSS sums count shared pages in each process)"
        )
        assert lines[2:] == [
            "PID  USER    PEAK RSS      RSS  SWAP  SIZE  NAME",
            " 20  root     9216000  9216000     -     -  postgres",
            " 21  nobody   8192000  8192000     -     -  python3",
        ]


def test_top_interval_header_names_the_filters(owned_root: Path) -> None:
    result = procstatus_cmd(
        "top", "--root", str(owned_root), "-i", "0.05", "-c", "1", "--user", "root",
        "--cmdline", "--name", "*/*",
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    first = result.stdout.splitlines()[0]
    assert re.fullmatch(
        HEADER.format(filters=r" \(user root, command line \*/\*\)").replace(
            "5 processes", "1 process"
        ),
        first,
    ), first


def test_top_interval_json_prints_one_document_per_listing(owned_root: Path) -> None:
    result = procstatus_cmd(
        "top", "--root", str(owned_root), "-i", "0.05", "-c", "2", "-n", "1", "--json"
    )
    assert (result.returncode, result.stderr) == (0, "")
    decoder = json.JSONDecoder()
    documents, text = [], result.stdout
    while text.strip():
        document, end = decoder.raw_decode(text.lstrip())
        documents.append(document)
        text = text.lstrip()[end:]
    assert [[entry["Pid"] for entry in document] for document in documents] == [[20], [20]]


def test_top_count_needs_interval(owned_root: Path) -> None:
    result = procstatus_cmd("top", "--root", str(owned_root), "--count", "2")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == "procstatus top: error: --count needs --interval"


@pytest.mark.live
@requires_proc
def test_live_top_interval_in_a_pipe_ends_cleanly_on_ctrl_c() -> None:
    with sigint_not_ignored():
        top = subprocess.Popen(
            [*PROCSTATUS, "top", "-i", "0.05", "-n", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            env=ENV,
        )
    try:
        assert top.stdout is not None
        first = [top.stdout.readline() for _ in range(3)]
        assert re.match(r"\d\d:\d\d:\d\d\.\d\d\d  \d+ processes, sorted by", first[0])
        assert first[1].startswith("sums: RSS ")
        top.send_signal(signal.SIGINT)
        _, stderr = top.communicate(timeout=30)
    finally:
        if top.poll() is None:
            top.kill()
            top.communicate()
    assert (top.returncode, stderr) == (0, "")


# ---- live filters ----------------------------------------------------------------------


@pytest.mark.live
@requires_proc
def test_live_top_name_finds_a_renamed_child() -> None:
    name = f"pst{os.getpid() % 100000}"  # unique on this machine while the test runs
    with spawn_renamed(name.encode()) as child:
        listing = procstatus_cmd("top", "--json", "-n", "100", "--name", name)
        assert (listing.returncode, listing.stderr) == (0, "")
        assert [entry["Pid"] for entry in json.loads(listing.stdout)] == [child.pid]
        wildcard = procstatus_cmd("top", "-n", "100", "--name", f"{name[:-1]}?")
        assert [line.split()[0] for line in wildcard.stdout.splitlines()] == [
            "PID",
            str(child.pid),
        ]
        assert wildcard.stdout.splitlines()[1].endswith(f"  {name}")


@pytest.mark.live
@requires_proc
def test_live_top_cmdline_finds_a_child_by_its_arguments() -> None:
    name = b"ps-top-cmdline"
    with spawn_renamed(name) as child:
        # spawn_renamed passes the name in hex on the child's command line. The
        # pattern is on this command line too, after "-m procstatus": it must
        # start with "-c" to match the child only.
        pattern = f"{sys.executable} -c *{name.hex()} 0"
        result = procstatus_cmd("top", "-n", "100", "--cmdline", "--name", pattern)
        assert (result.returncode, result.stderr) == (0, "")
        lines = result.stdout.splitlines()
        assert [line.split()[0] for line in lines] == ["PID", str(child.pid)]
        assert lines[0].endswith("  COMMAND")
        assert lines[1].endswith(f" {name.hex()} 0")
        # Without --cmdline, the same pattern is matched against the name: no match.
        assert procstatus_cmd("top", "--name", pattern).stdout.splitlines()[1:] == []


@pytest.mark.live
@requires_proc
def test_live_top_user_keeps_a_users_processes() -> None:
    # A sleep as uid 65534 with a duration no other process on the machine uses.
    duration = f"{600 + os.getpid() % 1000}.{time.monotonic_ns() % 1000:03d}"
    with subprocess.Popen(as_nobody(["sleep", duration])) as sleeper:
        try:
            wait_for_state(sleeper.pid, b"S")
            pattern = f"sleep {duration}"
            mine = procstatus_cmd(
                "top", "--json", "-n", "100", "--user", "nobody", "--cmdline", "--name", pattern
            )
            assert [entry["Pid"] for entry in json.loads(mine.stdout)] == [sleeper.pid]
            by_uid = procstatus_cmd("top", "-n", "100", "--user", "65534", "--cmdline")
            line = next(line for line in by_uid.stdout.splitlines() if line.endswith(pattern))
            assert line.split()[:2] == [str(sleeper.pid), "nobody"]
            roots = procstatus_cmd("top", "--json", "-n", "100", "--user", "root", "--cmdline",
                                   "--name", pattern)  # fmt: skip
            assert json.loads(roots.stdout) == []
        finally:
            sleeper.kill()


# ---- the refresh mode, in a real terminal ----------------------------------------------


def wait_for_file(path: Path, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().endswith("\n"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} was not written")
        time.sleep(0.05)
    return path.read_text()


def in_terminal(tmp_path: Path, *options: str) -> str:
    """A shell line that runs ``procstatus top OPTIONS`` between two snapshots of the
    terminal's settings (``stty -g``), then writes procstatus's exit status."""
    command = " ".join([*PROCSTATUS, "top", *options])
    # The shell survives Ctrl-C as an interactive one does (a trap, unlike an
    # ignored signal, is not inherited: procstatus gets SIGINT's default action).
    return (
        f"trap : INT; cd {tmp_path} && stty -g > before && {command}; echo $? > status;"
        " stty -g > after; sleep 600"
    )


def frame_shown(lines: list[str]) -> bool:
    return bool(re.fullmatch(HEADER.format(filters="") + "; q quits", lines[0]))


@pytest.mark.live
@pytest.mark.parametrize(("key", "status"), [("q", "0"), ("C-c", "0")], ids=["q", "ctrl-c"])
def test_live_top_interval_redraws_in_place_until_q_or_ctrl_c(
    tmp_path: Path, owned_root: Path, key: str, status: str
) -> None:
    shell = in_terminal(tmp_path, "--root", str(owned_root), "-i", "0.05")
    with terminal(shell, width=100, height=12) as screen:
        first = screen.wait_for(frame_shown)
        # Redrawn in place: a later frame, with a later time, is in the same place.
        later = screen.wait_for(lambda lines: frame_shown(lines) and lines[0] != first[0])
        assert later[1] == (
            "sums: RSS 34.2 MiB, swap 0 B (RSS sums count shared pages in each process)"
        )
        assert later[2:8] == [
            "PID  USER     PEAK RSS      RSS  SWAP  SIZE  NAME",
            " 20  root      8.8 MiB  8.8 MiB     -     -  postgres",
            " 21  nobody    7.8 MiB  7.8 MiB     -     -  python3",
            " 22  root      6.8 MiB  6.8 MiB     -     -  python3",
            " 23  4000000   5.9 MiB  5.9 MiB     -     -  python3",
            " 24  root      4.9 MiB  4.9 MiB     -     -  bash",
        ]
        assert sum("sums: RSS" in line for line in later) == 1
        screen.send(key)
        assert wait_for_file(tmp_path / "status") == f"{status}\n"
        # The terminal is as it was: cbreak mode undone (stty), the last frame left in view.
        assert wait_for_file(tmp_path / "after") == (tmp_path / "before").read_text()
        assert "PID  USER     PEAK RSS      RSS  SWAP  SIZE  NAME" in screen.screen()


@pytest.mark.live
def test_live_top_interval_fits_the_frame_to_the_terminal(tmp_path: Path) -> None:
    # A small terminal: as many processes as fit below the header, lines cut at the edge.
    shell = in_terminal(tmp_path, "-i", "0.1", "--cmdline")
    with terminal(shell, width=60, height=8) as screen:
        lines = screen.wait_for(lambda lines: lines[2].lstrip().startswith("PID  USER"))
        assert all(len(line) <= 60 for line in lines)
        rows = [line for line in lines[3:] if line]
        assert len(rows) == 8 - 2 - 1 - 1  # header, sums, column titles, a line left free
        screen.send("q")
        assert wait_for_file(tmp_path / "status") == "0\n"
        assert wait_for_file(tmp_path / "after") == (tmp_path / "before").read_text()


@pytest.mark.live
def test_live_top_interval_restores_the_terminal_on_sigterm(
    tmp_path: Path, owned_root: Path
) -> None:
    shell = in_terminal(tmp_path, "--root", str(owned_root), "-i", "0.05")
    with terminal(shell, width=100, height=12) as screen:
        screen.wait_for(frame_shown)
        shell_pid = screen.shell_pid()
        children = Path(f"/proc/{shell_pid}/task/{shell_pid}/children").read_text().split()
        assert len(children) == 1
        os.kill(int(children[0]), signal.SIGTERM)
        assert wait_for_file(tmp_path / "status") == f"{128 + signal.SIGTERM}\n"
        assert wait_for_file(tmp_path / "after") == (tmp_path / "before").read_text()


@pytest.mark.live
def test_live_top_interval_suspends_and_resumes(tmp_path: Path, owned_root: Path) -> None:
    # Ctrl-Z in an interactive shell: the terminal is the shell's while stopped,
    # and the frame comes back after fg.
    command = " ".join([*PROCSTATUS, "top", "--root", str(owned_root), "-i", "0.05"])
    shell = f"cd {tmp_path} && PS1='prompt$ ' exec bash --norc --noprofile -i"
    with terminal(shell, width=100) as screen:
        screen.wait_for(lambda lines: lines[0] == "prompt$")
        screen.send("stty -g > before", "Enter")
        wait_for_file(tmp_path / "before")
        screen.send(command, "Enter")
        screen.wait_for(frame_shown)
        screen.send("C-z")
        screen.wait_for(lambda lines: any("Stopped" in line for line in lines))
        screen.send("stty -g > stopped", "Enter")
        assert wait_for_file(tmp_path / "stopped") == (tmp_path / "before").read_text()
        screen.send("clear; fg", "Enter")
        screen.wait_for(frame_shown)
        screen.send("q")
        screen.wait_for(lambda lines: "prompt$" in lines)
        screen.send("stty -g > after", "Enter")
        assert wait_for_file(tmp_path / "after") == (tmp_path / "before").read_text()
