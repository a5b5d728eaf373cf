"""Timers for pytest-benchmark (``--benchmark-timer tests.helpers.timers.cpu_with_children``)."""
from __future__ import annotations

import os
import time


def cpu_with_children() -> float:
    """CPU seconds of this process and of the child processes it has waited for (a decoder under test runs as a
    child of ``check``; their times tick in 1/100 s, a check takes seconds): unlike wall time, what else a loaded
    machine runs does not count."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system
