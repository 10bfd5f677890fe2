"""Pausing Python's cyclic garbage collector while the engine builds long-lived objects.

A calculation creates millions of container objects (credits, scopes, records, statements)
that all live until it returns, and a trace builds a tree per line.  The cyclic collector,
triggered by allocation counts, re-scans that growing heap again and again and finds nothing
to free: at size S it was about half of evaluation and two thirds of trace building.  Plain
reference counting still frees everything as usual; cycles made meanwhile are collected once
the collector runs again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic collector off; restore it (nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
