"""The whole app on loopback: fake Hamsa, fake Slack, the real HTTP server, and a signed sender."""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pydantic import SecretStr

from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import SlackSender
from bot.server import RunningServer, start_http
from bot.settings import Settings

BOT_TOKEN = "xoxb-sandbox-bot-token"
SIGNING_SECRET = "sandbox-signing-secret-0123456789"
HAMSA_KEY = "sandbox-hamsa-api-key"


@dataclass
class Stack:
    hamsa: FakeHamsa
    slack: FakeSlack
    server: RunningServer
    sender: SlackSender
    settings: Settings

    @property
    def services(self) -> Any:
        return self.server.services

    async def stop(self) -> None:
        await self.sender.aclose()
        await self.server.stop()
        await self.slack.stop()
        await self.hamsa.stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


_scratch: Path | None = None


def sandbox_database_url() -> str:
    """A new, empty SQLite file in a scratch directory that goes when the process exits."""
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="hamsa-sandbox-"))
        atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    return f"sqlite:///{_scratch / f'{secrets.token_hex(8)}.db'}"


def sandbox_settings(
    hamsa: FakeHamsa, slack: FakeSlack, *, signing_secret: str = SIGNING_SECRET, **overrides: Any
) -> Settings:
    """Settings pointing at the stand-ins, ignoring the environment and any .env file.

    ``overrides`` are Settings fields, already of their type (e.g. ``hamsa_lookup_budget=1.0``).
    """
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr(slack.bot_token),
        "slack_signing_secret": SecretStr(signing_secret),
        "slack_api_url": slack.api_url,
        "hamsa_api_key": SecretStr(hamsa.api_key),
        "hamsa_api_url": hamsa.url,
        "host": "127.0.0.1",
        "port": 0,
        "database_url": sandbox_database_url(),
    }
    values.update(overrides)
    return Settings.model_construct(**values)


async def start_stack(
    *,
    hamsa: FakeHamsa | None = None,
    slack: FakeSlack | None = None,
    signing_secret: str = SIGNING_SECRET,
    **overrides: Any,
) -> Stack:
    """Starts everything on free loopback ports. Use ``async with await start_stack() as stack``.

    The app gets the fakes' API key and bot token, and ``signing_secret``, which the sender signs with.
    """
    hamsa = hamsa or FakeHamsa(api_key=HAMSA_KEY)
    slack = slack or FakeSlack(bot_token=BOT_TOKEN)
    await hamsa.start()
    await slack.start()
    settings = sandbox_settings(hamsa, slack, signing_secret=signing_secret, **overrides)
    server = await start_http(settings)
    return Stack(hamsa, slack, server, SlackSender(server.url, signing_secret), settings)
