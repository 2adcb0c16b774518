"""Signed requests shaped exactly like the ones Slack delivers to an app.

Tests, the demo and the benchmarks drive the app through its real HTTP endpoint with these, so
signature checks, Bolt's body parsing and the 3-second ack path are all exercised end to end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

import httpx

from bot.sandbox.fake_slack import AUTH_TEST, SANDBOX_TEAM, SandboxTeam

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

TEAM_ID = str(AUTH_TEST["team_id"])
TEAM_DOMAIN = "sandbox"
API_APP_ID = "A0HAMSA"
BOT_USER_ID = AUTH_TEST["user_id"]
VERIFICATION_TOKEN = "sandboxVerificationToken0"
DEFAULT_CHANNEL = "C0SUPPORT"
DEFAULT_USER = "U0ALICE"

_last_micros = 0


def sign(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request-signing headers for `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def new_ts() -> str:
    """A fresh, strictly increasing Slack message timestamp ("seconds.micros")."""
    global _last_micros
    _last_micros = max(int(time.time() * 1_000_000), _last_micros + 1)
    return f"{_last_micros // 1_000_000}.{_last_micros % 1_000_000:06d}"


def new_trigger_id() -> str:
    """A trigger_id in Slack's format."""
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"


def _channel_name(channel_id: str) -> str:
    if channel_id == DEFAULT_CHANNEL:
        return "support"
    if channel_id.startswith("D"):
        return "directmessage"
    return channel_id.lower()


def _user(user_id: str, team: SandboxTeam = SANDBOX_TEAM) -> dict[str, Any]:
    name = user_id.removeprefix("U0").lower() or "user"
    return {"id": user_id, "username": name, "name": name, "team_id": team.team_id}


def _domain(team: SandboxTeam) -> str:
    return TEAM_DOMAIN if team == SANDBOX_TEAM else str(team.team_id or team.enterprise_id).lower()


