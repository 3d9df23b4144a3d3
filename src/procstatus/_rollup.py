"""From the text of /proc/PID/smaps_rollup to a :class:`Rollup`. Pure: no I/O.

The kernel writes an optional header line (an address range and ``[rollup]``)
and then one ``Key:<blanks><number> kB`` line per field (fs/proc/task_mmu.c
show_smaps_rollup() and __show_smap()). A line is split at its first colon and
checked on its own, so the work is linear in the text: no pattern here can
match one text two ways, and nothing is searched for across lines.

The same record holds the sums of /proc/PID/smaps on kernels before 4.14,
which have no smaps_rollup (:func:`sum_smaps`; ``_read_rollup.py`` decides when).

# Strategy

Two paths give the same results. The exact path (``_parse_exact``) is the
reference: it splits the lines and checks each one. It costs about as much as
the kernel's own work for a small process, so a text of a *known shape* (the
same table keys in the same order as a text seen twice before: a kernel
prints one shape) takes the fast path: one compiled regular expression for the
whole text checks every line and captures every number, and the record is
built without running the per-field checks again (the pattern admits only
what they accept). Anything the pattern does not take, unknown lines and
every error included, goes to the exact path. The bounded cache of shapes is
the only state here and changes nothing but speed;
tests/test_rollup_properties.py checks that both paths agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import repeat
from operator import mul
from typing import Any, NamedTuple, Optional, Union

import attrs

from ._errors import RollupParseError
from ._fastpath import ShapeCache, compile_pattern
from ._rollup_fields import ROLLUP_FIELDS

__all__ = ["Rollup", "parse_rollup", "sum_smaps"]

_BLANKS = " \t"

#: ``%lu kB`` as __show_smap() prints it (SEQ_PUT_DEC), blanks removed; at most
#: 20 digits (an unsigned 64-bit number), so ``int()`` never meets its digit limit.
_SIZE = re.compile(r"[0-9]{1,20} kB")

#: show_smaps_rollup() prints show_vma_header_prefix() with flags, offset, device
#: and inode all 0, then pads with spaces and writes "[rollup]". Copies may have
#: lost or changed the padding, so one run of blanks stands for it.
_HEADER = re.compile(r"[0-9a-f]{1,16}-[0-9a-f]{1,16} ---p 00000000 00:00 0[ \t]+\[rollup\]")

#: Keys as the kernel writes them; an unknown line must have one too, so that a
#: mapping header of /proc/PID/smaps ("...-... r--p 00000000 fe:00 ...") cannot
#: pass for a field.
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def _size_or_none(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if type(value) is not int:
        raise TypeError(f"{attribute.name} must be an int (bytes) or None, not {value!r}")
    if value < 0 or value % 1024:
        raise ValueError(f"{attribute.name} must be a non-negative multiple of 1024, not {value}")


def _line_or_none(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (type(value) is not str or "\n" in value):
        raise TypeError(f"{attribute.name} must be one line (a str) or None, not {value!r}")


def _pairs(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not tuple or not all(
        type(pair) is tuple
        and len(pair) == 2
        and all(type(part) is str for part in pair)
        and "\n" not in pair[0] + pair[1]
        for pair in value
    ):
        raise TypeError(f"unknown must be a tuple of (key, text) str pairs, not {value!r}")


def _field() -> Any:
    return attrs.field(default=None, validator=_size_or_none)


# slots=False: the fast path fills a new instance's __dict__ in one call (see
# _unchecked); with slots it would take a call per field, a fifth of read_rollup.
@attrs.frozen(kw_only=True, slots=False)
class Rollup:
    """The memory of one process summed over all its mappings, in bytes.

    One attribute per line of /proc/PID/smaps_rollup (see :data:`ROLLUP_FIELDS`
    and docs/rollup-fields.md); ``None`` where the kernel did not print the
    line (older kernels print fewer). Create it with :func:`parse_rollup` or
    :func:`~procstatus.read_rollup`; ``attrs.evolve`` makes changed copies and
    checks the values again.

    >>> rollup = parse_rollup("Rss: 400 kB\\nPss: 150 kB\\nPrivate_Clean: 8 kB\\n"
    ...                       "Private_Dirty: 92 kB\\n")
    >>> rollup.rss, rollup.pss, rollup.uss, rollup.swap
    (409600, 153600, 102400, None)
    """

    #: The header line as read (``<start>-<end> ---p 00000000 00:00 0 [rollup]``),
    #: or None when the text had none (and for sums of /proc/PID/smaps).
    header: Optional[str] = attrs.field(default=None, validator=_line_or_none)
    rss: Optional[int] = _field()
    pss: Optional[int] = _field()
    pss_dirty: Optional[int] = _field()
    pss_anon: Optional[int] = _field()
    pss_file: Optional[int] = _field()
    pss_shmem: Optional[int] = _field()
    shared_clean: Optional[int] = _field()
    shared_dirty: Optional[int] = _field()
    private_clean: Optional[int] = _field()
    private_dirty: Optional[int] = _field()
    referenced: Optional[int] = _field()
    anonymous: Optional[int] = _field()
    ksm: Optional[int] = _field()
    lazy_free: Optional[int] = _field()
    anon_huge_pages: Optional[int] = _field()
    shmem_pmd_mapped: Optional[int] = _field()
    file_pmd_mapped: Optional[int] = _field()
    shared_hugetlb: Optional[int] = _field()
    private_hugetlb: Optional[int] = _field()
    swap: Optional[int] = _field()
    swap_pss: Optional[int] = _field()
    locked: Optional[int] = _field()
    #: Lines the table does not know (vendor kernels, future ones), in order, as
    #: ``(key, value text)`` with the blanks around the value removed.
    unknown: tuple[tuple[str, str], ...] = attrs.field(default=(), validator=_pairs)
    #: True when the values are sums over /proc/PID/smaps (kernels before 4.14).
    from_smaps: bool = False

    @property
    def uss(self) -> Optional[int]:
        """Unique set size: ``Private_Clean + Private_Dirty + Private_Hugetlb``.

        The memory only this process maps, so what its exit would give back.
        The kernel prints no USS line: this sum is procstatus's, the same one
        psutil's ``memory_full_info().uss`` makes (it adds every ``Private_*``
        line). ``Private_Hugetlb`` is counted when printed (4.4+) although Rss
        and Pss leave hugetlbfs pages out. None without the two Private lines.
        """
        clean, dirty = self.private_clean, self.private_dirty
        if clean is None or dirty is None:
            return None
        return clean + dirty + (self.private_hugetlb or 0)

    def get(self, name: str) -> Union[int, str, None]:
        """A line by its kernel name: bytes for table fields, the text of an unknown line."""
        spec = ROLLUP_FIELDS.get(name)
        if spec is not None:
            value: Optional[int] = getattr(self, spec.attribute)
            return value
        for key, text in self.unknown:
            if key == name:
                return text
        return None


def parse_rollup(data: Union[str, bytes]) -> Rollup:
    """Parse the text of a /proc/PID/smaps_rollup file.

    The header line is optional and kept (:attr:`Rollup.header`); unknown lines
    are kept in order (:attr:`Rollup.unknown`). Raises
    :class:`~procstatus.RollupParseError` (a ValueError) naming the line and
    field for a text no kernel writes: an empty text, a line without a key, a
    value that is not ``<number> kB``, a field twice. Any text at all either
    parses or raises that error.
    """
    text = _decode(data)
    rollup = _parse_known_shape(text, _TEMPLATES.items)
    if rollup is None:
        rollup = _parse_exact(text)
        if not rollup.unknown:
            _learn_shape(text)
    return rollup


def _parse_exact(text: str) -> Rollup:
    """The reference path: split the lines, check each one."""
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # the final newline
    if not any(line.strip(_BLANKS) for line in lines):
        raise RollupParseError("no rollup lines in the text", line=1, field=None, text=text[:80])
    header: Optional[str] = None
    values: dict[str, Any] = {}
    unknown: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        key, colon, value = line.partition(":")
        if not colon or not _KEY.fullmatch(key):
            if number == 1 and _HEADER.fullmatch(line.strip(_BLANKS)):
                header = line
                continue
            if not line.strip(_BLANKS):
                continue  # blank lines: never printed, but harmless in copies
            raise RollupParseError(
                "not a 'Key: value' line or the [rollup] header", line=number, field=None, text=line
            )
        if key in seen:
            raise RollupParseError("the field appears twice", line=number, field=key, text=line)
        seen.add(key)
        value = value.strip(_BLANKS)
        spec = ROLLUP_FIELDS.get(key)
        if spec is None:
            unknown.append((key, value))
            continue
        if not _SIZE.fullmatch(value):
            raise RollupParseError(
                "expected a size like '1234 kB'", line=number, field=key, text=line
            )
        values[spec.attribute] = int(value[:-3]) * 1024
    return Rollup(header=header, unknown=tuple(unknown), **values)


def sum_smaps(data: Union[str, bytes]) -> Optional[Rollup]:
    """The sums of the per-mapping lines of a /proc/PID/smaps text, as a :class:`Rollup`.

    What smaps_rollup gives on Linux 4.14 and later, for older kernels: every
    table field that /proc/PID/smaps prints (``in_smaps``) is added up over the
    mappings; the rollup-only lines (Pss_Anon, Pss_File, Pss_Shmem) stay None,
    as do fields the kernel did not print. Lines that describe one mapping
    (its header, Size, KernelPageSize, THPeligible, VmFlags, ...) are not sums
    and are left out, so :attr:`Rollup.unknown` is empty. One difference
    remains: the kernel rounds Pss (and SwapPss, Locked) down to whole kB per
    mapping here, and once over the whole process in smaps_rollup, so these
    sums may be lower by up to 1 kB per mapping.

    None for an empty text: a kernel thread or a zombie has no mappings (the
    kernel then writes nothing, fs/proc/task_mmu.c m_start()). Raises
    :class:`~procstatus.RollupParseError` when a table field's value is not
    ``<number> kB``, or when a line is neither a field nor a mapping header.
    """
    text = _decode(data)
    sums: dict[str, Any] = {}
    any_line = False
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip(_BLANKS):
            continue
        any_line = True
        key, colon, value = line.partition(":")
        spec = ROLLUP_FIELDS.get(key) if colon else None
        if spec is None or not spec.in_smaps:
            # A mapping header ("start-end perms offset dev inode path") or a
            # per-mapping line: only its shape is checked.
            if not (colon and _KEY.fullmatch(key)) and not _is_mapping_header(line):
                raise RollupParseError(
                    "neither a smaps field line nor a mapping header",
                    line=number,
                    field=None,
                    text=line,
                )
            continue
        value = value.strip(_BLANKS)
        if not _SIZE.fullmatch(value):
            raise RollupParseError(
                "expected a size like '1234 kB'", line=number, field=key, text=line
            )
        sums[spec.attribute] = sums.get(spec.attribute, 0) + int(value[:-3]) * 1024
    if not any_line:
        return None
    return Rollup(from_smaps=True, **sums)


#: "start-end perms offset major:minor inode", then an optional path
#: (fs/proc/task_mmu.c show_vma_header_prefix()); the path is free text.
_MAPPING_HEADER = re.compile(r"[0-9a-f]{1,16}-[0-9a-f]{1,16} [-r][-w][-x][ps] [0-9a-f]{1,16} ")


def _is_mapping_header(line: str) -> bool:
    return _MAPPING_HEADER.match(line) is not None


def _decode(data: Union[str, bytes]) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray)):
        # Mapping paths in smaps are raw bytes: keep invalid UTF-8 reversibly.
        return bytes(data).decode("utf-8", "surrogateescape")
    raise TypeError(f"rollup text must be str or bytes, not {type(data).__name__}")


def rollup_lines(rollup: Rollup) -> Iterable[str]:
    """The lines of ``rollup`` as the kernel prints them (header first, unknown lines last)."""
    if rollup.header is not None:
        yield rollup.header
    for spec in ROLLUP_FIELDS.values():
        value = getattr(rollup, spec.attribute)
        if value is not None:
            yield f"{spec.name + ':':<16}{value // 1024:8d} kB"
    for key, text in rollup.unknown:
        yield f"{key + ':':<16}{text}"


# The fast path for texts of a known shape (see the module docstring).


class _Template(NamedTuple):
    """One whole-text pattern for one shape: these table keys, in this order."""

    #: The attributes of the keys, in print order.
    attributes: tuple[str, ...]
    #: Group 1 is the header line (or None), then one group per key: its digits.
    pattern: re.Pattern[str]
    #: Every other attribute of a Rollup of this shape: None for the lines the
    #: shape does not print, no unknown lines, not from smaps.
    base: dict[str, Any]


_HEADER_LAYOUT = r"(?:([0-9a-f]{1,16}-[0-9a-f]{1,16} ---p 00000000 00:00 0[ \t]+\[rollup\])\n)?"
_ALL_ATTRIBUTES = tuple(spec.attribute for spec in ROLLUP_FIELDS.values())


def _template(keys: tuple[str, ...]) -> _Template:
    lines = "".join(f"{re.escape(key)}:[ \t]*([0-9]{{1,20}}) kB\n" for key in keys)
    attributes = tuple(ROLLUP_FIELDS[key].attribute for key in keys)
    base: dict[str, Any] = dict.fromkeys(name for name in _ALL_ATTRIBUTES if name not in attributes)
    base.update(unknown=(), from_smaps=False)
    return _Template(attributes, compile_pattern(_HEADER_LAYOUT + lines), base)


def _parse_known_shape(text: str, templates: tuple[_Template, ...]) -> Optional[Rollup]:
    for template in templates:
        match = template.pattern.fullmatch(text)
        if match is not None:
            header, *digits = match.groups()
            values = template.base.copy()
            values["header"] = header
            values.update(zip(template.attributes, map(mul, map(int, digits), repeat(1024))))
            return _unchecked(values)
    return None


def _unchecked(values: dict[str, Any]) -> Rollup:
    """A Rollup of values the pattern already checked (every attribute given), made
    without running the field checks again: its __dict__ is ``values``."""
    rollup: Rollup = object.__new__(Rollup)
    object.__setattr__(rollup, "__dict__", values)
    return rollup


#: Templates of the shapes seen twice (the parser's bounded cache class, see
#: _fastpath.py); a kernel prints one shape.
_TEMPLATES: ShapeCache[_Template] = ShapeCache(_template, size=4)


def _learn_shape(text: str) -> None:
    keys = tuple(
        key for key, colon, _ in (line.partition(":") for line in text.split("\n")) if colon
    )
    keys = tuple(key for key in keys if key in ROLLUP_FIELDS)
    if keys:
        _TEMPLATES.see(keys)
