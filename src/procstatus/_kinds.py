"""The value formats of /proc/PID/status lines, one :class:`Kind` each.

Public, a kind says what the documentation says about a value: its name, the
Python type it reads as, what a valid value looks like and its unit. Private, it
holds everything the package does with a value, so that nothing else knows a
format:

- ``_check(text)``: why the text of a value (separator and surrounding blanks
  removed) is not one the kernel prints, or None. The parser checks every line
  with it, and every typed value given to ``ProcStatus.from_fields`` or
  ``replace`` is checked by it too, after ``_write``: one check for all ways in.
- ``_convert(text)``: the Python value of a checked text; it cannot fail.
- ``_plain(value)``: a typed value as plain builtins (a caller's subclass of int,
  str, tuple or set read through the builtin type's own methods, so none of the
  caller's code runs); ``TypeError`` for a wrong type, ``ValueError`` for a
  tuple of the wrong length. Nothing is coerced: a bool field takes a bool.
- ``_write(plain)``: the text the kernel prints for a plain value, or
  ``ValueError`` when it could not print it (a number out of range).
- ``_fast``: the parser's fast layout (see ``_fastpath.py``).

How each kind is checked (the settings of :func:`_kind`). ``pattern`` alone is
the usual case; the others are there only where a pattern cannot say it all or
would cost too much:

=================  =======================  ===========================================
kind               settings                 why
=================  =======================  ===========================================
kb, bytes, int,    pattern, fast            a pattern says it all; the fast layout is
bool, octal,                                the kernel's own (one tab, ``%8lu`` padding)
percent, state,
sigq, hex_mask,
hex_number,
tab_list, words,
name
ids, groups        pattern, exact,          ``exact`` (ids within 32 bits, digit by
                   explain, fast            digit) settles valid texts in C; when it
                                            fails, the simpler ``pattern`` and
                                            ``explain`` say which id does not fit
range_list         pattern, explain, fast,  a pattern cannot see ranges out of order
                   fast_check               or numbers of 8192 and more: ``explain``
                                            does, after the pattern, on both paths
hex_words          pattern, fast,           matching up to 256 words one character
                   fast_check               class at a time cost a third of a
                                            template; the fast layout takes the line
                                            whole and ``fast_check`` checks it once
                                            per distinct text (kept below)
text               pattern, explain         any text, but no blanks around it and
                                            only s390 continuation lines after a
                                            newline (``explain``)
=================  =======================  ===========================================

What is kept, and why: a machine's processes repeat a few values (one user's
ids and groups, a few states, the same CPU masks), and a lookup costs some 70 ns
where converting or checking again costs 0.2 to 1.8 us (measured per call, ratios
in one run). Each cache is bounded in entries and keeps only short texts, so
that none can hold much memory; ``clear_caches()`` empties them all for tests.

=========================  =====  ==========================  ===================
cache                      size   texts kept                  saves per call
=========================  =====  ==========================  ===================
``_ids``                   256    every Uid/Gid line          1.0 us (15x)
``_groups_cached``         256    up to 256 characters        1.3 us (19x)
``_state``                 256    every State line            0.5 us (8x)
``_explain_short_ranges``  64     up to 64 characters         0.3 us (5x), at
                                                              every parse
``_short_ranges``          64     up to 64 characters; the    0.7 to 1.7 us
                                  set only when it has at
                                  most 256 numbers
``_check_hex_words_kept``  64     up to 512 characters        0.1 to 0.8 us, at
                                                              every parse
=========================  =====  ==========================  ===================

Formats are those of fs/proc/array.c, fs/proc/task_mmu.c and lib/vsprintf.c as
summarised in man 5 proc_pid_status; each kind's comment names the printf-style
format it mirrors. Number lengths are bounded (an unsigned long has at most 20
decimal digits) so that ``int()`` never meets its digit limit, and no pattern has
loops that can match the same text two ways, so every check takes time linear in
the text (tests/test_kinds.py and tests/test_parse_growth.py).
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from itertools import chain, compress
from typing import Any, Callable, NamedTuple, Optional

import attrs

__all__ = ["Ids", "Kind", "SigQ", "TaskState"]

_BLANKS = " \t"


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


@attrs.frozen(eq=False)  # each kind is one object: compared and hashed by identity
class Kind:
    """One value format of /proc/PID/status, as the documentation describes it."""

    #: A short name, such as ``"kb"`` or ``"ids"``.
    name: str
    #: What the value becomes in Python, such as ``"int"`` or ``"tuple[int, ...]"``.
    python_type: str
    #: What a valid value looks like, for error messages and the docs.
    expected: str
    #: The unit of the Python value, when it has one.
    unit: Optional[str] = None

    # The package's own machinery (see the module docstring); not part of the API.
    _check: Callable[[str], Optional[str]] = attrs.field(kw_only=True, repr=False, alias="check")
    _convert: Callable[[str], Any] = attrs.field(kw_only=True, repr=False, alias="convert")
    _plain: Callable[[Any], Any] = attrs.field(kw_only=True, repr=False, alias="plain")
    _write: Callable[[Any], str] = attrs.field(kw_only=True, repr=False, alias="write")
    #: The layout the kernel itself prints after ``Key:<TAB>`` up to the newline:
    #: a regular expression without groups, admitting only valid values unless
    #: ``_fast_check`` is given.
    _fast: str = attrs.field(kw_only=True, repr=False, alias="fast")
    #: What the fast path must still check on a value its layout took (a range
    #: list out of order), or None when the layout is the whole check.
    _fast_check: Optional[Callable[[str], Optional[str]]] = attrs.field(
        default=None, repr=False, alias="fast_check"
    )
    #: True when ``_write`` pads the value with blanks that are not part of its text.
    _padded: bool = attrs.field(default=False, repr=False, alias="padded")


def _kind(
    name: str,
    python_type: str,
    expected: str,
    *,
    pattern: str,
    convert: Callable[[str], Any],
    plain: Callable[[Any], Any],
    write: Callable[[Any], str],
    fast: str,
    unit: Optional[str] = None,
    exact: Optional[str] = None,
    explain: Optional[Callable[[str], Optional[str]]] = None,
    fast_check: Optional[Callable[[str], Optional[str]]] = None,
    padded: bool = False,
) -> Kind:
    """A kind whose check is ``pattern``, or ``exact`` then ``explain`` when given.

    ``exact`` is a pattern for the whole check (ranges included) that settles
    the common case in C; when it fails, ``pattern`` and ``explain`` say why.
    """
    message = f"expected {expected}"
    # Compiled when first used: importing procstatus compiles no pattern.
    loose: Optional[Callable[[str], object]] = None
    precise: Optional[Callable[[str], object]] = None

    def check(text: str) -> Optional[str]:
        nonlocal loose, precise
        if exact is not None:
            if precise is None:
                precise = re.compile(exact).fullmatch
            if precise(text):
                return None
        if loose is None:
            loose = re.compile(pattern).fullmatch
        if not loose(text):
            return message
        return None if explain is None else explain(text)

    def check_pattern(text: str) -> Optional[str]:  # the same, for kinds that have only a pattern
        nonlocal loose
        if loose is None:
            loose = re.compile(pattern).fullmatch
        return None if loose(text) else message

    return Kind(
        name=name,
        python_type=python_type,
        expected=expected,
        unit=unit,
        check=check if exact is not None or explain is not None else check_pattern,
        convert=convert,
        plain=plain,
        write=write,
        fast=fast,
        fast_check=fast_check,
        padded=padded,
    )


def write_checked(kind: Kind, value: object) -> str:
    """The text of a line for a typed value, checked the way the parser checks a line.

    The kind takes the plain value out of ``value`` (``TypeError`` for a wrong
    type) and writes it as the kernel would (``ValueError`` when it cannot), the
    parser's check reads that text, and the text must read back as the plain
    value: so a value can neither be coerced nor spill into another line. Only
    plain values are compared and shown: no method of the caller's own
    subclasses is called. Returns the text as stored, without padding.
    """
    plain = kind._plain(value)
    printed = kind._write(plain)
    text = printed.strip(_BLANKS) if kind._padded else printed
    reason = kind._check(text)
    if reason is None:
        back = kind._convert(text)
        if back != plain:
            reason = f"it would read back as {_short(back)}"
    if reason is not None:
        raise ValueError(f"{_short(plain)} cannot be written: {reason}")
    return text


# ---- numbers ----------------------------------------------------------------

#: The loops over list items are possessive where Python has them (3.11+). Each
#: such loop here cannot match the same text two ways, so never giving back what
#: it took changes nothing it accepts; and the engine then keeps no state to
#: backtrack to per repetition, which costs some 60 bytes each (4 MB while
#: matching 65,536 groups) on 3.9 and 3.10.
_P = "+" if sys.version_info >= (3, 11) else ""

_U64 = "[0-9]{1,20}"  # %lu / %llu: an unsigned 64-bit number
_U32 = "[0-9]{1,10}"
_ID = "-?[0-9]{1,10}"  # %d before 4.9 printed ids >= 2**31 as negative numbers


def _at_most(limit: str) -> str:
    """A pattern for decimal numbers of ``len(limit)`` digits not above ``limit``.

    One alternative per digit of the limit: the same prefix, a smaller digit
    there, then any digits. The alternatives differ in their prefixes, so at
    most one can match a given text: no backtracking between them.
    """
    alternatives = []
    for position, digit in enumerate(limit):
        last = position == len(limit) - 1
        top = int(digit) if last else int(digit) - 1
        if top < 0:
            continue
        rest = len(limit) - position - 1
        tail = f"[0-9]{{{rest}}}" if rest else ""
        alternatives.append(f"{limit[:position]}[0-{top}]{tail}")
    return "|".join(alternatives)


#: An unsigned 32-bit id as %u prints it: at most 4294967295 (no check needed after it).
_ID32 = f"(?:[0-9]{{1,9}}|{_at_most('4294967295')})"
#: An id as any kernel printed it: %u, or %d before 4.9 (-2147483648 .. -1).
_ID_ANY = f"(?:{_ID32}|-(?:[0-9]{{1,9}}|{_at_most('2147483648')}))"


def _shown(number: int) -> str:
    # Very long numbers are described, not printed: int -> str has a digit limit.
    return str(number) if number.bit_length() <= 128 else f"a {number.bit_length()}-bit number"


def _short(value: object) -> str:
    """A repr of a plain value short enough for an error message."""
    if isinstance(value, int):
        return _shown(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + "..." + text[-12:]


# Plain values (``Kind._plain``): a caller's subclass of a builtin type may
# override any method (__eq__, __iter__, __format__, __repr__...), so each value
# is read through the builtin type's own methods, and everything after it
# (writing, reading back, comparing, error messages) sees only plain values.


def _int(value: object) -> int:
    """``value`` as a plain int; TypeError for anything else (a bool included)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, not {type(value).__name__}")
    return int.__index__(value)  # the builtin method: a plain int even from a subclass


