"""Building the Bolt app: its Slack client, the request middleware and every listener."""

from __future__ import annotations

import logging
import time
from typing import Any

from cachetools import TTLCache
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bot.delivery import Delivery, web_client
from bot.following.outbox import Outbox
from bot.following.webhooks import WebhookSecrets
from bot.hamsa.client import HamsaClient
from bot.identity import BotIdentity
from bot.installs import authorize, install_flow
from bot.listeners import register_all
from bot.messages import error_text, new_reference, store_unavailable
from bot.observability import UNVERIFIED, UNVERIFIED_STATUS, request_kind
from bot.services import Services
from bot.settings import Settings
from bot.state.resilient import open_state
from bot.store.store import Store
from bot.workspaces import Workspaces

logger = logging.getLogger(__name__)
request_log = logging.getLogger("bot.requests")

# Slack delivers an unanswered app_rate_limited notice again within minutes, as it does events.
_RATE_LIMITED_MEMORY_SECONDS = 3600


async def build_services(settings: Settings, hamsa: HamsaClient | None = None) -> Services:
    """Everything the process shares, opened once: the store (migrated), Slack and Hamsa clients.

    Raises the store's problems (a wrong key, an unusable DATABASE_URL) and RedisUnavailable, each
    naming its setting.
    """
    keys = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    state = await open_state(settings.redis_url, required=settings.redis_required, prefix=settings.redis_prefix)
    try:
        store = await Store.open(settings.database_url, keys, client_id=settings.slack_client_id)
    except BaseException:
        await state.aclose()
        raise
    delivery = Delivery(web_client(None, settings.slack_api_url, settings.slack_retry_after_cap))
    delivery.start()
    hamsa = hamsa or HamsaClient.from_settings(settings, shared=state)
    identity = None
    installations = None
    if settings.multi_workspace:
        installations = store.installation_store(settings.slack_client_id or "")
    else:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        identity = BotIdentity(delivery.client_for(token), token)
    workspaces = Workspaces(settings, store, hamsa, installations)
    if installations is not None:
        client_secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else ""
        workspaces.rotator = AsyncTokenRotator(
            client_id=settings.slack_client_id or "", client_secret=client_secret, client=delivery.client
        )
    return Services(
        settings=settings,
        hamsa=hamsa,
        delivery=delivery,
        store=store,
        workspaces=workspaces,
        outbox=Outbox(store.engine, store.tables, lease_seconds=settings.outbox_lease_seconds),
        webhooks=WebhookSecrets(settings, store),
        identity=identity,
        state=state,
    )


def build_app(services: Services) -> AsyncApp:
    settings = services.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    client = services.delivery.client
    installations = services.workspaces.installations
    oauth: dict[str, Any] = {}
    if installations is not None:
        oauth["oauth_flow"] = install_flow(settings, services.store, installations, client)
        oauth["installation_store"] = installations
        authorization: Any = authorize(settings, installations, client)
    else:
        assert services.identity is not None  # single-workspace mode always has one
        authorization = services.identity
    app = AsyncApp(
        # Without a token of its own: Bolt takes each request's token from ``authorize`` (the one
        # workspace's, or the installation's), and copies this client, pooled session included.
        client=client,
        authorize=authorization,
        **oauth,
        signing_secret=secret,
        # Socket Mode needs no signing secret; over HTTP it is required and Bolt verifies every request.
        request_verification_enabled=not settings.socket_mode,
        # Listeners only ack and hand the work to Background, so answering once they return is
        # immediate, and skips Bolt's 10 ms polling for the ack.
        process_before_response=True,
        # Requests no listener takes reach ``on_error`` below, instead of Bolt's 404.
        raise_error_for_unhandled_request=True,
        name="hamsa-for-slack",
    )
    register_all(app, services)
    rate_limited: TTLCache[tuple[str, str], bool] = TTLCache(1024, _RATE_LIMITED_MEMORY_SECONDS)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], context: AsyncBoltContext) -> BoltResponse | None:
        if store_unavailable(error):
            # The database is down (Bolt looks installations up there before any listener runs): a
            # command hears it; an event gets a 503, so Slack delivers it again once the database is back.
            logger.warning("slack request failed ref=%s: the database is not answering", context.get("ref"))
            if body.get("command"):
                text = error_text(error, str(context.get("ref")))
                return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
            return BoltResponse(status=503, body="")
        if not isinstance(error, BoltUnhandledRequestError):
            # What Bolt's own error handler does (the answer stays Bolt's 500).
            logger.exception("slack request failed ref=%s", context.get("ref"))
            return None
        # A request from Slack of a kind the app has no use for (app_rate_limited, a command or shortcut
        # it does not have): a quiet 200, since Slack counts failed deliveries against the app.
        if body.get("type") == "app_rate_limited":
            _warn_rate_limited(body, rate_limited)
        return BoltResponse(status=200, body="")

    return app


def _warn_rate_limited(body: dict[str, Any], seen: TTLCache[tuple[str, str], bool]) -> None:
    """Once per workspace and minute, however often Slack delivers the notice.

    https://api.slack.com/apis/connections/events-api#rate-limiting
    """
    team, minute = str(body.get("team_id"))[:20], str(body.get("minute_rate_limited"))[:20]
    if (team, minute) in seen:
        return
    seen[team, minute] = True
    logger.warning(
        "slack is dropping this app's events (app_rate_limited) team=%s minute_rate_limited=%s: "
        "more than 30,000 events in an hour for this workspace",
        team,
        minute,
    )


async def dispatch(app: AsyncApp, request: AsyncBoltRequest) -> BoltResponse:
    """Runs one Slack request through Bolt and logs one line: kind, reference, outcome, latency.

    Every request gets a reference code: it is in the log line and in any error people see. It is
    set here rather than in a Bolt middleware, which would cost a fifth of the app's time per event.
    """
    started = time.perf_counter()
    ref = request.context.setdefault("ref", new_reference())
    response = await app.async_dispatch(request)
    if request_log.isEnabledFor(logging.INFO):
        latency_ms = (time.perf_counter() - started) * 1000
        status = response.status
        # What an unverified body says it is, anyone could have written.
        kind = UNVERIFIED if status == UNVERIFIED_STATUS else request_kind(request.body)
        request_log.info("slack request kind=%s ref=%s status=%s latency_ms=%.1f", kind, ref, status, latency_ms)
    return response
