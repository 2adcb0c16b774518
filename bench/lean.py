"""Load tools for measuring several replicas on one 2-core machine: a load generator and a Slack stand-in
that cost the machine as little as they can, so that the cores go to the replicas being compared.

``LeanSlack`` answers ``chat.unfurl`` itself (``{"ok": true}``, as Slack does) and notes its arrival by
the message ``ts`` in the body; every other Web API call (``auth.test`` at start-up, for instance) is
passed to a full :class:`FakeSlack`, which answers it as documented. ``LeanClient`` keeps one HTTP/1.1
connection per sender and writes requests built and signed before the clock starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Sequence
from typing import Self
from urllib.parse import urlsplit

import aiohttp

from bench.load import EVENTS_PATH, Signed
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.lifecycle import LoopbackServer, free_port

_OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 11\r\n\r\n{"ok":true}'
_TS = re.compile(rb'"ts":\s*"([0-9.]+)"')


class LeanSlack(LoopbackServer):
    def __init__(self, full: FakeSlack) -> None:
        self.full = full
        self.port = free_port()
        self.unfurls = 0
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._server: asyncio.Server | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def expect_unfurl(self, ts: str) -> asyncio.Future[float]:
        """The arrival time (``time.monotonic``) of the ``chat.unfurl`` for the message ``ts``."""
        future = asyncio.get_running_loop().create_future()
        self._waiters[ts] = future
        return future

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=1024)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        if self._session is not None:
            await self._session.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, _, header_lines = head.partition(b"\r\n")
                path = request_line.split(b" ")[1]
                headers = _headers(header_lines)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if path.endswith(b"/chat.unfurl"):
                    self._arrived(body)
                    writer.write(_OK)
                else:
                    writer.write(await self._forward(path.decode(), headers, body))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _arrived(self, body: bytes) -> None:
        self.unfurls += 1
        found = _TS.search(body)
        waiter = self._waiters.pop(found.group(1).decode(), None) if found else None
        if waiter is not None and not waiter.done():
            waiter.set_result(time.monotonic())

    async def _forward(self, path: str, headers: dict[str, str], body: bytes) -> bytes:
        assert self._session is not None
        passed = {k: v for k, v in headers.items() if k in ("authorization", "content-type")}
        async with self._session.post(self.full.url + path, data=body, headers=passed) as answer:
            content = await answer.read()
            kind = answer.headers.get("Content-Type", "application/json")
        head = f"HTTP/1.1 {answer.status} OK\r\nContent-Type: {kind}\r\nContent-Length: {len(content)}\r\n\r\n"
        return head.encode() + content


def _headers(lines: bytes) -> dict[str, str]:
    found = {}
    for line in lines.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name:
            found[name.strip().lower().decode()] = value.strip().decode()
    return found


class LeanClient:
    """``senders`` keep-alive connections spread evenly over the replicas' URLs, as a load balancer would."""

    def __init__(self, urls: Sequence[str], senders: int) -> None:
        self.urls = list(urls)
        self.senders = senders
        self._connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def open(self) -> Self:
        for index in range(self.senders):
            address = urlsplit(self.urls[index % len(self.urls)])
            self._connections.append(await asyncio.open_connection(address.hostname, address.port))
        return self

    @staticmethod
    def wire(request: Signed) -> bytes:
        """The request as bytes on the wire, built before the clock starts."""
        headers = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
        head = f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {len(request.body)}\r\n\r\n"
        return head.encode() + request.body

    async def send_all(self, wired: Sequence[bytes]) -> None:
        """Sends every request, each sender taking the next one once its last was answered (HTTP 200)."""
        queue = iter(wired)

        async def sender(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for request in queue:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"the app answered {head.splitlines()[0]!r}")
                length = _headers(head.partition(b"\r\n")[2]).get("content-length", "0")
                await reader.readexactly(int(length))

        await asyncio.gather(*(sender(*connection) for connection in self._connections))

    async def aclose(self) -> None:
        for _, writer in self._connections:
            writer.close()
        self._connections.clear()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
