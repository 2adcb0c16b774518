"""``async with`` for the loopback servers: started on entry, stopped on exit."""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from typing import Self


def free_port() -> int:
    """A loopback port nothing listens on now (for a process that must be told its port, or a refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackServer(ABC):
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
