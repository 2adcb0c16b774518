"""Running the app: HTTP (``POST /slack/events``, ``GET /healthz``) or Socket Mode, with a clean stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import build_app, build_services, dispatch
from bot.following.webhooks import MAX_WEBHOOK_BYTES, WEBHOOK_PATH, receive
from bot.identity import BotIdentity, TokenRefused
from bot.services import Services
from bot.settings import Settings

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024  # Slack's requests are small; anything larger is refused with 413
DRAIN_SECONDS = 10.0


def to_bolt_request(raw: str, query: str, headers: dict[str, Any]) -> AsyncBoltRequest:
    """Builds Bolt's request, mending a Bolt parsing quirk.

    Bolt reads a form body that merely contains the word "payload" (``/hamsa payload-7``) as an
    interaction without its ``payload=`` field and returns ``{}``. Such a body is re-read as the
    plain form it is; the raw body is untouched, so the signature check still covers it.
    """
    request = AsyncBoltRequest(body=raw, query=query, headers=headers)
    if not request.body and raw and "payload" in raw and not raw.lstrip().startswith("{"):
        form = dict(parse_qsl(raw, keep_blank_values=True))
        if form and "payload" not in form:
            request.body = form
            request.context = build_async_context(AsyncBoltContext({}), form)
    return request


_TEXT_FIELDS = ("type", "command", "callback_id", "text", "response_url", "trigger_id", "event_id")


def well_formed(body: dict[str, Any]) -> bool:
    """Whether Bolt can read this body: it crashes (a 500) on, say, ``"actions": []`` or a numeric type.

    Slack never sends such bodies, so they are refused as malformed, before any listener runs.
    """
    if any(key in body and not isinstance(body[key], str) for key in _TEXT_FIELDS):
        return False
    if "event" in body:
        event = body["event"]
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return False
    if "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not actions:
            return False
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return False
    return True


def http_app(bolt: AsyncApp, services: Services | None = None) -> web.Application:
    """The routes: Slack's requests, health, the install pages (multi-workspace mode) and, given the
    app's services, Hamsa's webhooks. The benchmark's bare Bolt app uses it without services."""

    async def events(request: web.Request) -> web.Response:
        try:
            raw = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "invalid request"}, status=400)
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        if timestamp is not None and not (timestamp.isascii() and timestamp.isdigit()):
            # Bolt's signature check would crash on it (a 500 with a traceback, for an unsigned request).
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = to_bolt_request(raw, request.query_string, {k: v for k, v in request.headers.items()})
            readable = well_formed(bolt_request.body)
        except (ValueError, TypeError, AttributeError, LookupError, RecursionError):
            # Malformed JSON or form, or JSON that is not an object Bolt can read (``[]``, ``null``,
            # ``{"user": "x"}``). This runs before the signature check, so anyone could send it.
            readable = False
        if not readable:
            logger.info("slack request refused: unreadable body")
            return web.json_response({"error": "invalid request"}, status=400)
        response = await dispatch(bolt, bolt_request)
        headers = response.first_headers_without_set_cookie()
        return web.Response(status=response.status, body=response.body, headers=headers)

    async def health(_: web.Request) -> web.Response:
        if services is None:
            return web.json_response({"ok": True})
        status = await services.health()
        return web.json_response(status, status=200 if status["ok"] else 503)

    async def hamsa_webhook(request: web.Request) -> web.Response:
        assert services is not None  # the route exists only with services
        if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
            return web.json_response({"ok": False}, status=413)
        body = await request.content.read(MAX_WEBHOOK_BYTES + 1)
        if len(body) > MAX_WEBHOOK_BYTES:
            return web.json_response({"ok": False}, status=413)
        status = await receive(services, request.headers.get("Authorization"), body)
        return web.json_response({"ok": status == 200}, status=status)

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(EVENTS_PATH, events)
    app.router.add_get(HEALTH_PATH, health)
    if services is not None:
        app.router.add_post(WEBHOOK_PATH, hamsa_webhook)
    flow = bolt.oauth_flow
    if flow is not None:
        # Multi-workspace mode: Bolt's "Add to Slack" page and its OAuth callback.
        async def install(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await flow.handle_installation(await _get_request(request)))

        async def oauth_redirect(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await flow.handle_callback(await _get_request(request)))

        app.router.add_get(flow.install_path, install)
        app.router.add_get(flow.redirect_uri_path, oauth_redirect)
    return app


