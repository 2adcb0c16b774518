"""``async with`` for the loopback servers: started on entry, stopped on exit."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self


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
