"""Multi-workspace mode end to end over HTTP: "Add to Slack", App Home, connecting Hamsa, isolation, uninstalling.

The stand-in Slack plays the consent page and ``oauth.v2.access`` (with token rotation); each workspace
gets its own bot token, and the stand-in records whose token each call used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from bot import actions
from bot.actions import ButtonValue
from bot.installs import INSTALL_PATH, REDIRECT_PATH
from bot.listeners.home import BAD_DOMAINS, KEY_REFUSED, NOT_A_MANAGER
from bot.messages import NOT_FOUND
from bot.render.home import CONNECT_HAMSA, DISCONNECT_HAMSA
from bot.render.modals import API_KEY_BLOCK, CHECKING, CONNECTED_TEXT, DOMAINS_BLOCK, connect_modal
from bot.render.pages import FAILED_HEADING, FAILURE_REASONS, INSTALLED_HEADING
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import Fault
from bot.sandbox.fake_slack import SANDBOX_TEAM, SandboxTeam, SandboxUser
from bot.sandbox.slack_requests import (
    app_home_opened_event,
    app_mention_event,
    app_uninstalled_event,
    link_shared_event,
    tokens_revoked_event,
)
from bot.sandbox.stack import INSTALLER, Stack, start_stack
from bot.store.workspaces import WorkspaceKey

DASHBOARD = "https://dashboard.tryhamsa.com"
LINK = f"{DASHBOARD}/conversations/{samples.DOCUMENTED_ID}"
OTHER_TEAM = SandboxTeam(team_id="T0OTHER", name="Other Co", bot_user_id="U0OTHERBOT", bot_id="B0OTHERBOT")
ORG = SandboxTeam(team_id="T0MEMBER", name="Member", enterprise_id="E0ORG", enterprise_name="Big Org", org_install=True)
OTHER_KEY = "other-company-hamsa-key-4f2a"


@pytest.fixture
async def multi() -> AsyncIterator[Stack]:
    async with await start_stack(multi_workspace=True, hamsa_lookup_budget=2.0, hamsa_read_timeout=1.0) as running:
        yield running


@pytest.fixture
async def multi_on_each_database(database_url: str) -> AsyncIterator[Stack]:
    """The same app, once on the embedded SQLite file and once on the real PostgreSQL."""
    async with await start_stack(multi_workspace=True, database_url=database_url) as running:
        yield running


async def installed_and_connected(stack: Stack, team: SandboxTeam = SANDBOX_TEAM, **connect: str) -> None:
    assert INSTALLED_HEADING in (await stack.install(team)).text
    answer = await stack.connect_hamsa(team, **connect)
    assert (answer.status_code, answer.text) == (200, "")
    await stack.services.background.drain(5)


async def command(stack: Stack, text: str, team: SandboxTeam = SANDBOX_TEAM, user: str = INSTALLER) -> dict:
    url = stack.slack.new_response_url()
    await stack.sender.command(text, url, team=team, user_id=user)
    (reply,) = await stack.slack.wait_for_responses(1, url=url)
    return reply.body


def published_for(stack: Stack, user: str) -> dict:
    return [c for c in stack.slack.calls_to("views.publish") if c.params["user_id"] == user][-1].params["view"]


def action_ids(view: dict) -> list[str]:
    """The buttons of the Hamsa connection (App Home has others, for webhooks)."""
    blocks = [b for b in view["blocks"] if b["type"] == "actions" and b.get("block_id") == "hamsa_connection"]
    return [e["action_id"] for b in blocks for e in b["elements"]]


# ---- "Add to Slack" ----------------------------------------------------------------------------


async def test_the_install_page_links_to_slacks_consent_with_a_state_also_set_in_a_cookie(multi: Stack) -> None:
    async with httpx.AsyncClient() as browser:
        page = await browser.get(multi.server.url + INSTALL_PATH)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    href = page.text.split('id="add-to-slack" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    target = urlsplit(href)
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == multi.slack.authorize_url
    assert query["client_id"] == [multi.slack.client_id]
    assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "links:read", "links:write", "users:read"}
    state = query["state"][0]
    assert f"slack-app-oauth-state={state}" in page.headers["set-cookie"]


async def test_an_install_stores_the_installation_sealed_and_says_what_to_do_next(multi: Stack) -> None:
    page = await multi.install()
    assert page.status_code == 200
    assert INSTALLED_HEADING in page.text and "Home tab" in page.text and "slack://app?team=T0SANDBOX" in page.text
    (exchange,) = multi.slack.calls_to("oauth.v2.access")
    assert exchange.params["code"]
    installation = await multi.services.workspaces.installations.async_find_installation(
        enterprise_id=None, team_id=SANDBOX_TEAM.team_id
    )
    assert installation is not None and installation.user_id == INSTALLER
    assert installation.bot_token in multi.slack.bot_tokens_of(SANDBOX_TEAM)


async def test_a_replayed_tampered_or_expired_state_is_refused(multi: Stack) -> None:
    multi.slack.consenting = (SANDBOX_TEAM, INSTALLER, False)
    async with httpx.AsyncClient() as browser:

        async def start() -> tuple[str, str]:
            page = await browser.get(multi.server.url + INSTALL_PATH)
            cookie = page.headers["set-cookie"].split(";", 1)[0]
            href = page.text.split('id="add-to-slack" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
            consent = await browser.get(href)
            allow = consent.text.split('id="allow" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
            return allow, cookie

        allow, cookie = await start()
        first = await browser.get(allow, headers={"Cookie": cookie})
        replayed = await browser.get(allow, headers={"Cookie": cookie})
        assert INSTALLED_HEADING in first.text
        assert replayed.status_code == 401 and FAILURE_REASONS["invalid_state"] in replayed.text

        allow, cookie = await start()
        no_cookie = await browser.get(allow)
        assert no_cookie.status_code == 400 and FAILURE_REASONS["invalid_browser"] in no_cookie.text
        tampered_state = allow.replace("state=", "state=x")
        tampered = await browser.get(tampered_state, headers={"Cookie": cookie.replace("=", "=x", 1)})
        assert tampered.status_code == 401 and FAILED_HEADING in tampered.text

        allow, cookie = await start()
        states = multi.services.store.tables.oauth_states
        async with multi.services.store.engine.begin() as db:
            await db.execute(update(states).values(expire_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(1)))
        expired = await browser.get(allow, headers={"Cookie": cookie})
        assert expired.status_code == 401 and FAILURE_REASONS["invalid_state"] in expired.text

        cancelled = await browser.get(multi.server.url + REDIRECT_PATH + "?error=access_denied&state=x")
        assert FAILURE_REASONS["access_denied"] in cancelled.text
    # one code exchanged, for the one good callback
    assert len(multi.slack.calls_to("oauth.v2.access")) == 1


async def test_rotating_tokens_are_refreshed_before_they_expire(multi: Stack) -> None:
    multi.slack.token_lifetime = 600  # within Bolt's two hours, so the next request refreshes it
    await multi.install(rotation=True)
    first_token = multi.slack.bot_tokens_of(SANDBOX_TEAM)[-1]
    assert first_token.startswith("xoxe.xoxb-")

    await multi.sender.event(app_home_opened_event(INSTALLER))
    (publish,) = await multi.slack.wait_for_calls("views.publish")
    refresh = [c for c in multi.slack.calls_to("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"]
    assert len(refresh) == 1
    new_token = multi.slack.bot_tokens_of(SANDBOX_TEAM)[-1]
    assert new_token != first_token
    assert publish.headers["Authorization"] == f"Bearer {new_token}"
    stored = await multi.services.workspaces.installations.async_find_bot(enterprise_id=None, team_id="T0SANDBOX")
    assert stored is not None and stored.bot_token == new_token


async def test_an_org_wide_install_serves_every_workspace_of_the_organisation(multi: Stack) -> None:
    await installed_and_connected(multi, ORG)
    stored = await multi.services.workspaces.installations.async_find_installation(
        enterprise_id="E0ORG", team_id=None, is_enterprise_install=True
    )
    assert stored is not None and stored.team_id is None and stored.is_enterprise_install

    reply = await command(multi, samples.DOCUMENTED_ID, team=ORG)
    assert reply["blocks"][0]["text"]["text"] == "Customer Support Call"
    assert await multi.services.store.workspaces.connection(WorkspaceKey("E0ORG", None)) is not None


# ---- App Home and connecting Hamsa -------------------------------------------------------------


async def test_until_connected_commands_and_mentions_say_so_links_stay_plain_and_hamsa_is_not_called(
    multi: Stack,
) -> None:
    await multi.install()
    reply = await command(multi, samples.DOCUMENTED_ID)
    assert "isn't connected" in reply["text"] and f"<@{INSTALLER}>" in reply["text"]
    await multi.sender.event(app_mention_event(f"<@U0HAMSABOT> {LINK}"))
    (post,) = await multi.slack.wait_for_calls("chat.postMessage")
    assert "isn't connected" in post.params["text"]
    await multi.sender.event(link_shared_event([LINK]))
    await multi.services.background.drain(5)
    assert multi.slack.calls_to("chat.unfurl") == []
    assert multi.hamsa.count() == 0


async def test_app_home_shows_the_installer_connect_and_everyone_else_the_status(multi: Stack) -> None:
    await multi.install()
    multi.slack.add_user(SandboxUser("U0BOB", "T0SANDBOX", name="bob"))
    await multi.sender.event(app_home_opened_event(INSTALLER))
    await multi.sender.event(app_home_opened_event("U0BOB"))
    await multi.slack.wait_for_calls("views.publish", 2)
    assert action_ids(published_for(multi, INSTALLER)) == [CONNECT_HAMSA]
    bob = published_for(multi, "U0BOB")
    assert action_ids(bob) == []
    assert "not connected yet" in json.dumps(bob)


async def test_a_workspace_admin_may_manage_too(multi: Stack) -> None:
    await multi.install()
    multi.slack.add_user(SandboxUser("U0ADMIN", "T0SANDBOX", name="ada", is_admin=True))
    answer = await multi.connect_hamsa(user="U0ADMIN")
    assert (answer.status_code, answer.text) == (200, "")
    connection = await multi.services.store.workspaces.connection(WorkspaceKey(None, "T0SANDBOX"))
    assert connection is not None and connection.connected_by == "U0ADMIN"


async def test_connecting_checks_the_key_stores_it_sealed_and_shows_only_its_last_four(
    multi: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await installed_and_connected(multi, domains="calls.example.com, support.example.org")
    # The key check asks for one call (App Home then lists the latest few).
    (check,) = [r for r in multi.hamsa.requests if r.path.endswith("/minimal-list") and ("perPage", "1") in r.query]
    assert check.headers["Authorization"] == f"Token {multi.hamsa.api_key}"
    home = json.dumps(published_for(multi, INSTALLER))
    assert multi.hamsa.api_key[-4:] in home and multi.hamsa.api_key not in home
    assert action_ids(published_for(multi, INSTALLER)) == [CONNECT_HAMSA, DISCONNECT_HAMSA]
    assert "calls.example.com" in home
    assert multi.hamsa.api_key not in caplog.text

    # the extra domain now counts as a conversation link
    reply = await command(multi, f"https://calls.example.com/c/{samples.DOCUMENTED_ID}")
    assert reply["blocks"][0]["text"]["text"] == "Customer Support Call"


async def test_a_refused_key_or_a_malformed_domain_is_shown_on_its_field(multi: Stack) -> None:
    await multi.install()
    refused = await multi.connect_hamsa(api_key="not-a-real-key")
    assert refused.json() == {"response_action": "errors", "errors": {API_KEY_BLOCK: KEY_REFUSED}}
    bad = await multi.connect_hamsa(domains="calls.example.com, <!channel>")
    assert bad.json()["errors"] == {DOMAINS_BLOCK: BAD_DOMAINS.format(bad="<!channel>")}
    assert await multi.services.store.workspaces.connection(WorkspaceKey(None, "T0SANDBOX")) is None


async def test_an_unreachable_hamsa_is_shown_on_the_key_field(multi: Stack) -> None:
    await multi.install()
    multi.hamsa.inject(Fault.status(503), times=-1)
    answer = await multi.connect_hamsa()
    assert answer.json()["response_action"] == "errors"
    assert "could not be reached" in answer.json()["errors"][API_KEY_BLOCK]


async def test_a_slow_hamsa_gets_a_checking_modal_then_the_verdict() -> None:
    async with await start_stack(multi_workspace=True, hamsa_read_timeout=5.0) as multi:
        await _slow_check(multi)


async def _slow_check(multi: Stack) -> None:
    await multi.install()
    multi.hamsa.inject(Fault.delay(2.5))
    started = time.monotonic()
    answer = await multi.connect_hamsa()
    assert time.monotonic() - started < 3  # within Slack's 3 seconds
    assert answer.json()["response_action"] == "update"
    assert CHECKING in json.dumps(answer.json()["view"], ensure_ascii=False)
    (update_call,) = await multi.slack.wait_for_calls("views.update", timeout=10)
    assert CONNECTED_TEXT in json.dumps(update_call.params["view"], ensure_ascii=False), update_call.params["view"][
        "blocks"
    ][1]
    assert await multi.services.store.workspaces.connection(WorkspaceKey(None, "T0SANDBOX")) is not None


async def test_a_forged_submission_or_disconnect_by_someone_else_changes_nothing(multi: Stack) -> None:
    await installed_and_connected(multi)
    multi.slack.add_user(SandboxUser("U0MALLORY", "T0SANDBOX", name="mallory"))
    forged = await multi.connect_hamsa(user="U0MALLORY", api_key=OTHER_KEY)
    assert forged.json()["response_action"] == "errors"
    assert forged.json()["errors"][API_KEY_BLOCK].startswith(NOT_A_MANAGER.split("{", 1)[0])
    view = {"type": "home", "blocks": []}
    await multi.sender.home_action(DISCONNECT_HAMSA, user_id="U0MALLORY", view=view)
    await multi.sender.home_action(CONNECT_HAMSA, user_id="U0MALLORY", view=view)
    await multi.services.background.drain(5)
    connection = await multi.services.store.workspaces.connection(WorkspaceKey(None, "T0SANDBOX"))
    assert connection is not None and connection.api_key == multi.hamsa.api_key
    assert multi.slack.calls_to("views.open") == []


async def test_the_installer_can_change_keep_and_disconnect(multi: Stack) -> None:
    await installed_and_connected(multi)
    await multi.sender.home_action(CONNECT_HAMSA, user_id=INSTALLER, view={"type": "home", "blocks": []})
    (opened,) = await multi.slack.wait_for_calls("views.open")
    key_field = next(b for b in opened.params["view"]["blocks"] if b.get("block_id") == API_KEY_BLOCK)
    assert "initial_value" not in key_field["element"] and key_field["optional"] is True

    kept = await multi.connect_hamsa(api_key="", domains="calls.example.com")  # keep the key, add a domain
    assert kept.text == ""
    connection = await multi.services.store.workspaces.connection(WorkspaceKey(None, "T0SANDBOX"))
    assert connection is not None and connection.api_key == multi.hamsa.api_key

    await multi.sender.home_action(DISCONNECT_HAMSA, user_id=INSTALLER, view={"type": "home", "blocks": []})
    await multi.services.background.drain(5)
    assert await multi.services.store.workspaces.connection(WorkspaceKey(None, "T0SANDBOX")) is None
    assert "isn't connected" in (await command(multi, samples.DOCUMENTED_ID))["text"]


# ---- isolation -----------------------------------------------------------------------------------


async def test_two_workspaces_each_see_only_their_own_conversations(multi: Stack) -> None:
    multi.hamsa.add_account(OTHER_KEY, {samples.FAILED_ID})
    await installed_and_connected(multi)
    await installed_and_connected(multi, OTHER_TEAM, user=INSTALLER, api_key=OTHER_KEY)

    # the first workspace warms the cache with a conversation the second one's key can't see
    assert (await command(multi, samples.DOCUMENTED_ID))["blocks"][0]["text"]["text"] == "Customer Support Call"
    other = await command(multi, samples.DOCUMENTED_ID, team=OTHER_TEAM)
    assert other["text"].startswith(NOT_FOUND)
    assert (await command(multi, samples.FAILED_ID, team=OTHER_TEAM))["blocks"][0]["text"][
        "text"
    ] == "Billing follow-up"

    # a button value naming the first workspace's conversation, clicked in the second, finds nothing
    url = multi.slack.new_response_url()
    forged = actions.encode(ButtonValue(samples.DOCUMENTED_ID))
    await multi.sender.action(actions.SHOW_LOGS, forged, response_url=url, team=OTHER_TEAM, is_ephemeral=True)
    (reply,) = await multi.slack.wait_for_responses(1, url=url)
    assert reply.body["text"].startswith(NOT_FOUND)

    # each workspace's calls to Slack use its own token
    replies = [c for c in multi.slack.calls if c.method == "views.publish"]
    assert {c.team for c in replies} == {SANDBOX_TEAM.key, OTHER_TEAM.key}


async def test_installed_and_connected_it_answers_commands_and_unfurls_on_each_database(
    multi_on_each_database: Stack,
) -> None:
    multi = multi_on_each_database
    await installed_and_connected(multi)
    reply = await command(multi, samples.DOCUMENTED_ID)
    assert reply["blocks"][0]["text"]["text"] == "Customer Support Call"
    await multi.sender.event(link_shared_event([LINK]))
    (unfurl,) = await multi.slack.wait_for_calls("chat.unfurl")
    assert unfurl.team == SANDBOX_TEAM.key and LINK in unfurl.params["unfurls"]


async def test_uninstalling_deletes_every_row_of_that_workspace_and_only_those(multi_on_each_database: Stack) -> None:
    multi = multi_on_each_database
    multi.hamsa.add_account(OTHER_KEY, {samples.FAILED_ID})
    await installed_and_connected(multi, domains="calls.example.com")
    await installed_and_connected(multi, OTHER_TEAM, api_key=OTHER_KEY, domains="other.example.com")

    await multi.sender.event(app_uninstalled_event())
    await multi.sender.event(tokens_revoked_event(bot=[OTHER_TEAM.bot_user_id]), team=OTHER_TEAM)
    await multi.services.background.drain(5)
    store = multi.services.store
    async with store.engine.connect() as db:
        for table in store.tables.metadata.sorted_tables:
            rows = (await db.execute(select(table))).mappings().all()
            assert [dict(r) for r in rows if _belongs(r, "T0SANDBOX") or _belongs(r, "T0OTHER")] == [], table.name

    await asyncio.sleep(0)
    assert multi.hamsa.count() > 0


def _belongs(row: object, team_id: str) -> bool:
    values = dict(row)  # type: ignore[call-overload]
    return values.get("team_id") == team_id or str(values.get("workspace_id", "")).endswith(f"/{team_id}")


async def test_the_database_holds_no_token_or_key_in_clear(
    multi_on_each_database: Stack, database_bytes: Callable[[str], Awaitable[bytes]]
) -> None:
    multi = multi_on_each_database
    await installed_and_connected(multi)
    raw = await database_bytes(multi.settings.database_url)
    assert b"T0SANDBOX" in raw  # the scan does see the data
    for secret in (*multi.slack.bot_tokens_of(SANDBOX_TEAM), multi.hamsa.api_key, multi.slack.client_secret):
        assert secret.encode() not in raw


async def test_connect_modal_and_home_pass_slacks_view_checks(multi: Stack) -> None:
    await installed_and_connected(multi)
    assert all(c.answer and c.answer.get("ok") for c in multi.slack.calls_to("views.publish"))
    assert connect_modal()["callback_id"]
