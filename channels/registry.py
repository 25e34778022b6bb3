"""Channel name -> adapter. Built once per process in `api.wiring.build_channels`."""

from __future__ import annotations

from collections.abc import Iterator

from channels.base import Channel
from core.errors import InvalidInput


class ChannelRegistry:
    """The adapters this process can send through; `phone` is added by the call center."""

    def __init__(self) -> None:
        self._adapters: dict[str, Channel] = {}

    def register(self, channel: Channel) -> None:
        self._adapters[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._adapters.get(name)

    def require(self, name: str, *, field: str = "channel") -> Channel:
        """The adapter for `name`, or InvalidInput naming `field` (used at validation)."""
        adapter = self._adapters.get(name)
        if adapter is None:
            known = ", ".join(sorted(self._adapters)) or "none"
            raise InvalidInput(field, f"no {name!r} channel in this deployment (have: {known})")
        return adapter

    def names(self) -> frozenset[str]:
        return frozenset(self._adapters)

    def __contains__(self, name: object) -> bool:
        return name in self._adapters

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._adapters.values())

    def close(self) -> None:
        for adapter in self._adapters.values():
            adapter.close()