def slash_command(
    text: str,
    *,
    response_url: str,
    user_id: str = DEFAULT_USER,
    channel_id: str = DEFAULT_CHANNEL,
    command: str = "/hamsa",
    trigger_id: str | None = None,
    channel_name: str | None = None,
    team: SandboxTeam = SANDBOX_TEAM,
) -> tuple[str, str]:
    """A slash-command body, form-encoded with every field Slack sends."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team.team_id or "",
        "team_domain": _domain(team),
        "enterprise_id": team.enterprise_id or "",
        "channel_id": channel_id,
        "channel_name": channel_name or _channel_name(channel_id),
        "user_id": user_id,
        "user_name": _user(user_id)["name"],
        "command": command,
        "text": text,
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "true" if team.org_install else "false",
    }
    if team.enterprise_id:
        fields["enterprise_name"] = team.enterprise_name or ""
    return urlencode(fields), FORM


def event_callback(
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    team: SandboxTeam = SANDBOX_TEAM,
    is_ext_shared_channel: bool = False,
) -> tuple[str, str]:
    """An Events API `event_callback` envelope around `event`, as JSON.

    https://api.slack.com/apis/connections/events-api#callback-field: for an org-wide install the
    authorization has the organisation and no team; `is_ext_shared_channel` is true for an event in a
    channel shared with other organisations (Slack Connect).
    """
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team.team_id,
        "enterprise_id": team.enterprise_id,
        "context_team_id": team.team_id,
        "context_enterprise_id": team.enterprise_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": team.enterprise_id,
                "team_id": None if team.org_install else team.team_id,
                "user_id": team.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": team.org_install,
            }
        ],
        "is_ext_shared_channel": is_ext_shared_channel,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    return json.dumps(envelope), JSON


def app_rate_limited(minute_rate_limited: int, *, team_id: str = TEAM_ID) -> tuple[str, str]:
    """The notice Slack sends, outside any ``event_callback``, for each minute it drops the app's events.

    https://api.slack.com/apis/connections/events-api#rate-limiting
    """
    notice = {
        "token": VERIFICATION_TOKEN,
        "type": "app_rate_limited",
        "team_id": team_id,
        "minute_rate_limited": minute_rate_limited,
        "api_app_id": API_APP_ID,
    }
    return json.dumps(notice), JSON


def link_shared_event(
    urls: list[str],
    *,
    channel: str = DEFAULT_CHANNEL,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    source: str = "conversations_history",
    unfurl_id: str | None = None,
    user: str = DEFAULT_USER,
    is_bot_user_member: bool = True,
) -> dict[str, Any]:
    """A `link_shared` event; `source="composer"` gives the variant sent while the user types."""
    composer = source == "composer"
    if composer:
        channel = "COMPOSER"
        is_bot_user_member = False
        message_ts = message_ts or f"{user}-{secrets.token_hex(16)}-{secrets.token_hex(8)}"
    else:
        message_ts = message_ts or new_ts()
    event: dict[str, Any] = {
        "type": "link_shared",
        "channel": channel,
        "is_bot_user_member": is_bot_user_member,
        "user": user,
        "message_ts": message_ts,
        "unfurl_id": unfurl_id or f"{channel}.{message_ts}.{secrets.token_hex(6)}",
        "source": source,
        "links": [{"domain": urlsplit(url).hostname or "", "url": url} for url in urls],
        "event_ts": new_ts(),
    }
    if thread_ts is not None and not composer:
        event["thread_ts"] = thread_ts
    return event


def app_mention_event(
    text: str,
    *,
    channel: str = DEFAULT_CHANNEL,
    ts: str | None = None,
    thread_ts: str | None = None,
    user: str = DEFAULT_USER,
    edited: bool = False,
    team: SandboxTeam = SANDBOX_TEAM,
) -> dict[str, Any]:
    """An `app_mention` event for a message mentioning the bot.

    https://docs.slack.dev/reference/events/app_mention: editing a message that mentions the app
    delivers the event again, with the message's own `channel` and `ts`, a new `event_id` and an
    `edited{user, ts}` field: `edited=True` with the `ts` of the message that was edited.
    """
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "team": team.team_id,
        "channel": channel,
        "event_ts": new_ts() if edited else ts,
        "client_msg_id": _uuid_like(),
        "blocks": [
            {
                "type": "rich_text",
                "block_id": secrets.token_hex(2),
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
            }
        ],
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = user
    if edited:
        event["edited"] = {"user": user, "ts": event["event_ts"]}
    return event


def function_executed_event(
    function_execution_id: str,
    bot_access_token: str,
    inputs: dict[str, Any],
    *,
    callback_id: str,
    outputs: Sequence[str] = (),
    title: str = "Get Hamsa conversation",
) -> dict[str, Any]:
    """A workflow reached the app's custom step: https://api.slack.com/events/function_executed

    The function as the manifest declares it, the step's ``inputs``, and the execution's ID and
    short-lived token, with which the app ends the step (functions.completeSuccess / completeError).
    """
    return {
        "type": "function_executed",
        "function": {
            "id": f"Fn{secrets.token_hex(5).upper()}",
            "callback_id": callback_id,
            "title": title,
            "description": "Runs the app's step",
            "type": "app",
            "input_parameters": [
                {"type": "string", "name": name, "description": name, "title": name, "is_required": True}
                for name in inputs
            ],
            "output_parameters": [
                {"type": "string", "name": name, "description": name, "title": name, "is_required": False}
                for name in outputs
            ],
            "app_id": API_APP_ID,
            "date_created": 1694727597,
            "date_updated": 1698947481,
            "date_deleted": 0,
        },
        "inputs": inputs,
        "function_execution_id": function_execution_id,
        "workflow_execution_id": f"Wx{secrets.token_hex(5).upper()}",
        "event_ts": new_ts(),
        "bot_access_token": bot_access_token,
    }


def app_home_opened_event(user: str, *, tab: str = "home", view_id: str | None = None) -> dict[str, Any]:
    """https://api.slack.com/events/app_home_opened: someone opened the app's Home (or Messages) tab."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D0{user.removeprefix('U0')}",
        "tab": tab,
        "event_ts": new_ts(),
    }
    if view_id:
        event["view"] = {"id": view_id, "type": "home"}
    return event