def _plain_bool(value: object) -> bool:
    if not isinstance(value, bool):  # bool cannot be subclassed: it is plain
        raise TypeError(f"expected a bool (True or False), not {type(value).__name__}")
    return value


def _plain_str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a str, not {type(value).__name__}")
    return "".join((value,))  # a plain str, even from a subclass (join calls none of its methods)


def _plain_tuple(
    value: object, item: Callable[[object], Any], length: Optional[int] = None
) -> tuple[Any, ...]:
    """A plain tuple of the plain items of ``value``, ``length`` of them when given."""
    if not isinstance(value, tuple):
        raise TypeError(f"expected a tuple, not {type(value).__name__}")
    items = tuple(map(item, tuple.__iter__(value)))
    if length is not None and len(items) != length:
        raise ValueError(f"expected {length} numbers, not {len(items)}: {_short(items)}")
    return items


def _plain_ints(value: object) -> tuple[int, ...]:
    return _plain_tuple(value, _int)


def _plain_set(value: object) -> frozenset[int]:
    if not isinstance(value, (set, frozenset)):
        raise TypeError(f"expected a frozenset, not {type(value).__name__}")
    items = frozenset.__iter__ if isinstance(value, frozenset) else set.__iter__
    return frozenset(map(_int, items(value)))  # type: ignore[arg-type]


