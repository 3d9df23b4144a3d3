"""The value formats of /proc/PID/status lines, one :class:`Kind` each.

A kind knows three things about a value: which texts are valid (one regular
expression over the value with the separator and surrounding blanks removed),
how to turn a valid text into a Python value, and how to write a Python value
back the way the kernel prints it. The field table (``_fields.py``) gives every
field one kind; nothing else in the package knows a format.

Formats are those of fs/proc/array.c, fs/proc/task_mmu.c and lib/vsprintf.c as
summarised in man 5 proc_pid_status; each kind's comment names the printf-style
format it mirrors. Number lengths are bounded (an unsigned long has at most 20
decimal digits) so that ``int()`` never meets its digit limit.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple, Optional

import attrs

__all__ = ["Ids", "Kind", "SigQ", "TaskState"]

_U64 = "[0-9]{1,20}"  # %lu / %llu: an unsigned 64-bit number
_U32 = "[0-9]{1,10}"
_ID = "-?[0-9]{1,10}"  # %d before 4.9 printed ids >= 2**31 as negative numbers
# An id that certainly fits in 32 bits, as %u prints it since 4.9 (the parser's fast
# path; negative ids from older kernels take the exact path: "-?" costs a third more).
_ID9 = "[0-9]{1,9}"


class Ids(NamedTuple):
    """The four user or group ids of a ``Uid:``/``Gid:`` line, in kernel order."""

    real: int
    effective: int
    saved: int
    filesystem: int


class SigQ(NamedTuple):
    """``SigQ:``: signals queued for the real user id, and the RLIMIT_SIGPENDING limit."""

    queued: int
    limit: int


@attrs.frozen
class TaskState:
    """``State:``: the letter and the word the kernel printed beside it.

    The letter set changed over time (see docs/model.md); an unknown letter is
    kept as it is. The meaning is kept as printed because 2.6.9 to 2.6.32 used
    ``T`` for both ``T (stopped)`` and ``T (tracing stop)``.
    """

    letter: str
    meaning: str

    def __str__(self) -> str:
        return f"{self.letter} ({self.meaning})"


@attrs.frozen
class Kind:
    """One value format: what is valid, how to read it, how to write it."""

    name: str
    #: Matches the whole value (separator and surrounding blanks removed) when valid.
    pattern: re.Pattern[str]
    convert: Callable[[str], Any]
    render: Callable[[Any], str]
    #: A valid value; the parser uses it to check all values of a kind at once.
    filler: str
    #: What the value becomes in Python, for the docs.
    python_type: str
    #: What a valid value looks like, for error messages and the docs.
    expected: str
    #: The unit of the Python value, when it has one.
    unit: Optional[str] = None
    #: A check that a regular expression cannot make; returns why a value is invalid.
    check: Optional[Callable[[str], Optional[str]]] = None
    #: The parser's fast path: the layout the kernel itself prints after ``Key:<TAB>``
    #: up to the newline, as a regular expression without groups (captures make long
    #: patterns slow). The value is that text with the blanks around it removed (Name
    #: keeps them), as on the exact path; the layout admits only valid values, and
    #: anything else goes through ``pattern`` and gives the same result.
    fast: Optional[str] = None
    #: True when ``fast`` excludes everything ``check`` rejects, so the fast path skips it.
    fast_checked: bool = False

    @property
    def many(self) -> re.Pattern[str]:
        """All values of this kind joined by newlines, for the parser's one-call check."""
        # Compiled on first use, not at import: importing procstatus stays cheap.
        one = self.pattern.pattern
        many = _MANY.get(one)
        if many is None:
            many = _MANY[one] = re.compile(f"(?:{one})(?:\n(?:{one}))*")
        return many


_MANY: dict[str, re.Pattern[str]] = {}


def _kind(
    name: str,
    pattern: str,
    convert: Callable[[str], Any],
    render: Callable[[Any], str],
    filler: str,
    python_type: str,
    expected: str,
    unit: Optional[str] = None,
    check: Optional[Callable[[str], Optional[str]]] = None,
    fast: Optional[str] = None,
    fast_checked: bool = False,
) -> Kind:
    return Kind(
        name=name,
        pattern=re.compile(pattern),
        convert=convert,
        render=render,
        filler=filler,
        python_type=python_type,
        expected=expected,
        unit=unit,
        check=check,
        fast=fast,
        fast_checked=fast_checked,
    )


def _id(text: str) -> int:
    # Kernels up to 4.8 printed uids and gids with %d (fs/proc/array.c), so ids
    # of 2**31 and above appear negative; they are the same 32-bit id.
    return int(text) % 2**32


def _check_ids(text: str) -> Optional[str]:
    for part in text.split():
        if not -(2**31) <= int(part) < 2**32:
            return f"id {part} does not fit in 32 bits"
    return None


