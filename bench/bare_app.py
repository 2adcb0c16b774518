"""The framework's floor: a bare Bolt app on the app's server stack, unfurling every link with a constant.

``python -m bench.bare_app`` reads the same settings as ``hamsa-bot serve`` and serves the same
``/slack/events`` and ``/healthz`` through ``bot.server.http_app``; only the Bolt app differs. Its
listener is what a Bolt tutorial would write: Bolt acknowledges the event, then the listener calls
``chat.unfurl``. Its Slack client keeps connections open, as the app's does, so the comparison is
between the two apps' own work and not between connection policies.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.server import http_app
from bot.settings import Settings

CONSTANT_TEXT = "*Customer Support Call* · :white_check_mark: Completed"
CONSTANT_UNFURL = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": CONSTANT_TEXT}}]}


def build_bare_app(settings: Settings, session: aiohttp.ClientSession) -> AsyncApp:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, session=session)
    app = AsyncApp(client=client, signing_secret=secret)

    @app.event("link_shared")
    async def link_shared(event: dict[str, Any], client: AsyncWebClient) -> None:
        unfurls = {link["url"]: CONSTANT_UNFURL for link in event["links"]}
        await client.chat_unfurl(channel=event["channel"], ts=event["message_ts"], unfurls=unfurls)

    return app


async def serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with aiohttp.ClientSession() as session:
        runner = web.AppRunner(http_app(build_bare_app(settings, session)), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port, backlog=1024).start()
        await stop.wait()
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(Settings()))
