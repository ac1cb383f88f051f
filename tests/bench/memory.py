"""A process's own memory, as the benchmarks report it."""

from __future__ import annotations

import resource


def _status(field: str) -> int | None:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def peak_rss_kb() -> int:
    """VmHWM: this process's own peak resident set (``ru_maxrss`` would include the parent's size at
    fork when the process was forked rather than started fresh)."""
    peak = _status("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_kb() -> int:
    """VmRSS: the resident set now."""
    now = _status("VmRSS")
    return now if now is not None else peak_rss_kb()
