"""Process-wide memory settings, made once at start-up by the app, the command line and bench."""

from __future__ import annotations

import os

import pyarrow as pa

__all__ = ["process_memory_kib", "use_system_allocator"]


def use_system_allocator() -> str:
    """Make Arrow allocate with the system allocator; return the backend now in use.

    The system allocator hands a large upload's working memory back as soon as it is freed;
    Arrow's default (mimalloc) keeps it, which here left a 1M-row upload holding about 4× its
    size and made the first read of a large file up to twice as slow, at random. An explicit
    ``ARROW_DEFAULT_MEMORY_POOL`` in the environment wins. Calling it again changes nothing.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())
    return str(pa.default_memory_pool().backend_name)


def process_memory_kib(field: str = "VmRSS") -> int:
    """Return a memory figure of this process in KiB from /proc/self/status (0 where absent).

    ``VmRSS`` is the memory held now, ``VmHWM`` the most it has held (its peak). Used by the
    benchmarks and the hostile-file tests to state what a file cost.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:  # not Linux
        pass
    return 0
