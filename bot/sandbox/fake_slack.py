"""A real HTTP server that answers like Slack's Web API, its response_url endpoints and Socket Mode.

The app talks to it through slack_sdk (via `base_url`), so the exact requests the SDK sends are
parsed and checked the way Slack would: token, channel membership, Block Kit limits, rate limits
and the five-use rule of response URLs. For Socket Mode, `apps.connections.open` hands out a
WebSocket URL on this server, where tests push envelopes and read the app's acks. Tests await
recorded traffic instead of sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.blockkit import block_kit_problems, view_problems
from bot.sandbox.lifecycle import LoopbackServer

RESPONSE_URL_MAX_USES = 5
_JSON_FIELDS = ("blocks", "unfurls", "attachments", "metadata", "view", "outputs", "files")
_POSTING_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
CONNECTIONS_OPEN = "apps.connections.open"  # the one method called with the app-level token
OAUTH_ACCESS = "oauth.v2.access"  # called with the app's client_id and client_secret, not a token
AUTHORIZE_PATH = "/oauth/v2/authorize"
SOCKET_MODE_PATH = "/socket-mode"
UPLOAD_PATH = "/upload/v1"  # where files.getUploadURLExternal sends the bytes (files.slack.com in Slack)
APP_ID = "A0HAMSA"
# What the consent page grants (the scopes the app asks for in bot/installs.py).
GRANTED_SCOPES = (
    "commands,chat:write,links:read,links:write,app_mentions:read,users:read,channels:read,groups:read,files:write"
)

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Sandbox"
BOT_USER_ID = "U0HAMSABOT"
BOT_ID = "B0HAMSABOT"
AUTH_TEST = {
    "ok": True,
    "url": "https://sandbox.slack.com/",
    "team": TEAM_NAME,
    "user": "hamsa",
    "team_id": TEAM_ID,
    "user_id": BOT_USER_ID,
    "bot_id": BOT_ID,
    "is_enterprise_install": False,
}


@dataclass(frozen=True)
class SlackFault:
    """A Web API failure to inject for one method; build it with the classmethods."""

    status: int
    body: dict[str, Any]
    retry_after: float | int | None = None

    @classmethod
    def rate_limited(cls, retry_after: float | int = 1) -> SlackFault:
        """HTTP 429 with Retry-After, as Slack answers when a method's tier is exceeded."""
        return cls(429, {"ok": False, "error": "ratelimited"}, retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> SlackFault:
        """A 5xx from Slack's edge."""
        return cls(status, {"ok": False, "error": "internal_error"})

    @classmethod
    def error(cls, error: str) -> SlackFault:
        """HTTP 200 with `ok: false` and the given error code."""
        return cls(200, {"ok": False, "error": error})


@dataclass
class SlackCall:
    """One Web API call, with params merged from query, form and JSON; ``team`` is whose token it used."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    answer: dict[str, Any] | None = None
    team: str | None = None


@dataclass(frozen=True)
class SandboxTeam:
    """A workspace (or, with ``org_install``, an Enterprise Grid organisation) the app is installed in."""

    team_id: str | None
    name: str
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    org_install: bool = False
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID

    @property
    def key(self) -> str:
        """Which installation a token belongs to: the team, or the organisation for an org-wide install."""
        return f"{self.enterprise_id or '-'}/{'-' if self.org_install else self.team_id}"

    def auth_test(self) -> dict[str, Any]:
        # https://api.slack.com/methods/auth.test#examples
        answer = {
            "ok": True,
            "url": f"https://{self.name.lower().replace(' ', '-')}.slack.com/",
            "team": self.name,
            "user": "hamsa",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": self.org_install,
        }
        if self.enterprise_id:
            answer["enterprise_id"] = self.enterprise_id
        return answer


SANDBOX_TEAM = SandboxTeam(team_id=TEAM_ID, name=TEAM_NAME)


@dataclass
class SandboxUser:
    """A person in a workspace, as ``users.info`` describes them."""

    user_id: str
    team_id: str
    name: str = "someone"
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    tz: str = "Asia/Dubai"
    tz_offset: int = 4 * 3600

    def info(self) -> dict[str, Any]:
        # https://api.slack.com/methods/users.info#examples
        return {
            "id": self.user_id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.name.title(),
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1700000000,
            "profile": {"real_name": self.name.title(), "display_name": self.name, "team": self.team_id},
        }


@dataclass
class SandboxChannel:
    """A conversation as ``conversations.info`` describes it.

    Channels the stand-in was not told about are public ones of the workspace (``C…``), not shared; a
    private channel, DM or group DM (``G…``/``D…``) it was not told about is one the bot can't see.
    """

    channel_id: str
    name: str = "channel"
    is_private: bool = False
    is_ext_shared: bool = False
    is_pending_ext_shared: bool = False

    def info(self, team: SandboxTeam, *, is_member: bool) -> dict[str, Any]:
        # https://api.slack.com/methods/conversations.info#examples and
        # https://docs.slack.dev/reference/objects/conversation-object
        team_ids = [team.team_id] + (["T0PARTNER"] if self.is_ext_shared else [])
        return {
            "id": self.channel_id,
            "name": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": 1449252889,
            "is_archived": False,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": self.is_ext_shared,
            "is_frozen": False,
            "is_org_shared": False,
            "is_pending_ext_shared": self.is_pending_ext_shared,
            "pending_shared": ["T0PARTNER"] if self.is_pending_ext_shared else [],
            "context_team_id": team.team_id,
            "updated": 1689965803820,
            "parent_conversation": None,
            "creator": "W0CREATOR",
            "is_ext_shared": self.is_ext_shared,
            "shared_team_ids": team_ids,
            "pending_connected_team_ids": ["T0PARTNER"] if self.is_pending_ext_shared else [],
            "is_member": is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }


@dataclass
class SandboxFile:
    """A file uploaded as files.uploadV2 does it: announced, its bytes posted, then completed into a channel.

    https://api.slack.com/messaging/files#uploading_files
    """

    file_id: str
    filename: str
    length: int
    team: str
    upload_token: str
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False

    @property
    def text(self) -> str:
        return (self.content or b"").decode()


@dataclass
class FunctionExecution:
    """One run of the app's workflow step: its ID and token (as ``function_executed`` carries them), and its end.

    https://api.slack.com/methods/functions.completeSuccess, https://api.slack.com/methods/functions.completeError
    """

    execution_id: str
    bot_access_token: str
    team: SandboxTeam
    outputs: dict[str, Any] | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.outputs is None and self.error is None


@dataclass
class _Grant:
    """An authorization code Slack's consent page would hand back, waiting for ``oauth.v2.access``."""

    team: SandboxTeam
    installer: str
    redirect_uri: str | None
    rotation: bool


@dataclass
class _Token:
    team: SandboxTeam
    expires_at: float | None = None


@dataclass
class SlackResponse:
    """One accepted POST to a response_url."""

    token: str
    url: str
    body: dict[str, Any]
    at: float


@dataclass
class _ResponseUrl:
    uses: int = 0
    expired: bool = False


class FakeSlack(LoopbackServer):
    """Loopback Slack: `POST /api/{method}`, `/response/{token}` webhooks and a Socket Mode WebSocket."""

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        port: int = 0,
        *,
        client_id: str = "1111.2222",
        client_secret: str = "sandbox-client-secret",
    ) -> None:
        """``port`` 0 takes a free one; a given one lets a test bring Slack back where the app expects it."""
        self.bot_token = bot_token
        self.app_token = app_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.default_team = SANDBOX_TEAM
        self._tokens: dict[str, _Token] = {bot_token: _Token(self.default_team)}
        self._refresh_tokens: dict[str, SandboxTeam] = {}
        self._grants: dict[str, _Grant] = {}
        self.users: dict[tuple[str, str], SandboxUser] = {}
        # Who approves on the consent page (GET /oauth/v2/authorize): set it before a browser gets there.
        self.consenting: tuple[SandboxTeam, str, bool] = (self.default_team, "U0INSTALLER", False)
        self.token_lifetime = 12 * 3600
        # The app's redirect URL as configured with Slack: where consent goes when the app names none.
        self.redirect_url: str | None = None
        self.socket_acks: list[dict[str, Any]] = []
        self._socket_tickets: set[str] = set()
        self._socket: web.WebSocketResponse | None = None
        self.calls: list[SlackCall] = []
        self.files: dict[str, SandboxFile] = {}
        self.function_executions: dict[str, FunctionExecution] = {}
        self.responses: list[SlackResponse] = []
        self.rejected_responses: list[tuple[str, str]] = []
        self.non_member_channels: set[str] = set()
        self.channels: dict[str, SandboxChannel] = {}
        self.archived_channels: set[str] = set()
        # Messages the app posted, by (channel, ts): chat.update finds them here, as Slack would.
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._faults: dict[str, list[list[Any]]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._ts_counter = 0
        self._view_counter = 0
        self._runner: web.AppRunner | None = None
        self._requested_port = port
        self._port: int | None = None
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        """Server root, without a trailing slash."""
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """Web API base URL for slack_sdk's `base_url` (with the trailing slash it expects)."""
        return f"{self.url}/api/"

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start answering."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_route("*", "/response/{token}", self._handle_response_url)
        app.router.add_route("*", UPLOAD_PATH + "/{token}", self._handle_upload)
        app.router.add_get(SOCKET_MODE_PATH + "/{ticket}", self._handle_socket)
        app.router.add_get(AUTHORIZE_PATH, self._handle_authorize)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.25, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._requested_port)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop answering and close every connection."""
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close(code=WSCloseCode.GOING_AWAY)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ---- inspection -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        """Every recorded call to `method`, oldest first."""
        return [call for call in self.calls if call.method == method]

    def responses_to(self, url: str) -> list[SlackResponse]:
        """Every accepted POST to one response_url, oldest first."""
        return [response for response in self.responses if response.url == url]

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Wait until `method` was called at least `count` times; return all those calls."""
        await self._wait(
            lambda: len(self.calls_to(method)) >= count,
            timeout,
            lambda: (
                f"expected {count} call(s) to {method}, got {len(self.calls_to(method))}; "
                f"calls received: {self._call_summary()}"
            ),
        )
        return self.calls_to(method)

    async def wait_for_responses(
        self, count: int = 1, timeout: float = 5.0, url: str | None = None
    ) -> list[SlackResponse]:
        """Wait until `count` response_url posts arrived (to `url` if given); return them."""

        def matching() -> list[SlackResponse]:
            return self.responses if url is None else self.responses_to(url)

        await self._wait(
            lambda: len(matching()) >= count,
            timeout,
            lambda: (
                f"expected {count} response_url post(s){' to ' + url if url else ''}, "
                f"got {len(matching())}; responses: {[r.body for r in self.responses]!r:.2000}; "
                f"rejected: {self.rejected_responses!r:.500}; "
                f"calls received: {self._call_summary()}"
            ),
        )
        return list(matching())

    async def wait_for_function_end(self, execution: FunctionExecution, timeout: float = 5.0) -> FunctionExecution:
        """Wait until the app ended this run of its step (functions.completeSuccess or completeError)."""
        await self._wait(
            lambda: not execution.running,
            timeout,
            lambda: f"the step {execution.execution_id} is still running; calls received: {self._call_summary()}",
        )
        return execution

    async def wait_for_socket_connection(self, timeout: float = 5.0, *, connected: bool = True) -> None:
        """Wait until the app holds an open Socket Mode connection (and was sent `hello`).

        With `connected=False`: wait until it holds none (it closed the connection).
        """
        await self._wait(
            lambda: (self._socket is not None) == connected,
            timeout,
            lambda: (
                f"expected the Socket Mode connection {'open' if connected else 'closed'}; "
                f"calls received: {self._call_summary()}"
            ),
        )

    async def wait_for_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the app's acknowledgement of one envelope; return it (`envelope_id`, maybe `payload`)."""
        acks: list[dict[str, Any]] = []

        def acked() -> bool:
            acks[:] = [ack for ack in self.socket_acks if ack.get("envelope_id") == envelope_id]
            return bool(acks)

        await self._wait(acked, timeout, lambda: f"no ack for envelope {envelope_id}; acks: {self.socket_acks!r:.1000}")
        return acks[0]

    async def _wait(self, done: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(done)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s: {describe()}") from None

    def _call_summary(self) -> str:
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.method] = counts.get(call.method, 0) + 1
        return ", ".join(f"{m} x{n}" for m, n in counts.items()) or "none"

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- faults and response URLs -----------------------------------------------------------

    def inject(self, method: str, fault: SlackFault, times: int = 1) -> None:
        """Answer the next `times` calls to `method` with `fault` (`times=-1`: until cleared)."""
        if times == 0 or times < -1:
            raise ValueError("times must be positive or -1")
        self._faults.setdefault(method, []).append([fault, times])

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self._faults.clear()

    def _take_fault(self, method: str) -> SlackFault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        entry = queue[0]
        if entry[1] > 0:
            entry[1] -= 1
            if entry[1] == 0:
                queue.pop(0)
        return entry[0]

    def new_function_execution(self, team: SandboxTeam | None = None) -> FunctionExecution:
        """A workflow running the app's step in ``team``: the execution's ID and its own short-lived token."""
        team = team or self.default_team
        execution = FunctionExecution(
            execution_id=f"Fx{secrets.token_hex(5).upper()}",
            bot_access_token=f"xwfp-{secrets.randbelow(10**12)}-{secrets.token_hex(16)}",
            team=team,
        )
        self._tokens[execution.bot_access_token] = _Token(team)
        self.function_executions[execution.execution_id] = execution
        return execution

    def completed_files(self) -> list[SandboxFile]:
        """Every file shared with files.completeUploadExternal, oldest first."""
        return [f for f in self.files.values() if f.completed]

    def new_response_url(self) -> str:
        """Mint a response_url good for five posts, like the one Slack puts in each interaction."""
        token = secrets.token_urlsafe(18)
        self._response_urls[token] = _ResponseUrl()
        return f"{self.url}/response/{token}"

    def expire(self, url: str) -> None:
        """Make a response_url answer `expired_url`, as Slack does after 30 minutes."""
        token = urlsplit(url).path.rsplit("/", 1)[-1]
        self._response_urls.setdefault(token, _ResponseUrl()).expired = True

    # ---- Socket Mode --------------------------------------------------------------------------

    async def send_envelope(
        self, envelope_type: str, payload: dict[str, Any], *, accepts_response_payload: bool | None = None
    ) -> str:
        """Deliver one request over the Socket Mode connection, as Slack does; return its envelope_id.

        `envelope_type` is `slash_commands`, `events_api` or `interactive`, and `payload` what Slack
        would POST over HTTP, as JSON (the form fields of a slash command, the `event_callback`, the
        interaction). `accepts_response_payload` defaults to Slack's: true for slash commands only.
        """
        socket = self._socket
        if socket is None:
            raise RuntimeError("no Socket Mode connection: await wait_for_socket_connection() first")
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = envelope_type == "slash_commands"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        await socket.send_json(envelope)
        return envelope_id

    def _new_socket_url(self) -> str:
        ticket = secrets.token_urlsafe(18)
        self._socket_tickets.add(ticket)
        return f"ws://127.0.0.1:{self._port}{SOCKET_MODE_PATH}/{ticket}"

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["ticket"] not in self._socket_tickets:
            raise web.HTTPNotFound(text="invalid_ticket")
        socket = web.WebSocketResponse()  # answers the client's pings with pongs on its own
        await socket.prepare(request)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._socket = socket
        await self._notify()
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    ack = json.loads(message.data)
                except ValueError:
                    continue
                if isinstance(ack, dict):
                    self.socket_acks.append(ack)
                    await self._notify()
        finally:
            if self._socket is socket:
                self._socket = None
                await self._notify()
        return socket

    # ---- handlers ---------------------------------------------------------------------------

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        url = f"{self.url}/response/{token}"
        status, text, body = await self._judge_response(request, token)
        if body is None:
            self.rejected_responses.append((url, text))
        else:
            self.responses.append(SlackResponse(token, url, body, time.monotonic()))
        await self._notify()
        return web.Response(status=status, text=text)

    async def _judge_response(self, request: web.Request, token: str) -> tuple[int, str, dict[str, Any] | None]:
        state = self._response_urls.get(token)
        if request.method != "POST":
            return 405, "invalid_method", None
        if state is None:
            return 404, "invalid_url", None
        if state.expired:
            return 404, "expired_url", None
        if state.uses >= RESPONSE_URL_MAX_USES:
            return 404, "used_url", None
        try:
            body = json.loads(await request.text())
        except ValueError:
            return 400, "invalid_payload", None
        if not isinstance(body, dict):
            return 400, "invalid_payload", None
        blocks = body.get("blocks")
        if blocks is not None and block_kit_problems(blocks):
            return 400, "invalid_blocks", None
        state.uses += 1
        return 200, "ok", body

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal handed out: the file's bytes, raw or as a form's file.

        https://api.slack.com/methods/files.getUploadURLExternal: "Upload a file by making a POST request
        to the upload URL"; Slack answers 200 with ``OK - <bytes>``.
        """
        token = request.match_info["token"]
        found = next((f for f in self.files.values() if f.upload_token == token), None)
        if request.method != "POST" or found is None or found.completed:
            return web.Response(status=404, text="not_found")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = next((v for v in form.values() if isinstance(v, web.FileField)), None)
            body = part.file.read() if part is not None else b""
        else:
            body = await request.read()
        found.content = body
        await self._notify()
        return web.Response(text=f"OK - {len(body)}")

    def _upload_url(self, params: dict[str, Any], team: SandboxTeam) -> dict[str, Any]:
        """files.getUploadURLExternal: https://api.slack.com/methods/files.getUploadURLExternal"""
        filename, length = params.get("filename"), str(params.get("length", ""))
        if not isinstance(filename, str) or not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        token = secrets.token_urlsafe(18)
        file_id = f"F{secrets.token_hex(5).upper()}"
        self.files[file_id] = SandboxFile(file_id, filename, int(length), team.key, token)
        return {"ok": True, "upload_url": f"{self.url}{UPLOAD_PATH}/{token}", "file_id": file_id}

    def _complete_upload(self, params: dict[str, Any], team: SandboxTeam) -> dict[str, Any]:
        """files.completeUploadExternal: https://api.slack.com/methods/files.completeUploadExternal"""
        listed = params.get("files")
        channel = params.get("channel_id")
        thread_ts = params.get("thread_ts")
        if not isinstance(listed, list) or not listed or (thread_ts and not channel):
            return {"ok": False, "error": "invalid_arguments"}
        if channel in self.non_member_channels:
            return {"ok": False, "error": "not_in_channel"}
        found = []
        for item in listed:
            file = self.files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if file is None or file.team != team.key or file.content is None or file.completed:
                return {"ok": False, "error": "file_not_found"}
            if len(file.content) != file.length:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            found.append((file, item.get("title")))
        for file, title in found:
            file.title = str(title) if title else file.filename
            file.channel, file.thread_ts, file.completed = channel, thread_ts, True
            file.initial_comment = params.get("initial_comment")
        return {"ok": True, "files": [{"id": f.file_id, "title": f.title, "name": f.filename} for f, _ in found]}

    def _complete_function(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """functions.completeSuccess / completeError, with the token the execution's event carried."""
        execution = self.function_executions.get(str(params.get("function_execution_id", "")))
        if execution is None:
            return {"ok": False, "error": "function_execution_not_found"}
        if token != execution.bot_access_token:
            return {"ok": False, "error": "access_denied"}
        if not execution.running:
            return {"ok": False, "error": "execution_not_in_running_state"}
        if method == "functions.completeSuccess":
            outputs = params.get("outputs")
            if not isinstance(outputs, dict):
                return {"ok": False, "error": "invalid_arguments"}
            execution.outputs = outputs
        else:
            error = params.get("error")
            if not isinstance(error, str) or not error:
                return {"ok": False, "error": "invalid_arguments"}
            execution.error = error
        return {"ok": True}

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        call = SlackCall(method, params, dict(request.headers), time.monotonic())
        self.calls.append(call)
        status, headers = 200, None
        fault = self._take_fault(method)
        if fault is not None:
            status, call.answer = fault.status, dict(fault.body)
            if fault.retry_after is not None:
                headers = {"Retry-After": str(fault.retry_after)}
        elif method == OAUTH_ACCESS:
            call.answer = self._oauth_access(request, params)
        elif method == CONNECTIONS_OPEN:
            ok = _token_of(request, params) == self.app_token
            call.answer = {"ok": True, "url": self._new_socket_url()} if ok else {"ok": False, "error": "invalid_auth"}
        else:
            token = _token_of(request, params)
            team, problem = self._team_of(token)
            call.team = team.key if team else None
            if team is None:
                call.answer = {"ok": False, "error": problem}
            elif method in ("functions.completeSuccess", "functions.completeError"):
                call.answer = self._complete_function(method, params, token)
            else:
                call.answer = self._answer(method, params, team)
        await self._notify()
        return web.json_response(call.answer, status=status, headers=headers)

    def _team_of(self, token: str | None) -> tuple[SandboxTeam | None, str]:
        held = self._tokens.get(token or "")
        if held is None:
            return None, "invalid_auth" if token else "not_authed"
        if held.expires_at is not None and time.time() >= held.expires_at:
            return None, "token_expired"
        return held.team, ""

    # ---- installs (OAuth) -------------------------------------------------------------------

    def add_user(self, user: SandboxUser) -> SandboxUser:
        """Someone ``users.info`` knows; unknown users are answered ``user_not_found``."""
        self.users[(user.team_id, user.user_id)] = user
        return user

    def add_channel(self, channel: SandboxChannel) -> SandboxChannel:
        """A channel ``conversations.info`` knows (shared with another organisation, private, …)."""
        self.channels[channel.channel_id] = channel
        return channel

    def _conversation_info(self, channel_id: str, team: SandboxTeam) -> dict[str, Any]:
        """``conversations.info``: private channels, DMs and group DMs only when the bot is in them."""
        channel = self.channels.get(channel_id)
        if channel is None and channel_id.startswith("C"):
            channel = SandboxChannel(channel_id, name=channel_id.lower())
        is_member = channel_id not in self.non_member_channels
        if channel is None or (channel.is_private and not is_member):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": channel.info(team, is_member=is_member)}

    def grant(
        self, team: SandboxTeam, installer: str, *, redirect_uri: str | None = None, rotation: bool = False
    ) -> str:
        """What Slack's consent page does when ``installer`` approves: a one-time code for ``oauth.v2.access``."""
        code = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self._grants[code] = _Grant(team, installer, redirect_uri, rotation)
        return code

    def expire_token(self, token: str) -> None:
        """Make a bot token answer ``token_expired`` from now on, as Slack does past its expiry."""
        self._tokens[token].expires_at = 0

    def bot_tokens_of(self, team: SandboxTeam) -> list[str]:
        return [token for token, held in self._tokens.items() if held.team.key == team.key]

    @property
    def authorize_url(self) -> str:
        return f"{self.url}{AUTHORIZE_PATH}"

    async def _handle_authorize(self, request: web.Request) -> web.Response:
        """Slack's consent page, already approved by ``self.consenting``: a link back to the app with a code.

        https://api.slack.com/authentication/oauth-v2#asking: Slack redirects to ``redirect_uri`` with
        ``code`` and the ``state`` it was given.
        """
        query = request.query
        if query.get("client_id") != self.client_id:
            return web.Response(status=400, text="invalid_client_id")
        team, installer, rotation = self.consenting
        redirect_uri = query.get("redirect_uri")
        code = self.grant(team, installer, redirect_uri=redirect_uri, rotation=rotation)
        target = f"{redirect_uri or self.redirect_url}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        page = (
            "<!doctype html><title>Slack</title><h1>Hamsa is requesting permission to access the "
            f"{html.escape(team.name)} Slack workspace</h1>"
            f'<a id="allow" href="{html.escape(target)}">Allow</a>'
        )
        return web.Response(text=page, content_type="text/html")

    def _oauth_access(self, request: web.Request, params: dict[str, Any]) -> dict[str, Any]:
        """``oauth.v2.access``: a code for tokens, or (token rotation) a refresh token for new ones.

        https://api.slack.com/methods/oauth.v2.access and https://api.slack.com/authentication/rotation
        """
        client_id, client_secret = _client_credentials(request, params)
        if client_id != self.client_id or client_secret != self.client_secret:
            return {"ok": False, "error": "invalid_client_id" if client_id != self.client_id else "bad_client_secret"}
        if params.get("grant_type") == "refresh_token":
            team = self._refresh_tokens.get(str(params.get("refresh_token", "")))
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            token = self._new_bot_token(team, rotation=True)
            return {
                "ok": True,
                "app_id": APP_ID,
                "access_token": token,
                "expires_in": self.token_lifetime,
                "refresh_token": params["refresh_token"],
                "token_type": "bot",
                "scope": GRANTED_SCOPES,
                "bot_user_id": team.bot_user_id,
                "team": {"id": team.team_id, "name": team.name} if team.team_id else None,
                "enterprise": {"id": team.enterprise_id, "name": team.enterprise_name} if team.enterprise_id else None,
                "is_enterprise_install": team.org_install,
            }
        grant = self._grants.pop(str(params.get("code", "")), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        if grant.redirect_uri is not None and params.get("redirect_uri") not in (None, grant.redirect_uri):
            return {"ok": False, "error": "bad_redirect_uri"}
        team = grant.team
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": grant.installer},
            "scope": GRANTED_SCOPES,
            "token_type": "bot",
            "access_token": self._new_bot_token(team, rotation=grant.rotation),
            "bot_user_id": team.bot_user_id,
            "team": None if team.org_install else {"id": team.team_id, "name": team.name},
            "enterprise": {"id": team.enterprise_id, "name": team.enterprise_name} if team.enterprise_id else None,
            "is_enterprise_install": team.org_install,
        }
        if grant.rotation:
            refresh = f"xoxe-1-{secrets.token_hex(24)}"
            self._refresh_tokens[refresh] = team
            answer.update(refresh_token=refresh, expires_in=self.token_lifetime)
        return answer

    def _new_bot_token(self, team: SandboxTeam, *, rotation: bool) -> str:
        prefix = "xoxe.xoxb-1-" if rotation else "xoxb-"
        token = f"{prefix}{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"
        self._tokens[token] = _Token(team, time.time() + self.token_lifetime if rotation else None)
        return token

    def _answer(self, method: str, params: dict[str, Any], team: SandboxTeam) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if method in _POSTING_METHODS:
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if channel in self.archived_channels:
                return {"ok": False, "error": "is_archived"}
            if channel in self.non_member_channels:
                return {"ok": False, "error": "not_in_channel"}
        for blocks, surface in _blocks_in(method, params):
            if block_kit_problems(blocks, surface=surface):
                return {"ok": False, "error": "invalid_blocks"}
        if method.startswith("views.") and view_problems(params.get("view")):
            return {"ok": False, "error": "invalid_arguments"}

        if method == "auth.test":
            return team.auth_test()
        if method == "users.info":
            user = self.users.get((str(team.team_id), str(params.get("user", ""))))
            return {"ok": True, "user": user.info()} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.info":
            return self._conversation_info(channel, team)
        if method == "views.publish":
            if not params.get("user_id"):
                return {"ok": False, "error": "invalid_arguments"}
            return self._view_answer(method, params, team)
        if method == "chat.postMessage":
            # A user's ID as the channel posts in the app's direct messages with them, and the answer
            # names that conversation (https://docs.slack.dev/reference/methods/chat.postMessage#app_home).
            channel = dm_channel_of(channel) if channel[:1] in ("U", "W") else channel
            ts = self._next_ts()
            message: dict[str, Any] = {
                "type": "message",
                "user": team.bot_user_id,
                "bot_id": team.bot_id,
                "text": params.get("text", ""),
                "ts": ts,
            }
            if "blocks" in params:
                message["blocks"] = params["blocks"]
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            self.messages[channel, ts] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            # https://api.slack.com/methods/chat.update: only messages the app posted, found by channel and ts.
            found = self.messages.get((channel, str(params.get("ts", ""))))
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            found.update({key: params[key] for key in ("text", "blocks") if key in params})
            return {"ok": True, "channel": channel, "ts": params["ts"], "text": params.get("text", "")}
        if method == "chat.unfurl":
            if not params.get("unfurls"):
                return {"ok": False, "error": "invalid_arguments"}
            return {"ok": True}
        if method in ("views.open", "views.update", "views.push"):
            return self._view_answer(method, params, team)
        if method == "files.getUploadURLExternal":
            return self._upload_url(params, team)
        if method == "files.completeUploadExternal":
            return self._complete_upload(params, team)
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://sandbox.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        return {"ok": False, "error": "unknown_method"}

    def _view_answer(self, method: str, params: dict[str, Any], team: SandboxTeam) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if method in ("views.open", "views.push") and not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if method == "views.update" and params.get("view_id"):
            view_id = str(params["view_id"])
        else:
            self._view_counter += 1
            view_id = f"V0SANDBOX{self._view_counter:04d}"
        answer = {
            **view,
            "id": view_id,
            "team_id": team.team_id,
            "app_id": APP_ID,
            "bot_id": team.bot_id,
            "hash": secrets.token_hex(8),
        }
        return {"ok": True, "view": answer}

    def _next_ts(self) -> str:
        self._ts_counter += 1
        micros = self._ts_counter * 100
        return f"{1700000000 + micros // 1_000_000}.{micros % 1_000_000:06d}"


