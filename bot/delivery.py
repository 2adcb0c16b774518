"""Delivering messages to Slack: Web API calls and response_url replies, with retries and fallbacks.

slack_sdk retries only connection errors by default, and ``respond()`` uses a webhook client that
inherits nothing, so both get the same retry policy here, from slack_sdk's own handlers: 429
honouring Retry-After (capped), 500 and 503 with jittered backoff, connection errors.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

logger = logging.getLogger(__name__)

UNREACHABLE = "unreachable"
# Slack's answers that mean "not now": worth trying again later. Any other error stays an error.
PASSING = frozenset(
    {
        UNREACHABLE,
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "server_error",
    }
)


@dataclass(frozen=True, slots=True)
class Sent:
    """How a Web API call went: Slack's answer, or its error code (``unreachable`` when it never answered)."""

    data: dict[str, Any] | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def passing(self) -> bool:
        """Failed for now (rate limits, Slack's own trouble): worth trying again later."""
        return self.error in PASSING

    @property
    def ts(self) -> str | None:
        ts = self.data.get("ts") if self.data else None
        return ts if isinstance(ts, str) else None


# Where the bot cannot post, a reply through the interaction's response_url still works.
NOT_POSTABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "no_permission"})
MAX_RETRIES = 3
DEFAULT_RETRY_AFTER_CAP = 10.0
# 0.25 s, 0.5 s, 1 s, each plus up to a second of jitter.
_SERVER_ERROR_BACKOFF = BackoffRetryIntervalCalculator(backoff_factor=0.25)


class CappedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, waiting at most ``max_wait`` seconds.

    The built-in one sleeps for whatever Retry-After says (an hour, if Slack says so, while the
    work waits and shutdown hangs) and reads only whole seconds (``int("1.5")`` raises mid-retry).
    """

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = min(self.max_wait, _retry_after(response) + random.uniform(0, 0.2))
        logger.info("slack retry status=429 in=%.2fs", wait)
        await asyncio.sleep(wait)
        state.increment_current_attempt()


def _retry_after(response: HttpResponse | None) -> float:
    for name, value in (response.headers if response is not None else {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except ValueError:
                break
    return 1.0


def retry_handlers(retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP) -> list[AsyncRetryHandler]:
    """Connection errors, 429 (Retry-After, capped) and 500/503 (jittered backoff): at most 3 retries."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        CappedRateLimitRetryHandler(max_retry_count=MAX_RETRIES, max_wait=retry_after_cap),
        AsyncServerErrorRetryHandler(max_retry_count=MAX_RETRIES, interval_calculator=_SERVER_ERROR_BACKOFF),
    ]


def web_client(token: str | None, base_url: str, retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=base_url, timeout=10, retry_handlers=retry_handlers(retry_after_cap))


def in_composer(event: dict[str, Any]) -> bool:
    """A ``link_shared`` for a link typed into the message composer: not yet posted, in no channel yet."""
    return event.get("source") == "composer" or event.get("channel") == "COMPOSER"