def _plain_state(value: object) -> TaskState:
    if not isinstance(value, TaskState):
        raise TypeError(f"expected a TaskState, not {type(value).__name__}")
    if not isinstance(value.letter, str) or not isinstance(value.meaning, str):
        raise TypeError("a TaskState holds two str")
    return TaskState(_plain_str(value.letter), _plain_str(value.meaning))


def _plain_words(value: object) -> tuple[str, ...]:
    return _plain_tuple(value, _plain_word)


def _plain_word(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a tuple of str, not of {type(value).__name__}")
    return _plain_str(value)


def _below(value: object, limit: int, what: str) -> int:
    number = _int(value)
    if not 0 <= number < limit:
        raise ValueError(f"{_shown(number)} is not {what}")
    return number


def _decimal(value: object) -> str:
    return str(_below(value, 10**20, "a decimal number of at most 20 digits"))


def _write_kb(value: object) -> str:
    number = _below(value, 1024 * 10**20, "a size of at most 20 decimal digits of kB")
    if number % 1024:
        raise ValueError(f"{number} is not a multiple of 1024: the kernel prints memory in kB")
    return f"{number // 1024:8d} kB"  # "%8lu kB" (task_mem() in fs/proc/task_mmu.c)


def _write_bytes(value: object) -> str:
    return f"{_below(value, 10**20, 'a size of at most 20 decimal digits'):8d} bytes"


def _write_bool(value: bool) -> str:
    return "1" if value else "0"


def _write_octal(value: object) -> str:
    return f"{_below(value, 0o1000, 'a mode from 0o000 to 0o777'):04o}"


def _write_percent(value: object) -> str:
    return f"{_below(value, 1000, 'a percentage from 0 to 999')}%"


def _write_hex_mask(value: object) -> str:
    # render_sigset_t() / seq_put_hex_ll(): 16 digits (32 for MIPS signal masks).
    return f"{_below(value, 1 << 256, 'a mask of at most 64 hexadecimal digits'):016x}"


def _write_hex_number(value: object) -> str:
    return hex(_below(value, 1 << 64, "an unsigned 64-bit number"))  # "%#lx"


# ---- ids ----------------------------------------------------------------------


def _id(text: str) -> int:
    # Kernels up to 4.8 printed uids and gids with %d (fs/proc/array.c), so ids
    # of 2**31 and above appear negative; they are the same 32-bit id.
    return int(text) % 2**32


def _explain_ids(text: str) -> Optional[str]:
    for part in text.split():
        if not -(2**31) <= int(part) < 2**32:
            return f"id {part} does not fit in 32 bits"
    return None


@lru_cache(maxsize=256)  # a scan meets the same few uid and gid lines again and again
def _ids(text: str) -> Ids:
    return Ids(*map(_id, text.split()))


def _groups_uncached(text: str) -> tuple[int, ...]:
    return tuple(map(_id, text.split()))


_groups_cached = lru_cache(maxsize=256)(_groups_uncached)


def _groups(text: str) -> tuple[int, ...]:
    # The processes of one user share their groups; long lists are not kept.
    return _groups_cached(text) if len(text) <= 256 else _groups_uncached(text)


def _plain_ids(value: object) -> tuple[int, ...]:
    return _plain_tuple(value, _int, 4)


def _id_texts(ids: tuple[int, ...]) -> list[str]:
    return [str(_below(one, 2**32, "a 32-bit id (0 to 4294967295)")) for one in ids]


def _write_ids(value: tuple[int, ...]) -> str:
    return "\t".join(_id_texts(value))


def _write_groups(value: tuple[int, ...]) -> str:
    # Since 4.9 groups are separated by spaces and the list ends in one
    # trailing space, so an empty list is a single space (fs/proc/array.c).
    return " ".join(_id_texts(value)) + " "


def _write_tab_list(value: tuple[int, ...]) -> str:
    return "\t".join(str(_below(one, 10**10, "an id of at most 10 digits")) for one in value)


def _plain_sigq(value: object) -> tuple[int, ...]:
    return _plain_tuple(value, _int, 2)


def _write_sigq(value: tuple[int, ...]) -> str:
    queued, limit = value
    return f"{_decimal(queued)}/{_decimal(limit)}"  # "%u/%lu"


# ---- sets of CPU or node numbers ------------------------------------------------

#: CPU and node numbers are below this, in both forms ("%*pb": at most 256
#: words of 32 bits; "%*pbl": numbers of at most four digits, checked below it).
#: NR_CPUS is at most 8192 on any architecture (arch/x86/Kconfig
#: NR_CPUS_RANGE_END with CPUMASK_OFFSTACK; arch/powerpc/platforms/Kconfig.cputype
#: "range 2 8192"), and MAX_NUMNODES (1 << NODES_SHIFT, at most 10: mm/Kconfig)
#: is smaller. A bound on the numbers bounds the sets a short text converts to.
_MAX_CPUS = 8192


def _bits(text: str) -> frozenset[int]:
    # One pass over the binary digits: shifting an 8,192-bit number once per
    # bit would take time quadratic in its length.
    binary = f"{int(text.replace(',', ''), 16):b}"
    return frozenset(compress(range(len(binary) - 1, -1, -1), map("1".__eq__, binary)))


def _number_list(value: frozenset[int]) -> list[int]:
    return sorted(_below(one, _MAX_CPUS, f"a number from 0 to {_MAX_CPUS - 1}") for one in value)


def _write_hex_words(value: frozenset[int]) -> str:
    # bitmap_string() in lib/vsprintf.c: 32-bit words, most significant first,
    # the first one without leading zeros, the others eight digits wide.
    numbers = _number_list(value)
    binary = ["0"] * ((numbers[-1] + 1) if numbers else 1)
    for number in numbers:
        binary[-1 - number] = "1"
    digits = f"{int(''.join(binary), 2):x}"
    head_length = len(digits) % 8 or 8
    words = [digits[:head_length]]
    words.extend(digits[start : start + 8] for start in range(head_length, len(digits), 8))
    return ",".join(words)


_HEX_WORDS = (  # "%*pb": at most _MAX_CPUS / 32 words, most significant first
    f"[0-9a-f]{{1,8}}(?:,[0-9a-f]{{8}}){{0,{_MAX_CPUS // 32 - 1}}}{_P}"
)
_HEX_WORDS_EXPECTED = "expected comma-separated 32-bit words of lower-case hexadecimal digits"


def _check_hex_words(text: str) -> Optional[str]:
    if len(text) <= 512:  # the masks of one machine: the same few texts in every process
        return _check_hex_words_kept(text)
    return HEX_WORDS._check(text)


@lru_cache(maxsize=64)
def _check_hex_words_kept(text: str) -> Optional[str]:
    return HEX_WORDS._check(text)


def _explain_ranges(text: str) -> Optional[str]:
    # A machine's processes share a few short lists ("0-3"): those are kept.
    return _explain_short_ranges(text) if len(text) <= 64 else _explain_any_ranges(text)


def _explain_any_ranges(text: str) -> Optional[str]:
    # bitmap_list_string() in lib/vsprintf.c prints ascending, disjoint ranges:
    # anything else is not kernel output, and overlapping ranges would make the
    # conversion cost far more than the text's length.
    previous = -1
    for part in text.split(","):
        if not part:
            continue  # only the empty list (the pattern allows no empty part otherwise)
        first, _, last = part.partition("-")
        low = int(first)
        high = int(last) if last else low
        if high < low:
            return f"range {part} runs backwards"
        if high >= _MAX_CPUS:
            return f"{high} is not a CPU or node number (at most {_MAX_CPUS - 1})"
        if low <= previous:
            return f"{part} is not above the numbers before it (ranges are ascending and disjoint)"
        previous = high
    return None


_explain_short_ranges = lru_cache(maxsize=64)(_explain_any_ranges)


#: Sets kept once converted hold at most this many numbers: some 16 KiB each. A
#: short text can stand for a large set ("0-8191": 8,192 numbers, half a MiB).
_KEPT_NUMBERS = 256


def _ranges(text: str) -> frozenset[int]:
    # A machine's processes share a few short lists ("0-63"): those are kept.
    if len(text) <= 64:
        kept = _short_ranges(text)
        if kept is not None:
            return kept
    return _any_ranges(text)


@lru_cache(maxsize=64)
def _short_ranges(text: str) -> Optional[frozenset[int]]:
    """The set of a short list when it is small; None (all that is kept) when it is not,
    and the caller converts it again, each time."""
    numbers = _any_ranges(text)
    return numbers if len(numbers) <= _KEPT_NUMBERS else None


def _any_ranges(text: str) -> frozenset[int]:
    # Checked ascending and disjoint: at most _MAX_CPUS numbers, each made once.
    spans = []
    for part in text.split(","):
        if part:
            first, _, last = part.partition("-")
            spans.append(range(int(first), int(last or first) + 1))
    return frozenset(chain.from_iterable(spans))


def _write_range_list(value: frozenset[int]) -> str:
    # bitmap_list_string() in lib/vsprintf.c: ascending "a" or "a-b", comma-separated.
    numbers = _number_list(value)
    parts: list[str] = []
    start = 0
    for index, number in enumerate(numbers):
        if index + 1 == len(numbers) or numbers[index + 1] != number + 1:
            first = numbers[start]
            parts.append(str(first) if first == number else f"{first}-{number}")
            start = index + 1
    return ",".join(parts)


# ---- text ---------------------------------------------------------------------


@lru_cache(maxsize=256)  # a handful of states cover a whole machine
def _state(text: str) -> TaskState:
    return TaskState(letter=text[0], meaning=text[3:-1])


def _write_state(value: TaskState) -> str:
    return f"{value.letter} ({value.meaning})"  # "%c (%s)"


def _words(text: str) -> tuple[str, ...]:
    # Words are separated by blanks (spaces, or tabs in copies); str.split() would
    # also split at \r, \x0b, \x1c ... which are part of a word.
    return tuple(filter(None, text.replace("\t", " ").split(" ")))


def _write_words(value: tuple[str, ...]) -> str:
    for word in value:
        if not word or " " in word or "\t" in word or "\n" in word:
            raise ValueError(f"{_short(word)} is not one word (no blanks, not empty)")
    return "".join(f"{word} " for word in value)  # "%s " per feature


def _write_str(value: str) -> str:
    return value


def _check_text(text: str) -> Optional[str]:
    # Free text as the parser leaves it: no blanks around the first line (they
    # are the separator's), and only s390 continuation lines after a line
    # break: indented, not blank, with no ':' (else they would be lines of
    # their own). Texts from the parser always pass; typed values may not.
    first, newline, rest = text.partition("\n")
    if first != first.strip(_BLANKS):
        return "blanks around a text are not kept (they belong to the separator)"
    if newline:
        for piece in rest.split("\n"):
            if piece[:1] not in (" ", "\t") or ":" in piece or not piece.strip(_BLANKS):
                return (
                    "a line break in a text must start an indented continuation line"
                    " without ':' (s390 register dumps)"
                )
    return None


def _unescape_name(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda match: "\n" if match[1] == "n" else "\\", text)


def _write_name(value: str) -> str:
    # string_escape_str()/seq_escape_str() with "\n\\": only newline and
    # backslash are escaped, every other byte is written raw.
    return value.replace("\\", "\\\\").replace("\n", "\\n")


# ---- the kinds ------------------------------------------------------------------

KB = _kind(
    "kb",
    "int",
    "a decimal number of at most 20 digits followed by ' kB'",
    unit="bytes",
    pattern=rf"{_U64} kB",  # "%8lu kB"; the padding is stripped with the separator
    convert=lambda text: int(text[:-3]) * 1024,
    plain=_int,
    write=_write_kb,
    fast=r" *[0-9]{1,20} kB",  # right-aligned in 8 columns
    padded=True,
)
BYTES = _kind(
    "bytes",
    "int",
    "a decimal number of at most 20 digits followed by ' bytes'",
    unit="bytes",
    pattern=rf"{_U64} bytes",  # "%8lu bytes" (task_mem() in fs/proc/task_nommu.c)
    convert=lambda text: int(text[:-6]),
    plain=_int,
    write=_write_bytes,
    fast=r" *[0-9]{1,20} bytes",
    padded=True,
)
INT = _kind(
    "int",
    "int",
    "a decimal number of at most 20 digits",
    pattern=_U64,
    convert=int,
    plain=_int,
    write=_decimal,
    fast=_U64,
)
BOOL = _kind(
    "bool",
    "bool",
    "0 or 1",
    pattern="[01]",
    convert=lambda text: text == "1",
    plain=_plain_bool,
    write=_write_bool,
    fast="[01]",
)
OCTAL = _kind(
    "octal",
    "int",
    "four octal digits starting with 0",
    pattern="0[0-7]{3}",  # "%#04o" (task_state(), Umask)
    convert=lambda text: int(text, 8),
    plain=_int,
    write=_write_octal,
    fast="0[0-7]{3}",
)
PERCENT = _kind(
    "percent",
    "int",
    "a percentage such as 98%",
    pattern="[0-9]{1,3}%",  # "%lu%%" (SleepAVG, 2.6.0 to 2.6.22)
    convert=lambda text: int(text[:-1]),
    plain=_int,
    write=_write_percent,
    fast="[0-9]{1,3}%",
)
STATE = _kind(
    "state",
    "TaskState",
    "a letter and a word in parentheses, such as R (running)",
    pattern=r"[^ \t\n] \([^()\n]*\)",  # "%c (%s)" from task_state_array in fs/proc/array.c
    convert=_state,
    plain=_plain_state,
    write=_write_state,
    fast=r"[^ \t\n] \([^()\n]*\)",
)
IDS = _kind(
    "ids",
    "Ids",
    "four 32-bit ids separated by tabs",
    pattern=rf"{_ID}[\t ]+{_ID}[\t ]+{_ID}[\t ]+{_ID}",  # tab-separated; copies may have spaces
    exact=rf"{_ID_ANY}[\t ]+{_ID_ANY}[\t ]+{_ID_ANY}[\t ]+{_ID_ANY}",
    explain=_explain_ids,
    convert=_ids,
    plain=_plain_ids,
    write=_write_ids,
    fast=rf"{_ID32}\t{_ID32}\t{_ID32}\t{_ID32}",
)
GROUPS = _kind(
    "groups",
    "tuple[int, ...]",
    "32-bit group ids separated by spaces",
    pattern=rf"(?:{_ID}(?:[\t ]+{_ID})*{_P})?",  # "%u " per group; none: nothing or " "
    exact=rf"(?:{_ID_ANY}(?:[\t ]+{_ID_ANY})*{_P})?",
    explain=_explain_ids,
    convert=_groups,
    plain=_plain_ints,
    write=_write_groups,
    # "%u " per group; since 4.9 a lone " " when there are none. Four groups per
    # repetition (the engine's cost is per repetition) and then at most three:
    # the two loops cannot share out the same groups in several ways, which made
    # a failed match take time quadratic in the number of groups.
    fast=rf"(?:{_ID32} {_ID32} {_ID32} {_ID32} )*{_P}(?:{_ID32} ){{0,3}}{_P} ?",
    padded=True,
)
TAB_LIST = _kind(
    "tab_list",
    "tuple[int, ...]",
    "one or more decimal ids separated by tabs",
    pattern=rf"{_U32}(?:[\t ]+{_U32})*{_P}",  # NStgid and friends: one id per pid namespace
    convert=lambda text: tuple(map(int, text.split())),
    plain=_plain_ints,
    write=_write_tab_list,
    fast=rf"{_U32}(?:\t{_U32})*{_P}",
)
SIGQ = _kind(
    "sigq",
    "SigQ",
    "two decimal numbers separated by '/'",
    pattern=rf"{_U64}/{_U64}",  # "%u/%lu": queued signals / RLIMIT_SIGPENDING
    convert=lambda text: SigQ(*map(int, text.split("/"))),
    plain=_plain_sigq,
    write=_write_sigq,
    fast=rf"{_U64}/{_U64}",
)
HEX_MASK = _kind(
    "hex_mask",
    "int",
    "at most 64 lower-case hexadecimal digits",
    pattern="[0-9a-f]{1,64}",  # render_sigset_t() / seq_put_hex_ll(): 16 digits, 32 on MIPS
    convert=lambda text: int(text, 16),
    plain=_int,
    write=_write_hex_mask,
    fast="[0-9a-f]{1,64}",
)
HEX_NUMBER = _kind(
    "hex_number",
    "int",
    "0x followed by at most 16 lower-case hexadecimal digits",
    pattern="0x[0-9a-f]{1,16}",  # "%#lx" (untag_mask)
    convert=lambda text: int(text, 16),
    plain=_int,
    write=_write_hex_number,
    fast="0x[0-9a-f]{1,16}",
)
HEX_WORDS = _kind(
    "hex_words",
    "frozenset[int]",
    _HEX_WORDS_EXPECTED[len("expected ") :],
    pattern=_HEX_WORDS,
    convert=_bits,
    plain=_plain_set,
    write=_write_hex_words,
    # Matching hex digits one character class at a time costs a third of a whole
    # template (Mems_allowed is 32 words with MAX_NUMNODES = 1024), and every
    # process of a machine prints the same masks: the fast path takes the line
    # whole and checks it once per distinct text.
    fast=r"[^\n]*",
    fast_check=_check_hex_words,
)
RANGE_LIST = _kind(
    "range_list",
    "frozenset[int]",
    "ascending numbers and ranges such as 0-3,8 separated by commas",
    pattern=f"(?:[0-9]{{1,4}}(?:-[0-9]{{1,4}})?(?:,[0-9]{{1,4}}(?:-[0-9]{{1,4}})?)*{_P})?",  # %*pbl
    explain=_explain_ranges,
    convert=_ranges,
    plain=_plain_set,
    write=_write_range_list,
    # A regular expression cannot see ranges out of order or numbers above 8191:
    # the fast path checks those.
    fast=f"(?:[0-9]{{1,4}}(?:-[0-9]{{1,4}})?(?:,[0-9]{{1,4}}(?:-[0-9]{{1,4}})?)*{_P})?",
    fast_check=_explain_ranges,
)
WORDS = _kind(
    "words",
    "tuple[str, ...]",
    "words separated by spaces",
    pattern=f"[^ \t\n]*(?:[ \t]+[^ \t\n]+)*{_P}",  # "%s " per feature (arch/x86/kernel/cpu/proc.c)
    convert=_words,
    plain=_plain_words,
    write=_write_words,
    fast=rf"(?:[^ \t\n]+ )*{_P}",
    padded=True,
)
TEXT = _kind(
    "text",
    "str",
    "any text",
    pattern="(?s:.*)",
    explain=_check_text,
    convert=str,
    plain=_plain_str,
    write=_write_str,
    fast=r"[^\n]*",  # one line; blanks around it are stripped by the fast path
)
NAME = _kind(
    "name",
    "str",
    "any text in which a backslash starts \\n or \\\\",
    # task_name() (2.6.0 to 3.19), then string_escape_str()/seq_escape_str() with
    # only "\n\\": newline and backslash are escaped, every other byte is raw.
    pattern=rf"[^\\\n]*(?:\\[n\\][^\\\n]*)*{_P}",
    convert=_unescape_name,
    plain=_plain_str,
    write=_write_name,
    # Exactly one tab after "Name:"; every other blank belongs to the name.
    fast=rf"[^\\\n]*(?:\\[n\\][^\\\n]*)*{_P}",
)

#: Every kind, for tests and the JSON schema.
KINDS = (
    KB,
    BYTES,
    INT,
    BOOL,
    OCTAL,
    PERCENT,
    STATE,
    IDS,
    GROUPS,
    TAB_LIST,
    SIGQ,
    HEX_MASK,
    HEX_NUMBER,
    HEX_WORDS,
    RANGE_LIST,
    WORDS,
    TEXT,
    NAME,
)


def clear_caches() -> None:
    """Forget the conversions kept for speed (tests check results with and without them)."""
    for cache in (
        _ids,
        _groups_cached,
        _state,
        _explain_short_ranges,
        _short_ranges,
        _check_hex_words_kept,
    ):
        cache.cache_clear()
