"""The whole app on loopback: fake Hamsa, fake Slack, the real HTTP server, and a signed sender."""

from __future__ import annotations

import atexit
import html
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx
from pydantic import SecretStr

from bot.installs import INSTALL_PATH, REDIRECT_PATH
from bot.render.modals import API_KEY_BLOCK, DOMAINS_BLOCK, FIELD, REGION_BLOCK, connect_modal
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.fake_slack import SANDBOX_TEAM, FakeSlack, SandboxTeam
from bot.sandbox.slack_requests import SlackSender
from bot.server import RunningServer, start_http
from bot.settings import Settings
from bot.store.secrets import generate_key

BOT_TOKEN = "xoxb-sandbox-bot-token"
INSTALLER = "U0INSTALLER"
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

    async def install(
        self, team: SandboxTeam = SANDBOX_TEAM, installer: str = INSTALLER, *, rotation: bool = False
    ) -> httpx.Response:
        """Adds the app to ``team`` as a browser would: the install page, Slack's consent, the callback.

        Returns the app's last answer (the page saying it is installed, or why not).
        """
        return (await self.install_pages(team, installer, rotation=rotation))[-1]

    async def install_pages(
        self, team: SandboxTeam = SANDBOX_TEAM, installer: str = INSTALLER, *, rotation: bool = False
    ) -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        """The pages of an install, as a browser gets them: the install page, Slack's consent, the app's answer."""
        return await install_in_browser(self.server.url, self.slack, team, installer, rotation=rotation)

    async def connect_hamsa(
        self,
        team: SandboxTeam = SANDBOX_TEAM,
        user: str = INSTALLER,
        *,
        api_key: str | None = None,
        region: str = "eu",
        domains: str = "",
    ) -> httpx.Response:
        """Submits the Connect Hamsa modal as ``user`` of ``team``; returns the app's answer to the submission."""
        form = connect_form(api_key or self.hamsa.api_key, region=region, domains=domains)
        return await self.sender.submit_view(connect_modal(), form, user_id=user, team=team)

    async def stop(self) -> None:
        await self.sender.aclose()
        await self.server.stop()
        await self.slack.stop()
        await self.hamsa.stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def install_in_browser(
    app_url: str,
    slack: FakeSlack,
    team: SandboxTeam = SANDBOX_TEAM,
    installer: str = INSTALLER,
    *,
    rotation: bool = False,
) -> tuple[httpx.Response, httpx.Response, httpx.Response]:
    """Adds the app at ``app_url`` to ``team`` as a browser would; the install page, Slack's consent, the app's answer.

    The state cookie is sent back by hand: it is ``Secure``, which httpx keeps off plain-HTTP loopback.
    """
    slack.consenting = (team, installer, rotation)
    slack.redirect_url = f"{app_url}{REDIRECT_PATH}"
    async with httpx.AsyncClient() as browser:
        page = await browser.get(f"{app_url}{INSTALL_PATH}")
        authorize = html.unescape(_href(page.text, "add-to-slack"))
        cookie = page.headers["set-cookie"].split(";", 1)[0]
        consent = await browser.get(authorize)
        answer = await browser.get(html.unescape(_href(consent.text, "allow")), headers={"Cookie": cookie})
        return page, consent, answer


def connect_form(api_key: str, *, region: str = "eu", domains: str = "") -> dict[str, Any]:
    """The Connect Hamsa modal's ``state.values`` as Slack submits them, for ``view_submission``."""
    return {
        API_KEY_BLOCK: {FIELD: {"type": "plain_text_input", "value": api_key}},
        REGION_BLOCK: {FIELD: {"type": "static_select", "selected_option": {"value": region}}},
        DOMAINS_BLOCK: {FIELD: {"type": "plain_text_input", "value": domains or None}},
    }


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


def multi_workspace_overrides(slack: FakeSlack) -> dict[str, Any]:
    """Settings of an app installable by any workspace: OAuth credentials and a key, no token or Hamsa key."""
    return {
        "slack_bot_token": None,
        "hamsa_api_key": None,
        "slack_client_id": slack.client_id,
        "slack_client_secret": SecretStr(slack.client_secret),
        "encryption_keys": SecretStr(generate_key()),
    }


async def start_stack(
    *,
    hamsa: FakeHamsa | None = None,
    slack: FakeSlack | None = None,
    signing_secret: str = SIGNING_SECRET,
    multi_workspace: bool = False,
    **overrides: Any,
) -> Stack:
    """Starts everything on free loopback ports. Use ``async with await start_stack() as stack``.

    The app gets the fakes' API key and bot token, and ``signing_secret``, which the sender signs with.
    With ``multi_workspace``, it gets OAuth credentials instead: ``stack.install()`` adds it to a
    workspace, ``stack.connect_hamsa()`` connects that workspace's Hamsa account.
    """
    hamsa = hamsa or FakeHamsa(api_key=HAMSA_KEY)
    slack = slack or FakeSlack(bot_token=BOT_TOKEN)
    await hamsa.start()
    await slack.start()
    if multi_workspace:
        overrides = {**multi_workspace_overrides(slack), "hamsa_uae_api_url": hamsa.url, **overrides}
    settings = sandbox_settings(hamsa, slack, signing_secret=signing_secret, **overrides)
    server = await start_http(settings)
    slack.redirect_url = f"{server.url}{REDIRECT_PATH}"
    return Stack(hamsa, slack, server, SlackSender(server.url, signing_secret), settings)


def _href(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    if found is None:
        raise AssertionError(f"no link #{element_id} on the page: {page[:500]!r}")
    return found.group(1)