class Delivery:
    """Posts, unfurls and response_url replies; failures are logged with the request's reference.

    ``client`` holds no token: it is Bolt's client too, so the client Bolt makes for each request (with
    that workspace's token) shares its pooled session and retry handlers. Web API calls take the
    workspace's client; ``client_for`` makes one for work outside any request.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        """One pooled session for every call to Slack, made on first use (inside the event loop).

        Without a session, slack_sdk opens a new connection, with its TLS handshake, for every call.
        """
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            self.client.session = self._session  # Web API calls share it with response_url replies
        return self._session

    def start(self) -> None:
        """Makes the pooled session now, before Bolt copies the client for its first request."""
        self._http()

    def client_for(self, token: str) -> AsyncWebClient:
        """A Web API client with ``token``, sharing the pooled session and retry handlers."""
        base = self.client
        return AsyncWebClient(
            token=token,
            base_url=base.base_url,
            timeout=base.timeout,
            session=self._http(),
            retry_handlers=list(base.retry_handlers),
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def respond(self, response_url: str, ref: str, **message: Any) -> bool:
        """Reply through a response_url (valid 30 minutes, 5 uses); False when Slack refused it."""
        webhook = AsyncWebhookClient(response_url, session=self._http(), retry_handlers=self.client.retry_handlers)
        try:
            response = await webhook.send_dict(message)
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("slack respond failed ref=%s error=%s", ref, type(error).__name__)
            return False
        if response.status_code != 200:
            # An expired or used-up response_url; nothing more can be said through it.
            status, body = response.status_code, response.body
            logger.warning("slack respond refused ref=%s status=%s body=%.60s", ref, status, body)
            return False
        return True

    async def post(
        self, slack: AsyncWebClient, ref: str, *, channel: str, thread_ts: str | None = None, **message: Any
    ) -> str | None:
        """chat.postMessage; the new message's ts, or None (logged) when Slack refused it."""
        return (await self.post_sent(slack, ref, channel=channel, thread_ts=thread_ts, **message)).ts

    async def post_sent(
        self, slack: AsyncWebClient, ref: str, *, channel: str, thread_ts: str | None = None, **message: Any
    ) -> Sent:
        """chat.postMessage, saying how it went (for work that decides what to do about a failure)."""
        posting = slack.chat_postMessage(
            channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
        )
        return await self.send(ref, "chat.postMessage", posting)

    async def update(self, slack: AsyncWebClient, ref: str, *, channel: str, ts: str, **message: Any) -> Sent:
        """chat.update of a message the app posted."""
        return await self.send(ref, "chat.update", slack.chat_update(channel=channel, ts=ts, **message))

    async def post_direct(self, slack: AsyncWebClient, ref: str, *, user_id: str, **message: Any) -> str | None:
        """chat.postMessage in the app's direct messages with ``user_id``; that conversation's ID, or None."""
        posting = slack.chat_postMessage(channel=user_id, unfurl_links=False, unfurl_media=False, **message)
        sent = await self.send(ref, "chat.postMessage", posting)
        channel = sent.data.get("channel") if sent.data else None
        return channel if isinstance(channel, str) else None

    async def upload(
        self,
        slack: AsyncWebClient,
        ref: str,
        *,
        channel: str,
        thread_ts: str | None = None,
        filename: str,
        content: str,
        title: str,
        initial_comment: str | None = None,
    ) -> bool:
        """A file in ``channel`` (or its thread) with files.uploadV2; scope files:write.

        slack_sdk asks files.getUploadURLExternal, posts the bytes there, then files.completeUploadExternal.
        False, logged, when Slack refused any of the three steps.
        """
        uploading = slack.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            filename=filename,
            content=content.encode(),
            title=title,
            initial_comment=initial_comment,
        )
        try:
            return (await self.send(ref, "files.uploadV2", uploading)).ok
        except SlackRequestError:  # the bytes themselves were refused (its message holds the file's title)
            logger.warning("slack files.uploadV2 failed ref=%s error=upload_refused", ref)
            return False

    async def unfurl(self, slack: AsyncWebClient, ref: str, *, unfurls: dict[str, Any], event: dict[str, Any]) -> bool:
        """chat.unfurl; composer events are answered by unfurl_id + source, others by channel + ts."""
        target: dict[str, Any]
        if in_composer(event):
            target = {"unfurl_id": event.get("unfurl_id"), "source": event.get("source") or "composer"}
        else:
            target = {"channel": event.get("channel"), "ts": event.get("message_ts")}
        return (await self.send(ref, "chat.unfurl", slack.chat_unfurl(unfurls=unfurls, **target))).ok

    async def send(self, ref: str, method: str, call: Coroutine[Any, Any, AsyncSlackResponse]) -> Sent:
        """One Web API call (retried by the client's handlers); how it went, logged when it failed."""
        self._http()
        try:
            response = await call
        except SlackApiError as error:
            data = error.response.data if error.response is not None else None
            code = data.get("error") if isinstance(data, dict) else None
            status = error.response.status_code if error.response is not None else 0
            code = code if isinstance(code, str) else ("http_error" if status < 500 else "server_error")
            level = logging.INFO if code in NOT_POSTABLE else logging.WARNING
            logger.log(level, "slack %s failed ref=%s error=%.60s", method, ref, code)
            return Sent(None, code)
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("slack %s failed ref=%s error=%s", method, ref, type(error).__name__)
            return Sent(None, UNREACHABLE)
        return Sent(response.data if isinstance(response.data, dict) else {}, None)
