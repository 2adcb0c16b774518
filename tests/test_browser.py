""" "Add to Slack" in a real browser: headless Chromium follows the install page to Slack's consent and back.

What only a browser shows: the ``Secure`` state cookie kept on plain-HTTP loopback and sent back on the
callback, the pages drawn, and the cookie cleared once the install is over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from bot.installs import INSTALL_PATH, REDIRECT_PATH
from bot.render.pages import (
    ADD_TO_SLACK,
    FAILED_HEADING,
    FAILURE_REASONS,
    INSTALL_HEADING,
    INSTALLED_HEADING,
    TRY_AGAIN,
)
from bot.sandbox.fake_slack import SandboxTeam
from bot.sandbox.stack import Stack, start_stack

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

STATE_COOKIE = "slack-app-oauth-state"
TEAM = SandboxTeam(team_id="T0BROWSER", name="Browser & Co", bot_user_id="U0BROWSERBOT", bot_id="B0BROWSERBOT")
INSTALLER = "U0CLICKER"


@pytest.fixture
async def multi() -> AsyncIterator[Stack]:
    async with await start_stack(multi_workspace=True) as running:
        yield running


async def test_add_to_slack_in_a_browser_installs_then_a_reused_callback_is_refused(
    multi: Stack, chromium: BrowserContext
) -> None:
    multi.slack.consenting = (TEAM, INSTALLER, False)
    page = await chromium.new_page()

    await page.goto(multi.server.url + INSTALL_PATH)
    assert await page.locator("h1").inner_text() == INSTALL_HEADING
    (cookie,) = [c for c in await chromium.cookies() if c["name"] == STATE_COOKIE]
    assert cookie["secure"]  # kept all the same: Chromium counts http://127.0.0.1 as a secure context

    await page.get_by_role("link", name=ADD_TO_SLACK).click()
    await page.wait_for_url(multi.slack.authorize_url + "?*")
    assert "Browser & Co" in await page.locator("h1").inner_text()
    await page.locator("#allow").click()

    await page.wait_for_url(f"{multi.server.url}{REDIRECT_PATH}?*")
    callback = page.url
    assert await page.locator("h1").inner_text() == INSTALLED_HEADING
    assert await page.get_by_text("now installed in Browser & Co").is_visible()
    installation = await multi.services.workspaces.installations.async_find_installation(
        enterprise_id=None, team_id=TEAM.team_id
    )
    assert installation is not None and installation.user_id == INSTALLER
    assert [c for c in await chromium.cookies() if c["name"] == STATE_COOKIE] == []

    # The same callback again (a reload, a shared link): the page that ended the install cleared its cookie.
    await page.goto(callback)
    assert await page.locator("h1").inner_text() == FAILED_HEADING
    assert await page.get_by_text(FAILURE_REASONS["invalid_browser"]).is_visible()
    assert len(multi.slack.calls_to("oauth.v2.access")) == 1

    await page.get_by_role("link", name=TRY_AGAIN).click()
    await page.wait_for_url(multi.server.url + INSTALL_PATH)
    assert await page.locator("h1").inner_text() == INSTALL_HEADING


async def test_cancelling_on_slacks_page_shows_why_in_the_browser(multi: Stack, chromium: BrowserContext) -> None:
    page = await chromium.new_page()
    await page.goto(multi.server.url + INSTALL_PATH)
    (cookie,) = [c for c in await chromium.cookies() if c["name"] == STATE_COOKIE]

    # What Slack sends back when the installer presses Cancel on the consent page:
    # https://api.slack.com/authentication/oauth-v2#exchanging ("error=access_denied" and the state).
    await page.goto(f"{multi.server.url}{REDIRECT_PATH}?error=access_denied&state={cookie['value']}")
    assert await page.locator("h1").inner_text() == FAILED_HEADING
    assert await page.get_by_text(FAILURE_REASONS["access_denied"]).is_visible()
    assert multi.slack.calls_to("oauth.v2.access") == []
