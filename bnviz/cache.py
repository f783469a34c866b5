"""A small thread-safe LRU cache for finished runs, bounded in entries and bytes.

Thirty students opening one link ask for the same run at once: the first
computes it, the others wait for that result instead of computing it again.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable


class RunCache:
    def __init__(self, max_entries: int = 64, max_bytes: int = 512 * 2**20, size: Callable = None):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.size = size or (lambda value: getattr(value, "nbytes", 0))
        self._items: OrderedDict = OrderedDict()
        self._sizes: dict = {}          # each entry's size when it was put: what its removal gives back
        self._bytes = 0
        self._lock = threading.Lock()
        self._pending: dict = {}

    def __len__(self):
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key, value) -> None:
        size = self.size(value)
        with self._lock:
            if key in self._items:
                self._items.pop(key)
                self._bytes -= self._sizes.pop(key)
            if size > self.max_bytes:
                return  # too big to keep: the caller still has it
            self._items[key] = value
            self._sizes[key] = size
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                old, _ = self._items.popitem(last=False)
                self._bytes -= self._sizes.pop(old)

    def get_or_compute(self, key, compute: Callable):
        """The cached value for key, or compute() once however many callers ask at the same time."""
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            gate = self._pending.setdefault(key, threading.Lock())
        with gate:
            value = self.get(key)
            if value is not None:
                return value
            try:
                value = compute()
                self.put(key, value)
            finally:
                with self._lock:
                    self._pending.pop(key, None)
            return value