def dm_channel_of(user_id: str) -> str:
    """The ID of the app's direct messages with ``user_id`` (in the sandbox, derived from it)."""
    return "D" + user_id[1:]


def _client_credentials(request: web.Request, params: dict[str, Any]) -> tuple[str | None, str | None]:
    """client_id and client_secret, from HTTP Basic auth (as slack_sdk sends them) or the form."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return user, password
    return params.get("client_id"), params.get("client_secret")


def _token_of(request: web.Request, params: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip()
    token = params.get("token")
    return token if isinstance(token, str) else None


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query, form and JSON arguments the way Slack's API accepts them."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.text() or "{}")
            except ValueError:
                body = {}
            if isinstance(body, dict):
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                continue
    return params


def _blocks_in(method: str, params: dict[str, Any]) -> list[tuple[Any, str]]:
    """The block lists Slack would validate for this call, with the surface they render on."""
    found: list[tuple[Any, str]] = []
    if method in _POSTING_METHODS and "blocks" in params:
        found.append((params["blocks"], "message"))
    if method == "chat.unfurl" and isinstance(params.get("unfurls"), dict):
        for unfurl in params["unfurls"].values():
            if isinstance(unfurl, dict) and "blocks" in unfurl:
                found.append((unfurl["blocks"], "message"))
    if method.startswith("views.") and isinstance(params.get("view"), dict) and "blocks" in params["view"]:
        surface = "home" if params["view"].get("type") == "home" else "modal"
        found.append((params["view"]["blocks"], surface))
    return found