def app_uninstalled_event() -> dict[str, Any]:
    """https://api.slack.com/events/app_uninstalled"""
    return {"type": "app_uninstalled", "event_ts": new_ts()}


def tokens_revoked_event(*, bot: Sequence[str] = (), oauth: Sequence[str] = ()) -> dict[str, Any]:
    """https://api.slack.com/events/tokens_revoked: the user IDs whose tokens (bot or user) were revoked."""
    tokens: dict[str, list[str]] = {}
    if oauth:
        tokens["oauth"] = list(oauth)
    if bot:
        tokens["bot"] = list(bot)
    return {"type": "tokens_revoked", "tokens": tokens, "event_ts": new_ts()}


def _uuid_like() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:]}"


def _interaction_common(
    user_id: str, channel_id: str | None, response_url: str | None, team: SandboxTeam = SANDBOX_TEAM
) -> dict[str, Any]:
    common: dict[str, Any] = {
        "user": _user(user_id, team),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": new_trigger_id(),
        "team": {"id": team.team_id, "domain": _domain(team)},
        "enterprise": {"id": team.enterprise_id, "name": team.enterprise_name} if team.enterprise_id else None,
        "is_enterprise_install": team.org_install,
    }
    if channel_id is not None:
        common["channel"] = {"id": channel_id, "name": _channel_name(channel_id)}
    if response_url is not None:
        common["response_url"] = response_url
    return common


def _form_payload(payload: dict[str, Any]) -> tuple[str, str]:
    return urlencode({"payload": json.dumps(payload)}), FORM


def block_actions(
    action_id: str,
    value: str,
    *,
    response_url: str,
    channel_id: str = DEFAULT_CHANNEL,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    is_ephemeral: bool = False,
    message: dict[str, Any] | None = None,
    user_id: str = DEFAULT_USER,
    block_id: str | None = None,
    button_text: str = "Button",
    team: SandboxTeam = SANDBOX_TEAM,
) -> tuple[str, str]:
    """A `block_actions` payload for a button on a message, form-encoded as `payload=<json>`.

    Shape: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload (no `message`
    on an ephemeral message). A button inside an unfurl is another shape: `unfurl_block_actions`.
    """
    message_ts = message_ts or (message or {}).get("ts") or new_ts()
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        **_interaction_common(user_id, channel_id, response_url, team),
        "container": container,
        "state": {"values": {}},
        "actions": [_button_action(action_id, value, block_id, button_text)],
    }
    if not is_ephemeral:
        if message is None:
            message = {
                "type": "message",
                "subtype": "bot_message",
                "user": BOT_USER_ID,
                "bot_id": AUTH_TEST["bot_id"],
                "text": "",
                "blocks": [],
                "ts": message_ts,
            }
            if thread_ts is not None:
                message["thread_ts"] = thread_ts
        payload["message"] = message
    return _form_payload(payload)


