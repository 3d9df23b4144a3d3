"""The fixed schedule of the repeating commands (``watch``, ``top --interval``).

Work is due at multiples of the interval from the start, so a slow read does
not make the timeline drift; once behind (a read slower than the interval,
procstatus stopped with Ctrl-Z), the times missed meanwhile are skipped rather
than caught up back to back.
"""

from __future__ import annotations

import math

__all__ = ["next_due"]


def next_due(due: float, interval: float, now: float) -> float:
    """The time after ``due`` that is next on the schedule, skipping those before ``now``.

    >>> next_due(0.0, 1.0, 0.25), next_due(1.0, 1.0, 6.5)
    (1.0, 7.0)
    """
    due += interval
    if due < now:
        due += math.ceil((now - due) / interval) * interval
    return due