async def _get_request(request: web.Request) -> AsyncBoltRequest:
    return AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))


@dataclass
class RunningServer:
    """A started HTTP server (tests, the demo and the benchmarks use this too)."""

    services: Services
    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        await self.runner.cleanup()  # stops accepting requests first
        await self.services.aclose(DRAIN_SECONDS)


async def start_http(settings: Settings, services: Services | None = None) -> RunningServer:
    """Starts serving on ``settings.host``/``port``; who the bot is, is asked of Slack meanwhile."""
    services = services or await build_services(settings)
    runner = web.AppRunner(http_app(build_app(services), services), access_log=None, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=1024, reuse_port=settings.reuse_port or None)
    await site.start()
    if services.identity is not None:
        services.identity.start()
    services.worker.start()  # pending work (from before a restart too) resumes now
    port = runner.addresses[0][1]
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    logger.info("serving HTTP on %s:%s (Slack requests at %s)", settings.host, port, EVENTS_PATH)
    return RunningServer(services=services, runner=runner, url=f"http://{host}:{port}")


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Runs until ``stop`` is set, then finishes work in flight and closes its clients.

    Without ``stop`` (the command), SIGTERM or SIGINT sets it. When Slack refuses the bot token,
    it stops the same way, then raises TokenRefused.
    """
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    if settings.socket_mode:
        await _serve_socket_mode(settings, stop)
        return
    server = await start_http(settings)
    _freeze_what_is_loaded()
    refusal = await _until_stopped(stop, server.services.identity)
    logger.info("stopping: finishing work in flight")
    await server.stop()
    logger.info("stopped")
    if refusal is not None:
        raise refusal


def _freeze_what_is_loaded() -> None:
    """What is loaded once started (modules, models, the app, its clients) lives as long as the process:
    kept out of later collections, each full collection spares a rescan of all of it (tens of
    milliseconds, in the middle of requests)."""
    gc.collect()
    gc.freeze()


async def _until_stopped(stop: asyncio.Event, identity: BotIdentity | None) -> TokenRefused | None:
    """Waits for ``stop``, or for Slack to refuse the bot token (then returns the refusal)."""
    if identity is None:  # multi-workspace mode: each installation's token is checked by Bolt
        await stop.wait()
        return None
    waits = (asyncio.ensure_future(stop.wait()), asyncio.ensure_future(identity.refused.wait()))
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for wait in waits:
        wait.cancel()
    return identity.refusal


async def _serve_socket_mode(settings: Settings, stop: asyncio.Event) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.adapter.socket_mode.async_internals import send_async_response
    from slack_bolt.adapter.socket_mode.internals import build_headers

    class LoggedSocketModeHandler(AsyncSocketModeHandler):
        """Bolt's handler, with the same per-request log line as over HTTP."""

        async def handle(self, client: Any, req: Any) -> None:
            started = time.time()
            request = AsyncBoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
            await send_async_response(client, req, await dispatch(self.app, request), started)

    services = await build_services(settings)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    handler = LoggedSocketModeHandler(build_app(services), app_token)
    if services.identity is not None:
        services.identity.start()
    services.worker.start()
    _freeze_what_is_loaded()
    # The client retries a refused or unreachable connection forever: a stop must not wait for it.
    connecting = asyncio.create_task(handler.connect_async())
    stopping = asyncio.create_task(_until_stopped(stop, services.identity))
    await asyncio.wait((connecting, stopping), return_when=asyncio.FIRST_COMPLETED)
    if connecting.done():
        connecting.result()  # a connection that failed for good stops the app here, with its error
        logger.info("connected to Slack in Socket Mode")
    refusal = await stopping
    logger.info("stopping: finishing work in flight")
    connecting.cancel()
    await asyncio.wait((connecting,))
    await handler.close_async()
    await services.aclose(DRAIN_SECONDS)
    logger.info("stopped")
    if refusal is not None:
        raise refusal