def _bits(number: int) -> frozenset[int]:
    return frozenset(bit for bit in range(number.bit_length()) if number >> bit & 1)


def _mask(bits: frozenset[int]) -> int:
    return sum(1 << bit for bit in bits)


def _hex_words(bits: frozenset[int]) -> str:
    # bitmap_string() in lib/vsprintf.c: 32-bit words, most significant first,
    # the first one without leading zeros, the others eight digits wide.
    digits = f"{_mask(bits):x}"
    head_length = len(digits) % 8 or 8
    words = [digits[:head_length]]
    words.extend(digits[start : start + 8] for start in range(head_length, len(digits), 8))
    return ",".join(words)


def _ranges(text: str) -> frozenset[int]:
    numbers: set[int] = set()
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        numbers.update(range(int(first), int(last or first) + 1))
    return frozenset(numbers)


def _check_ranges(text: str) -> Optional[str]:
    for part in filter(None, text.split(",")):
        first, dash, last = part.partition("-")
        if dash and int(first) > int(last):
            return f"range {part} runs backwards"
    return None


def _range_list(numbers: frozenset[int]) -> str:
    # bitmap_list_string() in lib/vsprintf.c: ascending "a" or "a-b", comma-separated.
    parts: list[str] = []
    ordered = sorted(numbers)
    start = 0
    for index, number in enumerate(ordered):
        if index + 1 == len(ordered) or ordered[index + 1] != number + 1:
            first = ordered[start]
            parts.append(str(first) if first == number else f"{first}-{number}")
            start = index + 1
    return ",".join(parts)


def _state(text: str) -> TaskState:
    letter, _, rest = text.partition(" ")
    return TaskState(letter=letter, meaning=rest[1:-1])


def _render_state(state: TaskState) -> str:
    return str(state)


def _render_ids(ids: tuple[int, ...]) -> str:
    return "\t".join(map(str, ids))


def _render_groups(groups: tuple[int, ...]) -> str:
    # Since 4.9 groups are separated by spaces and the list ends in one
    # trailing space, so an empty list is a single space (fs/proc/array.c).
    return " ".join(map(str, groups)) + " "


