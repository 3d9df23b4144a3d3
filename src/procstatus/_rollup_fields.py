"""The rollup field table: every line /proc/PID/smaps_rollup has printed.

One :class:`RollupFieldSpec` per line, in the order Linux 6.18 prints them. The
parser, the attributes of :class:`~procstatus.Rollup`, the smaps fallback and
docs/rollup-fields.md are driven by this table; tests/test_rollup_fields.py
keeps them in step.

Every line is ``<Key>:<blanks><number> kB``: __show_smap() in
fs/proc/task_mmu.c prints each with ``SEQ_PUT_DEC`` (a number of at least 8
columns after a key padded to 16 columns; ``Private_Hugetlb`` gets 7 columns,
and ``FilePmdMapped`` one column less before 6.x kernels). Values are kB of
1024 bytes, given here in bytes.

The file itself came with Linux 4.14 (commit 493b0e9d945f, "mm: add
/proc/pid/smaps_rollup"): its lines are the sums of the same lines of every
mapping in /proc/PID/smaps (Documentation/ABI/testing/procfs-smaps_rollup,
Documentation/filesystems/proc.rst), so ``since`` is 4.14 for every line
/proc/PID/smaps already printed then. The Pss_Anon/Pss_File/Pss_Shmem split
exists only in the rollup (5.3, "mm: smaps: split PSS into components", LKML
20190626234333.44608-1-semenzato@chromium.org); the other later lines came to
both files in the same release. Distribution kernels backport lines (Android
4.19 prints a vendor ``Writeback`` line, kept as unknown), so a field is
detected by its presence, never from ``uname -r``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Optional

import attrs

__all__ = ["ROLLUP_FIELDS", "RollupFieldSpec"]

#: The first mainline release with /proc/PID/smaps_rollup.
ROLLUP_SINCE = "4.14"

_SHOW_SMAP = "fs/proc/task_mmu.c __show_smap()"
_PROC_RST = "Documentation/filesystems/proc.rst (/proc/PID/smaps)"


@attrs.frozen
class RollupFieldSpec:
    """What the kernel prints on one line of /proc/PID/smaps_rollup."""

    #: The key exactly as printed before the colon.
    name: str
    #: The attribute of :class:`~procstatus.Rollup` that holds the value (bytes).
    attribute: str
    #: First mainline release whose smaps_rollup prints the line.
    since: str
    #: First mainline release that no longer prints it; None while it is printed.
    removed: Optional[str]
    #: Whether /proc/PID/smaps prints the line per mapping too, so that the
    #: fallback for kernels without smaps_rollup can sum it.
    in_smaps: bool
    description: str
    #: Where the facts in this row come from (kernel file, commit, documentation).
    source: str

    @property
    def unit(self) -> str:
        """Every rollup value is a size: ``"bytes"``."""
        return "bytes"


def _spec(
    name: str,
    attribute: str,
    description: str,
    *,
    since: str = ROLLUP_SINCE,
    in_smaps: bool = True,
    source: str = f"{_SHOW_SMAP}; {_PROC_RST}",
) -> RollupFieldSpec:
    return RollupFieldSpec(
        name=name,
        attribute=attribute,
        since=since,
        removed=None,
        in_smaps=in_smaps,
        description=description,
        source=source,
    )


_TABLE = (
    _spec("Rss", "rss", "Resident memory: every page mapped and in RAM, shared pages in full"),
    _spec(
        "Pss",
        "pss",
        "Proportional set size: each resident page divided by the number of processes"
        " mapping it (PSS_SHIFT fixed point, rounded down once at the end)",
        source=f"{_SHOW_SMAP}, smaps_account(); commit ec4dd3eb3575 (Pss in smaps, 2.6.25)",
    ),
    _spec(
        "Pss_Dirty",
        "pss_dirty",
        "The part of Pss in dirty pages",
        since="6.0",
        source=f"{_SHOW_SMAP}; 'mm/smaps: add Pss_Dirty' (6.0); {_PROC_RST}",
    ),
    _spec(
        "Pss_Anon",
        "pss_anon",
        "The part of Pss in anonymous pages",
        since="5.3",
        in_smaps=False,
        source=f"{_SHOW_SMAP} (rollup only); 'mm: smaps: split PSS into components' (5.3);"
        " Documentation/ABI/testing/procfs-smaps_rollup",
    ),
    _spec(
        "Pss_File",
        "pss_file",
        "The part of Pss in file-backed pages",
        since="5.3",
        in_smaps=False,
        source=f"{_SHOW_SMAP} (rollup only); 'mm: smaps: split PSS into components' (5.3);"
        " Documentation/ABI/testing/procfs-smaps_rollup",
    ),
    _spec(
        "Pss_Shmem",
        "pss_shmem",
        "The part of Pss in shared memory (shmem, tmpfs, MAP_SHARED anonymous)",
        since="5.3",
        in_smaps=False,
        source=f"{_SHOW_SMAP} (rollup only); 'mm: smaps: split PSS into components' (5.3);"
        " Documentation/ABI/testing/procfs-smaps_rollup",
    ),
    _spec(
        "Shared_Clean",
        "shared_clean",
        "Resident clean pages that other processes map too (mapcount >= 2)",
    ),
    _spec(
        "Shared_Dirty",
        "shared_dirty",
        "Resident dirty pages that other processes map too (mapcount >= 2)",
    ),
    _spec(
        "Private_Clean",
        "private_clean",
        "Resident clean pages mapped by this process alone",
    ),
    _spec(
        "Private_Dirty",
        "private_dirty",
        "Resident dirty pages mapped by this process alone",
    ),
    _spec("Referenced", "referenced", "Resident pages marked referenced or accessed"),
    _spec("Anonymous", "anonymous", "Resident pages that belong to no file (heap, stack, CoW)"),
    _spec(
        "KSM",
        "ksm",
        "Resident pages merged by KSM (kernel samepage merging)",
        since="6.6",
        source=f"{_SHOW_SMAP}; 'proc/ksm: add ksm stats to /proc/pid/smaps'"
        " (commit 8b47933544a6, 6.6)",
    ),
    _spec(
        "LazyFree",
        "lazy_free",
        "Anonymous pages freed with MADV_FREE and not yet reclaimed",
        source=f"{_SHOW_SMAP}; 'proc: show MADV_FREE pages info in smaps' (4.12)",
    ),
    _spec(
        "AnonHugePages",
        "anon_huge_pages",
        "Anonymous memory mapped by transparent huge pages",
    ),
    _spec(
        "ShmemPmdMapped",
        "shmem_pmd_mapped",
        "Shared memory mapped by huge pages (PMD)",
        source=f"{_SHOW_SMAP}; 'mm, rmap: account shmem thp pages' (4.8)",
    ),
    _spec(
        "FilePmdMapped",
        "file_pmd_mapped",
        "File pages mapped by huge pages (PMD)",
        since="5.4",
        source=f"{_SHOW_SMAP}; 'mm,thp: stats for file backed THP' (5.4)",
    ),
    _spec(
        "Shared_Hugetlb",
        "shared_hugetlb",
        "hugetlbfs pages mapped by other processes too (not counted in Rss or Pss)",
        source=f"{_SHOW_SMAP}; 'mm: hugetlb: proc: add hugetlb-related fields to"
        " /proc/PID/smaps' (4.4)",
    ),
    _spec(
        "Private_Hugetlb",
        "private_hugetlb",
        "hugetlbfs pages mapped by this process alone (not counted in Rss or Pss)",
        source=f"{_SHOW_SMAP} (printed 7 columns wide); 'mm: hugetlb: proc: add"
        " hugetlb-related fields to /proc/PID/smaps' (4.4)",
    ),
    _spec(
        "Swap",
        "swap",
        "Anonymous and shared memory swapped out (shmem swap included, unlike VmSwap)",
    ),
    _spec(
        "SwapPss",
        "swap_pss",
        "Proportional share of Swap: each swapped page divided by its swap count",
        source=f"{_SHOW_SMAP}; 'mm: /proc/pid/smaps: show proportional swap share of the"
        " mapping' (4.3)",
    ),
    _spec(
        "Locked",
        "locked",
        "Pss of the pages in mlock()ed mappings",
        source=f"{_SHOW_SMAP} (mss->pss_locked); {_PROC_RST}",
    ),
)

#: Every rollup line, by kernel name, in print order.
ROLLUP_FIELDS: Mapping[str, RollupFieldSpec] = MappingProxyType(
    {spec.name: spec for spec in _TABLE}
)

#: Attribute names, in print order.
ROLLUP_ATTRIBUTES: tuple[str, ...] = tuple(spec.attribute for spec in _TABLE)