def unfurl_block_actions(
    action_id: str,
    value: str,
    *,
    response_url: str,
    app_unfurl_url: str,
    message_ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    channel_id: str = DEFAULT_CHANNEL,
    user_id: str = DEFAULT_USER,
    block_id: str | None = None,
    button_text: str = "Button",
    team: SandboxTeam = SANDBOX_TEAM,
) -> tuple[str, str]:
    """A click on a button inside an app's unfurl, form-encoded as `payload=<json>`.

    Slack sends a `message_attachment` container and an `app_unfurl` object holding only the app's
    blocks, and no `message`: the click says neither what the message said nor which thread it is
    in ("Alternate interactive payload behavior" in
    https://docs.slack.dev/messaging/unfurling-links-in-messages; the shape in
    https://api.slack.com/reference/interaction-payloads/block-actions). `message_ts` is the message
    holding the link (a thread reply's own ts when the link was posted in a thread).
    """
    blocks = blocks or []
    if block_id is None:
        block_id = next((b.get("block_id") for b in blocks if b.get("type") == "actions"), None)
    container = {
        "type": "message_attachment",
        "message_ts": message_ts or new_ts(),
        "attachment_id": 1,
        "channel_id": channel_id,
        "is_ephemeral": False,
        "is_app_unfurl": True,
        "app_unfurl_url": app_unfurl_url,
    }
    payload = {
        "type": "block_actions",
        **_interaction_common(user_id, channel_id, response_url, team),
        "container": container,
        "app_unfurl": {
            "id": 1,
            "blocks": blocks,
            "app_unfurl_url": app_unfurl_url,
            "is_app_unfurl": True,
            "app_id": API_APP_ID,
            "bot_id": AUTH_TEST["bot_id"],
            "original_url": app_unfurl_url,
            "from_url": app_unfurl_url,
            "fallback": "[no preview available]",
        },
        "state": {"values": {}},
        "actions": [_button_action(action_id, value, block_id, button_text)],
    }
    return _form_payload(payload)


def _button_action(action_id: str, value: str, block_id: str | None, button_text: str) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "block_id": block_id or secrets.token_urlsafe(4),
        "value": value,
        "type": "button",
        "action_ts": new_ts(),
        "text": {"type": "plain_text", "text": button_text, "emoji": True},
    }


def home_block_actions(
    action_id: str,
    *,
    user_id: str,
    view: dict[str, Any],
    value: str | None = None,
    team: SandboxTeam = SANDBOX_TEAM,
) -> tuple[str, str]:
    """A click on a button in the app's Home tab: a `view` container, the view, no channel, no response_url.

    https://api.slack.com/reference/interaction-payloads/block-actions
    """
    view_id = str(view.get("id") or f"V0HOME{secrets.token_hex(3).upper()}")
    payload: dict[str, Any] = {
        "type": "block_actions",
        **_interaction_common(user_id, None, None, team),
        "container": {"type": "view", "view_id": view_id},
        "view": {**view, "id": view_id, "team_id": team.team_id, "app_id": API_APP_ID, "hash": secrets.token_hex(8)},
        "actions": [_button_action(action_id, value if value is not None else action_id, None, "Button")],
    }
    return _form_payload(payload)


def home_select(
    action_id: str,
    option: dict[str, Any],
    *,
    user_id: str,
    view: dict[str, Any],
    team: SandboxTeam = SANDBOX_TEAM,
) -> tuple[str, str]:
    """An option chosen in a ``static_select`` of the Home tab (``option``: one of the select's options).

    https://api.slack.com/reference/interaction-payloads/block-actions: a select's action carries the
    ``selected_option``, and no ``value``.
    """
    view_id = str(view.get("id") or f"V0HOME{secrets.token_hex(3).upper()}")
    payload: dict[str, Any] = {
        "type": "block_actions",
        **_interaction_common(user_id, None, None, team),
        "container": {"type": "view", "view_id": view_id},
        "view": {**view, "id": view_id, "team_id": team.team_id, "app_id": API_APP_ID, "hash": secrets.token_hex(8)},
        "actions": [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": secrets.token_urlsafe(4),
                "selected_option": option,
                "action_ts": new_ts(),
            }
        ],
    }
    return _form_payload(payload)


def view_submission(
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user_id: str,
    view_id: str | None = None,
    team: SandboxTeam = SANDBOX_TEAM,
) -> tuple[str, str]:
    """A modal submitted: the view as opened, with what was typed in ``state.values[block_id][action_id]``.

    https://api.slack.com/reference/interaction-payloads/views#view_submission
    """
    view_id = view_id or f"V0MODAL{secrets.token_hex(3).upper()}"
    submitted = {
        **view,
        "id": view_id,
        "team_id": team.team_id,
        "app_id": API_APP_ID,
        "bot_id": team.bot_id,
        "hash": secrets.token_hex(8),
        "private_metadata": view.get("private_metadata", ""),
        "state": {"values": values},
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_installed_team_id": team.team_id,
    }
    payload = {
        "type": "view_submission",
        **_interaction_common(user_id, None, None, team),
        "view": submitted,
        "response_urls": [],
    }
    return _form_payload(payload)


