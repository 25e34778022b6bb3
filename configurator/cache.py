"""A process-wide cache of compiled `Configurator`s, one per product version.

Compiling a model (parsing, encoding, the first solve) is the expensive part
of serving a dialog, and versions are immutable, so each process compiles a
version once and keeps the most recently used few (LRU). The cache is
thread-safe: API threads share it, and two threads asking for the same
uncompiled version wait for one compilation instead of doing two. An evicted
`Configurator` is simply dropped: a thread still using it keeps a reference,
and python-sat frees native solvers when they are garbage-collected.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from configurator.engine import Configurator
from configurator.formats.featureide import load_featureide
from configurator.formats.native import load_native
from configurator.formats.xcsp import load_xcsp
from configurator.model import ProductModel
from configurator.models import ModelFormat
from core.errors import InvalidInput

DEFAULT_SIZE = 4


def parse_model(source: str, model_format: str, *, name: str) -> ProductModel:
    """The product model in `source`; InvalidInput naming the line and reason when malformed."""
    if model_format == ModelFormat.NATIVE:
        return load_native(source)
    if model_format == ModelFormat.FEATUREIDE:
        return load_featureide(source.encode("utf-8"), name=name)
    if model_format == ModelFormat.XCSP:
        return load_xcsp(source.encode("utf-8"), name=name)
    allowed = ", ".join(f.value for f in ModelFormat)
    raise InvalidInput("format", f"unknown format {model_format!r} (one of {allowed})")


class ConfiguratorCache:
    """LRU of compiled configurators keyed by product version id."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[int, Configurator] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[int, threading.Lock] = {}
        self.compilations = 0

    def get(self, version_id: int, build: Callable[[], Configurator]) -> Configurator:
        """The configurator of `version_id`, compiled by `build()` on a miss."""
        found = self._lookup(version_id)
        if found is not None:
            return found
        with self._lock:
            key_lock = self._building.setdefault(version_id, threading.Lock())
        with key_lock:
            found = self._lookup(version_id)
            if found is None:
                found = build()
                self.put(version_id, found)
        with self._lock:
            self._building.pop(version_id, None)
        return found

    def put(self, version_id: int, cfg: Configurator) -> None:
        with self._lock:
            self._items[version_id] = cfg
            self._items.move_to_end(version_id)
            self.compilations += 1
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def _lookup(self, version_id: int) -> Configurator | None:
        with self._lock:
            cfg = self._items.get(version_id)
            if cfg is not None:
                self._items.move_to_end(version_id)
            return cfg

    def __contains__(self, version_id: object) -> bool:
        with self._lock:
            return version_id in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = ConfiguratorCache()
"""The cache of this process."""
