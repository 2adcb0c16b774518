"""A real HTTP server that answers like Hamsa's conversation API, with injectable faults.

The bot's Hamsa client must survive slow, broken and hostile upstreams; exercising it against a
socket (rather than mocks) proves the timeouts, size limits and error mapping actually work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bot.sandbox.lifecycle import LoopbackServer
from bot.sandbox.samples import fresh_samples

CONVERSATION_ROUTE = "/v1/voice-agents/conversation/{id}"
MINIMAL_LIST_ROUTE = "/v1/voice-agents/conversations/minimal-list"
MAX_PER_PAGE = 200
_JSON = "application/json"

_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


@dataclass(frozen=True)
class Fault:
    """One way an upstream can misbehave; build it with the classmethods, not directly."""

    kind: str
    code: int = 200
    body: bytes = b""
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    chunk_delay: float = 0.0
    n_bytes: int = 0
    declare_length: bool = False

    @classmethod
    def status(
        cls,
        code: int,
        body: str | bytes | None = None,
        content_type: str = _JSON,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer `code` with `body` (a JSON error like Hamsa's by default)."""
        if body is None:
            body = json.dumps({"success": False, "message": _reason(code)})
        raw = body.encode() if isinstance(body, str) else body
        return cls("respond", code=code, body=raw, content_type=content_type, headers=_pairs(headers))

    @classmethod
    def rate_limited(cls, retry_after: float | int = 1) -> Fault:
        """429 with a Retry-After header, as a gateway enforcing a quota would send."""
        body = json.dumps({"success": False, "message": "Too many requests"})
        return cls.status(429, body, headers={"Retry-After": str(retry_after)})

    @classmethod
    def html(cls, code: int = 502) -> Fault:
        """An nginx error page: what a gateway answers when the API behind it is down."""
        page = _NGINX_PAGE.format(code=code, reason=_reason(code))
        return cls.status(code, page, content_type="text/html")

    @classmethod
    def malformed_json(cls) -> Fault:
        """200 with a JSON content type but a body cut off mid-object."""
        return cls.status(200, '{"success": true, "data": {')

    @classmethod
    def wrong_shape(cls) -> Fault:
        """200 with valid JSON whose `data` is not a conversation object."""
        return cls.status(200, json.dumps({"success": True, "message": "Success", "data": ["not", "an", "object"]}))

    @classmethod
    def oversized(cls, n_bytes: int = 10 * 1024 * 1024, *, declare_length: bool = False) -> Fault:
        """200 with a valid JSON body of about `n_bytes`, streamed (chunked unless `declare_length`)."""
        return cls("oversized", n_bytes=n_bytes, declare_length=declare_length)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait `seconds`, then answer normally."""
        return cls("delay", seconds=seconds)

    @classmethod
    def never_answer(cls) -> Fault:
        """Accept the request and hold it open until the client leaves or the server stops."""
        return cls("never_answer")

    @classmethod
    def drop(cls) -> Fault:
        """Close the TCP connection without sending anything."""
        return cls("drop")

    @classmethod
    def reset_midway(cls) -> Fault:
        """Send headers with a Content-Length and part of the body, then abort the connection."""
        return cls("reset_midway")

    @classmethod
    def trickle(cls, chunk_delay: float = 0.2, total_seconds: float = 30.0, chunk_size: int = 4) -> Fault:
        """Send the normal answer a few bytes at a time for `total_seconds`, then the rest."""
        return cls("trickle", chunk_delay=chunk_delay, seconds=total_seconds, n_bytes=chunk_size)


def _pairs(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((headers or {}).items())


@dataclass
class RecordedRequest:
    """A request as the fake received it, for assertions on headers, paths and timing."""

    method: str
    path: str
    headers: dict[str, str]
    conversation_id: str | None
    at: float


@dataclass
class _Pending:
    fault: Fault
    remaining: int
    conversation_id: str | None = None


class FakeHamsa(LoopbackServer):
    """Loopback Hamsa API: `GET /v1/voice-agents/conversation/{id}` with `Token` auth."""

    def __init__(
        self,
        conversations: dict[str, dict[str, Any]] | None = None,
        api_key: str = "test-hamsa-key",
        latency: float = 0.0,
    ) -> None:
        self.conversations: dict[str, dict[str, Any]] = conversations if conversations is not None else fresh_samples()
        self.api_key = api_key
        # Other accounts (API keys) and the conversations each may see; ``api_key`` sees every one.
        self.accounts: dict[str, set[str]] = {}
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Pending] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = asyncio.Event()

    @property
    def url(self) -> str:
        """Base URL to configure as the Hamsa API base, without a trailing slash."""
        if self._port is None:
            raise RuntimeError("FakeHamsa is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start answering."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get(CONVERSATION_ROUTE, self._handle_conversation)
        app.router.add_get(MINIMAL_LIST_ROUTE, self._handle_minimal_list)
        app.router.add_route("*", "/{tail:.*}", self._handle_other)
        self._closing = asyncio.Event()
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.25, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop promptly, releasing requests held open by faults."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        await asyncio.sleep(0)
        await runner.cleanup()

    def count(self, conversation_id: str | None = None) -> int:
        """How many requests arrived (for one conversation when `conversation_id` is given)."""
        if conversation_id is None:
            return len(self.requests)
        return sum(1 for r in self.requests if r.conversation_id == conversation_id)

    def inject(self, fault: Fault, times: int = 1, conversation_id: str | None = None) -> None:
        """Answer the next `times` matching requests with `fault` (`times=-1`: until cleared)."""
        if times == 0 or times < -1:
            raise ValueError("times must be positive or -1")
        self._faults.append(_Pending(fault, times, conversation_id))

    def clear_faults(self) -> None:
        """Drop every queued fault; requests get normal answers again."""
        self._faults.clear()

    def _take_fault(self, conversation_id: str | None) -> Fault | None:
        for pending in self._faults:
            if pending.conversation_id is not None and pending.conversation_id != conversation_id:
                continue
            if pending.remaining > 0:
                pending.remaining -= 1
                if pending.remaining == 0:
                    self._faults.remove(pending)
            return pending.fault
        return None

    def _record(self, request: web.Request, conversation_id: str | None) -> None:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                headers=dict(request.headers),
                conversation_id=conversation_id,
                at=time.monotonic(),
            )
        )

    async def _pause(self, seconds: float) -> bool:
        """Sleep `seconds`; return True early if the server is stopping."""
        if seconds <= 0:
            return self._closing.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        return self._closing.is_set()

    def add_account(self, api_key: str, conversation_ids: set[str] | None = None) -> None:
        """Another Hamsa account: its key sees only ``conversation_ids`` (none, when not given)."""
        self.accounts[api_key] = set(conversation_ids or ())

    def _visible(self, request: web.Request) -> Collection[str] | None:
        """The IDs of the conversations the request's key may see (all of them for ``api_key``); None: refused key."""
        auth = request.headers.get("Authorization", "")
        if auth == f"Token {self.api_key}":
            return self.conversations  # itself, not a copy: a mapping that makes up conversations decides
        for key, ids in self.accounts.items():
            if auth == f"Token {key}":
                return ids
        return None

    def _normal_answer(self, request: web.Request, conversation_id: str) -> tuple[int, bytes]:
        visible = self._visible(request)
        if visible is None:
            return 401, json.dumps({"success": False, "message": "Unauthorized"}).encode()
        conversation = self.conversations.get(conversation_id) if conversation_id in visible else None
        if conversation is None:
            body = {
                "success": False,
                "message": "Conversation not found",
                "messageKey": "CONVERSATION_NOT_FOUND",
            }
            return 404, json.dumps(body).encode()
        envelope = {"success": True, "message": "Success", "data": conversation}
        return 200, json.dumps(envelope, ensure_ascii=False).encode()

    async def _handle_minimal_list(self, request: web.Request) -> web.StreamResponse:
        self._record(request, None)
        if await self._pause(self.latency):
            return _abort(request)
        fault = self._take_fault(None)
        if fault is None:
            return _answer(*self._list_answer(request))
        return await self._apply(fault, request, lambda: self._list_answer(request))

    def _list_answer(self, request: web.Request) -> tuple[int, bytes]:
        """The documented minimal list: newest first, filtered by agent, status and createdAt (epoch ms)."""
        visible = self._visible(request)
        if visible is None:
            return 401, json.dumps({"success": False, "message": "Unauthorized"}).encode()
        query = request.query
        try:
            page = int(query.get("page", "1"))
            per_page = int(query.get("perPage", "100"))
            start = int(query["startTime"]) if "startTime" in query else None
            end = int(query["endTime"]) if "endTime" in query else None
        except ValueError:
            page = per_page = 0
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            return 400, json.dumps({"success": False, "message": "Bad Request"}).encode()
        statuses = set(query.getall("status", []))
        agent = query.get("voiceAgentId")
        everything = [self.conversations[i] for i in visible if i in self.conversations]
        matching = [
            c
            for c in everything
            if (not statuses or c.get("status") in statuses)
            and (agent is None or c.get("voiceAgentId") == agent)
            and _created_within(c, start, end)
        ]
        matching.sort(key=lambda c: str(c.get("createdAt") or ""), reverse=True)
        calls = [_minimal(c) for c in matching[(page - 1) * per_page : page * per_page]]
        data = {"total": len(everything), "filtered": len(matching), "calls": calls}
        return 200, json.dumps({"success": True, "message": "Success", "data": data}, ensure_ascii=False).encode()

    async def _handle_other(self, request: web.Request) -> web.StreamResponse:
        self._record(request, None)
        return web.json_response({"success": False, "message": "Not found"}, status=404)

    async def _handle_conversation(self, request: web.Request) -> web.StreamResponse:
        conversation_id = request.match_info["id"]
        self._record(request, conversation_id)
        if await self._pause(self.latency):
            return _abort(request)
        fault = self._take_fault(conversation_id)
        if fault is None:
            return _answer(*self._normal_answer(request, conversation_id))
        return await self._apply(fault, request, lambda: self._normal_answer(request, conversation_id))

    async def _apply(
        self, fault: Fault, request: web.Request, normal: Callable[[], tuple[int, bytes]]
    ) -> web.StreamResponse:
        """Answers as ``fault`` says; ``normal`` is the answer the route gives when all is well."""
        kind = fault.kind
        if kind == "respond":
            headers = {"Content-Type": fault.content_type, **dict(fault.headers)}
            return web.Response(status=fault.code, body=fault.body, headers=headers)
        if kind == "delay":
            if await self._pause(fault.seconds):
                return _abort(request)
            return _answer(*normal())
        if kind == "never_answer":
            await self._closing.wait()
            return _abort(request)
        if kind == "drop":
            return _abort(request)
        if kind == "reset_midway":
            return await self._reset_midway(request, *normal())
        if kind == "trickle":
            status, body = normal()
            return await self._trickle(request, fault, status, body)
        if kind == "oversized":
            return await self._oversized(request, fault)
        raise ValueError(f"unknown fault kind {kind!r}")

    async def _reset_midway(self, request: web.Request, status: int, body: bytes) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": _JSON})
        response.content_length = len(body)
        try:
            await response.prepare(request)
            await response.write(body[: max(1, len(body) // 3)])
            await self._pause(0.02)
        except ConnectionError:
            return response
        return _abort(request, response)

    async def _trickle(self, request: web.Request, fault: Fault, status: int, body: bytes) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": _JSON})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + fault.seconds
        step = max(1, fault.n_bytes)
        sent = 0
        try:
            await response.prepare(request)
            while sent < len(body) - step and loop.time() < deadline:
                await response.write(body[sent : sent + step])
                sent += step
                if await self._pause(fault.chunk_delay):
                    return _abort(request, response)
            await response.write(body[sent:])
        except ConnectionError:
            pass
        return response

    async def _oversized(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        head = b'{"success": true, "message": "Success", "data": {"id": "oversized", "padding": "'
        tail = b'"}}'
        chunk = 64 * 1024
        padding = max(0, fault.n_bytes - len(head) - len(tail))
        response = web.StreamResponse(status=200, headers={"Content-Type": _JSON})
        if fault.declare_length:
            response.content_length = len(head) + padding + len(tail)
        try:
            await response.prepare(request)
            await response.write(head)
            filler = b"x" * chunk
            remaining = padding
            while remaining > 0:
                if self._closing.is_set():
                    return _abort(request, response)
                piece = filler if remaining >= chunk else filler[:remaining]
                await response.write(piece)
                remaining -= len(piece)
            await response.write(tail)
        except ConnectionError:
            pass
        return response


def _created_within(conversation: dict[str, Any], start: int | None, end: int | None) -> bool:
    if start is None and end is None:
        return True
    try:
        created = datetime.fromisoformat(str(conversation.get("createdAt")).replace("Z", "+00:00"))
    except ValueError:
        return False
    millis = int(created.timestamp() * 1000)
    return (start is None or millis >= start) and (end is None or millis <= end)


def _minimal(conversation: dict[str, Any]) -> dict[str, Any]:
    """One item of the minimal list, as documented: a few fields of the conversation."""
    details = conversation.get("agentDetails")
    agent: dict[str, Any] = details if isinstance(details, dict) else {}
    return {
        "id": conversation.get("id"),
        "createdAt": conversation.get("createdAt"),
        "status": conversation.get("status"),
        "voiceAgentId": conversation.get("voiceAgentId"),
        "agentName": agent.get("agentName"),
        "duration": conversation.get("callDuration"),
        "channelType": conversation.get("channelType"),
        "callParams": conversation.get("callParams"),
    }


def _answer(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, headers={"Content-Type": f"{_JSON}; charset=utf-8"})


def _abort(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """Kill the connection; aiohttp then quietly treats it as a client disconnect."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return response if response is not None else web.Response(status=500)


class GatedHamsa(FakeHamsa):
    """Holds every conversation request until ``release`` is set, so a lookup is surely in flight.

    ``arrived`` is set when the first request comes in.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def _handle_conversation(self, request: web.Request) -> web.StreamResponse:
        self.arrived.set()
        await self.release.wait()
        return await super()._handle_conversation(request)