def message_shortcut(
    callback_id: str,
    message: dict[str, Any],
    *,
    response_url: str,
    channel_id: str = DEFAULT_CHANNEL,
    user_id: str = DEFAULT_USER,
    team: SandboxTeam = SANDBOX_TEAM,
) -> tuple[str, str]:
    """A message-shortcut (`message_action`) payload, form-encoded as `payload=<json>`.

    https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload: `message`
    is the message as Slack stores it, with its `blocks` and `attachments` (unfurls among them) when
    it has any; its `text` may be only the fallback of those blocks.
    """
    message = {"type": "message", "ts": new_ts(), "user": DEFAULT_USER, "text": "", **message}
    payload = {
        "type": "message_action",
        **_interaction_common(user_id, channel_id, response_url, team),
        "callback_id": callback_id,
        "action_ts": new_ts(),
        "message_ts": message["ts"],
        "message": message,
    }
    return _form_payload(payload)


class SlackSender:
    """Posts signed Slack requests to an app's `/slack/events` endpoint over one HTTP client."""

    def __init__(self, app_url: str, signing_secret: str, *, timeout: float = 10.0) -> None:
        self.app_url = app_url.rstrip("/")
        self.signing_secret = signing_secret
        self._client = httpx.AsyncClient(timeout=timeout)

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers_override: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """Sign `body` and POST it; `headers_override` replaces any header (e.g. a bad signature)."""
        headers = {"Content-Type": content_type, **sign(self.signing_secret, body, timestamp)}
        headers.update(headers_override or {})
        return await self._client.post(f"{self.app_url}/slack/events", content=body.encode(), headers=headers)

    async def command(self, text: str, response_url: str, **kw: Any) -> httpx.Response:
        """Send a slash command."""
        return await self.post(*slash_command(text, response_url=response_url, **kw))

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        team: SandboxTeam = SANDBOX_TEAM,
        is_ext_shared_channel: bool = False,
    ) -> httpx.Response:
        """Deliver an event; `retry_num` marks it as Slack's retry after a timeout."""
        extra = None
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        envelope = event_callback(event, event_id=event_id, team=team, is_ext_shared_channel=is_ext_shared_channel)
        return await self.post(*envelope, headers_override=extra)

    async def action(self, action_id: str, value: str, **kw: Any) -> httpx.Response:
        """Click a button (see `block_actions` for the keyword arguments)."""
        return await self.post(*block_actions(action_id, value, **kw))

    async def unfurl_action(self, action_id: str, value: str, **kw: Any) -> httpx.Response:
        """Click a button inside an unfurl (see `unfurl_block_actions` for the keyword arguments)."""
        return await self.post(*unfurl_block_actions(action_id, value, **kw))

    async def shortcut(self, callback_id: str, message: dict[str, Any], **kw: Any) -> httpx.Response:
        """Run a message shortcut (see `message_shortcut` for the keyword arguments)."""
        return await self.post(*message_shortcut(callback_id, message, **kw))

    async def home_action(self, action_id: str, **kw: Any) -> httpx.Response:
        """Click a button in the Home tab (see `home_block_actions`)."""
        return await self.post(*home_block_actions(action_id, **kw))

    async def home_select(self, action_id: str, option: dict[str, Any], **kw: Any) -> httpx.Response:
        """Choose an option in a select of the Home tab (see `home_select`)."""
        return await self.post(*home_select(action_id, option, **kw))

    async def submit_view(self, view: dict[str, Any], values: dict[str, Any], **kw: Any) -> httpx.Response:
        """Submit a modal (see `view_submission`)."""
        return await self.post(*view_submission(view, values, **kw))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
