"""What the commands share (src/procstatus/_cli/common.py): options, argument
types, messages and the escaping of text for the terminal.
"""

from __future__ import annotations

import pytest

from helpers_cli import procstatus_cmd


@pytest.mark.parametrize(
    ("args", "prog"),
    [
        ([], "procstatus"),
        (["show", "1"], "procstatus show"),
        (["top"], "procstatus top"),
        (["watch", "1"], "procstatus watch"),
    ],
    ids=["default", "show", "top", "watch"],
)
def test_an_empty_root_is_a_usage_error(args: list[str], prog: str) -> None:
    # The library raises ValueError for root=""; that used to end as status 70.
    result = procstatus_cmd(*args, "--root", "")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"usage: {prog} ")
    assert result.stderr.splitlines()[-1] == (
        f"{prog}: error: argument --root: must not be empty (the default is /proc)"
    )


@pytest.mark.parametrize("command", [[], ["top"], ["watch"]], ids=["show", "top", "watch"])
def test_bytes_and_root_are_the_same_options_everywhere(command: list[str]) -> None:
    result = procstatus_cmd(*command, "--help")
    assert (result.returncode, result.stderr) == (0, "")
    text = " ".join(result.stdout.split())
    assert "--bytes, -b exact sizes in bytes instead of KiB, MiB, GiB" in text
    assert (
        "--root PATH where procfs is mounted (default: /proc); e.g. a container's proc seen"
        " from the host" in text
    )