KB = _kind(
    "kb",
    rf"{_U64} kB",  # "%8lu kB" (task_mem() in fs/proc/task_mmu.c); padding is stripped
    lambda text: int(text[:-3]) * 1024,
    lambda value: f"{value // 1024:8d} kB",
    "0 kB",
    "int",
    "a decimal number of at most 20 digits followed by ' kB'",
    unit="bytes",
    fast=r" *[0-9]{1,20} kB",  # right-aligned in 8 columns
)
BYTES = _kind(
    "bytes",
    rf"{_U64} bytes",  # "%8lu bytes" (task_mem() in fs/proc/task_nommu.c)
    lambda text: int(text[:-6]),
    lambda value: f"{value:8d} bytes",
    "0 bytes",
    "int",
    "a decimal number of at most 20 digits followed by ' bytes'",
    unit="bytes",
    fast=r" *[0-9]{1,20} bytes",
)
INT = _kind("int", _U64, int, str, "0", "int", "a decimal number of at most 20 digits", fast=_U64)
BOOL = _kind(
    "bool",
    "[01]",
    lambda text: text == "1",
    lambda value: "1" if value else "0",
    "0",
    "bool",
    "0 or 1",
    fast="[01]",
)
OCTAL = _kind(
    "octal",
    "0[0-7]{3}",
    lambda text: int(text, 8),
    lambda value: f"{value:04o}",
    "0000",
    "int",
    "four octal digits starting with 0",
    fast="0[0-7]{3}",
)  # "%#04o" (task_state(), Umask)
PERCENT = _kind(
    "percent",
    "[0-9]{1,3}%",
    lambda text: int(text[:-1]),
    lambda value: f"{value}%",
    "0%",
    "int",
    "a percentage such as 98%",
    fast="[0-9]{1,3}%",
)  # "%lu%%" (SleepAVG, 2.6.0 to 2.6.22)
STATE = _kind(
    "state",
    r"[^ ] \([^()]*\)",  # "%c (%s)" from task_state_array in fs/proc/array.c
    _state,
    _render_state,
    "R (running)",
    "TaskState",
    "a letter and a word in parentheses, such as R (running)",
    fast=r"[^ \t\n] \([^()\n]*\)",
)
IDS = _kind(
    "ids",
    rf"{_ID}[\t ]+{_ID}[\t ]+{_ID}[\t ]+{_ID}",  # four tab-separated ids; copies may have spaces
    lambda text: Ids(*map(_id, text.split())),
    _render_ids,
    "0\t0\t0\t0",
    "Ids",
    "four 32-bit ids separated by tabs",
    check=_check_ids,
    # Ids of at most 9 digits always fit in 32 bits: no range check needed.
    fast=rf"{_ID9}\t{_ID9}\t{_ID9}\t{_ID9}",
    fast_checked=True,
)
GROUPS = _kind(
    "groups",
    rf"(?:{_ID}(?:[\t ]+{_ID})*)?",  # "%u " per group; an empty list prints nothing or " "
    lambda text: tuple(map(_id, text.split())),
    _render_groups,
    "",
    "tuple[int, ...]",
    "32-bit group ids separated by spaces",
    check=_check_ids,
    # "%u " per group; since 4.9 a lone " " when there are none. Four groups per
    # repetition: the engine's cost is per repetition, and lists can be long.
    fast=rf"(?:{_ID9} {_ID9} {_ID9} {_ID9} )*(?:{_ID9} )* ?",
    fast_checked=True,
)
TAB_LIST = _kind(
    "tab_list",
    rf"{_U32}(?:[\t ]+{_U32})*",  # NStgid and friends: one id per pid namespace, tab-separated
    lambda text: tuple(map(int, text.split())),
    _render_ids,
    "0",
    "tuple[int, ...]",
    "one or more decimal ids separated by tabs",
    fast=rf"{_U32}(?:\t{_U32})*",
)
SIGQ = _kind(
    "sigq",
    rf"{_U64}/{_U64}",  # "%u/%lu": queued signals / RLIMIT_SIGPENDING
    lambda text: SigQ(*map(int, text.split("/"))),
    lambda value: f"{value[0]}/{value[1]}",
    "0/0",
    "SigQ",
    "two decimal numbers separated by '/'",
    fast=rf"{_U64}/{_U64}",
)
HEX_MASK = _kind(
    "hex_mask",
    "[0-9a-f]{1,64}",  # render_sigset_t() / seq_put_hex_ll(): 16 digits, 32 on MIPS signals
    lambda text: int(text, 16),
    lambda value: f"{value:016x}",
    "0",
    "int",
    "at most 64 lower-case hexadecimal digits",
    fast="[0-9a-f]{1,64}",
)
HEX_NUMBER = _kind(
    "hex_number",
    "0x[0-9a-f]{1,16}",  # "%#lx" (untag_mask)
    lambda text: int(text, 16),
    hex,
    "0x0",
    "int",
    "0x followed by at most 16 lower-case hexadecimal digits",
    fast="0x[0-9a-f]{1,16}",
)
HEX_WORDS = _kind(
    "hex_words",
    "[0-9a-f]{1,8}(?:,[0-9a-f]{8}){0,1023}",  # "%*pb": 32-bit words, most significant first
    lambda text: _bits(int(text.replace(",", ""), 16)),
    _hex_words,
    "0",
    "frozenset[int]",
    "comma-separated 32-bit words of lower-case hexadecimal digits",
    fast="[0-9a-f]{1,8}(?:,[0-9a-f]{8}){0,1023}",
)
RANGE_LIST = _kind(
    "range_list",
    "(?:[0-9]{1,5}(?:-[0-9]{1,5})?(?:,[0-9]{1,5}(?:-[0-9]{1,5})?)*)?",  # "%*pbl"
    _ranges,
    _range_list,
    "",
    "frozenset[int]",
    "ascending numbers and ranges such as 0-3,8 separated by commas",
    check=_check_ranges,
    # A regular expression cannot see a range running backwards: the fast path runs the check.
    fast="(?:[0-9]{1,5}(?:-[0-9]{1,5})?(?:,[0-9]{1,5}(?:-[0-9]{1,5})?)*)?",
)
WORDS = _kind(
    "words",
    "[^ \t]*(?:[ \t]+[^ \t]+)*",  # "%s " per feature (arch/x86/kernel/cpu/proc.c)
    lambda text: tuple(filter(None, re.split("[ \t]+", text))),
    lambda value: "".join(f"{word} " for word in value),
    "",
    "tuple[str, ...]",
    "words separated by spaces",
    fast=r"(?:[^ \t\n]+ )*",  # "%s " per feature
)
TEXT = _kind(
    "text",
    "(?s:.*)",
    str,
    str,
    "",
    "str",
    "any text",
    fast=r"[^\n]*",  # any line
)


def _unescape_name(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda match: "\n" if match[1] == "n" else "\\", text)


def _escape_name(name: str) -> str:
    return name.replace("\\", "\\\\").replace("\n", "\\n")


NAME = _kind(
    "name",
    # task_name() (2.6.0 to 3.19), then string_escape_str()/seq_escape_str() with
    # only "\n\\": newline and backslash are escaped, every other byte is raw.
    r"(?:[^\\]|\\[n\\])*",
    _unescape_name,
    _escape_name,
    "",
    "str",
    "any text in which a backslash starts \\n or \\\\",
    # Exactly one tab after "Name:"; every other blank belongs to the name.
    fast=r"[^\\\n]*(?:\\[n\\][^\\\n]*)*",
)
