"""Three real ``hamsa-bot serve`` processes sharing this machine's PostgreSQL and Redis, as replicas do.

Each test starts the replicas on their own ports (as behind a load balancer), with the stand-ins for
Slack and Hamsa in the test process, a fresh Postgres database and a Redis key prefix of its own. Where
a test must show that something did *not* happen, it waits for the replica's own log line saying it
decided so, then counts.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from bot import actions
from bot.actions import ButtonValue
from bot.following.webhooks import WEBHOOK_PATH
from bot.installs import INSTALL_PATH, REDIRECT_PATH
from bot.messages import LOGS_ALREADY_POSTED
from bot.render.modals import connect_modal
from bot.render.pages import INSTALLED_HEADING
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, GatedHamsa, send_webhook, webhook_event
from bot.sandbox.fake_slack import SANDBOX_TEAM, FakeSlack
from bot.sandbox.processes import APP_COMMAND, AppProcess, app_process
from bot.sandbox.slack_requests import SlackSender, link_shared_event, new_ts
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, INSTALLER, SIGNING_SECRET, connect_form
from bot.store.secrets import generate_key

SECRET = "hsk_replicas-webhook-secret"
LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
Replicas = Callable[..., Awaitable[list[AppProcess]]]


@pytest.fixture
async def replicas(postgres_url: str, redis_url: tuple[str, str]) -> AsyncIterator[Replicas]:
    """Starts replicas of the app on the one database and Redis; all are stopped after the test."""
    url, prefix = redis_url
    async with AsyncExitStack() as started:

        async def start(hamsa: FakeHamsa, slack: FakeSlack, count: int = 3, **settings: str) -> list[AppProcess]:
            shared = {"DATABASE_URL": postgres_url, "REDIS_URL": url, "REDIS_PREFIX": prefix}
            apps = []
            for _ in range(count):
                app = app_process(hamsa, slack, HAMSA_WEBHOOK_SECRET=SECRET, OUTBOX_LEASE_SECONDS="1", **shared)
                app.env.update(settings)
                apps.append(await started.enter_async_context(app))
            return apps

        yield start


async def test_a_slack_retry_landing_on_another_replica_is_one_unfurl(replicas: Replicas) -> None:
    async with FakeHamsa(api_key=HAMSA_KEY) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        one, two, three = await replicas(hamsa, slack)
        event = link_shared_event([LINK])
        async with SlackSender(one.url, SIGNING_SECRET) as first:
            assert (await first.event(event, event_id="Ev0RETRIED")).status_code == 200
        await slack.wait_for_calls("chat.unfurl", 1, timeout=10)
        for app in (two, three):
            async with SlackSender(app.url, SIGNING_SECRET) as again:
                assert (await again.event(event, event_id="Ev0RETRIED", retry_num=1)).status_code == 200
            await app.logged("duplicate event ignored")
    assert len(slack.calls_to("chat.unfurl")) == 1


async def test_two_clicks_on_show_logs_landing_on_two_replicas_post_the_logs_once(replicas: Replicas) -> None:
    async with FakeHamsa(api_key=HAMSA_KEY) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        one, two = await replicas(hamsa, slack, count=2)
        message_ts, value = new_ts(), actions.encode(ButtonValue(samples.DOCUMENTED_ID))
        urls = [slack.new_response_url(), slack.new_response_url()]
        async with SlackSender(one.url, SIGNING_SECRET) as first, SlackSender(two.url, SIGNING_SECRET) as second:
            clicks = await asyncio.gather(
                first.action(actions.SHOW_LOGS, value, response_url=urls[0], message_ts=message_ts),
                second.action(actions.SHOW_LOGS, value, response_url=urls[1], message_ts=message_ts),
            )
        assert [click.status_code for click in clicks] == [200, 200]
        (notice,) = await slack.wait_for_responses(1, timeout=10)
        await slack.wait_for_calls("chat.postMessage", 1, timeout=10)
    assert notice.body["text"] == LOGS_ALREADY_POSTED
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_forty_unfurls_of_one_call_over_three_replicas_ask_hamsa_once(replicas: Replicas) -> None:
    async with FakeHamsa(api_key=HAMSA_KEY, latency=0.3) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        apps = await replicas(hamsa, slack)
        senders = [SlackSender(app.url, SIGNING_SECRET) for app in apps]
        answers = await asyncio.gather(
            *(senders[i % 3].event(link_shared_event([LINK], message_ts=new_ts())) for i in range(40))
        )
        assert {a.status_code for a in answers} == {200}
        unfurls = await slack.wait_for_calls("chat.unfurl", 40, timeout=20)
        for sender in senders:
            await sender.aclose()
    assert all(call.answer == {"ok": True} for call in unfurls)
    assert hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_an_install_started_on_one_replica_finishes_on_another(replicas: Replicas) -> None:
    async with FakeHamsa(api_key=HAMSA_KEY) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        multi = {
            "SLACK_BOT_TOKEN": "",
            "HAMSA_API_KEY": "",
            "SLACK_CLIENT_ID": slack.client_id,
            "SLACK_CLIENT_SECRET": slack.client_secret,
            "ENCRYPTION_KEYS": generate_key(),
            "HAMSA_UAE_API_URL": hamsa.url,
        }
        one, two, three = await replicas(hamsa, slack, **multi)
        slack.consenting = (SANDBOX_TEAM, INSTALLER, False)
        slack.redirect_url = f"{two.url}{REDIRECT_PATH}"  # Slack sends the browser back through the balancer
        async with httpx.AsyncClient() as browser:
            page = await browser.get(f"{one.url}{INSTALL_PATH}")
            cookie = page.headers["set-cookie"].split(";", 1)[0]
            consent = await browser.get(html.unescape(_href(page.text, "add-to-slack")))
            answer = await browser.get(html.unescape(_href(consent.text, "allow")), headers={"Cookie": cookie})
        assert answer.status_code == 200 and INSTALLED_HEADING in answer.text
        async with SlackSender(three.url, SIGNING_SECRET) as sender:
            submitted = await sender.submit_view(connect_modal(), connect_form(hamsa.api_key), user_id=INSTALLER)
            assert (submitted.status_code, submitted.text) == (200, "")
            url = slack.new_response_url()
            await sender.command(samples.DOCUMENTED_ID, url, user_id=INSTALLER)
            (reply,) = await slack.wait_for_responses(1, url=url, timeout=10)
    assert reply.body["blocks"][0]["text"]["text"] == "Customer Support Call"


async def test_a_webhook_on_one_replica_is_one_alert_however_often_it_comes(replicas: Replicas) -> None:
    async with FakeHamsa(api_key=HAMSA_KEY) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        one, two, three = await replicas(hamsa, slack)
        async with SlackSender(one.url, SIGNING_SECRET) as sender:
            await sender.command("subscribe", slack.new_response_url())
        await slack.wait_for_calls("chat.postMessage", 1, timeout=10)
        body = webhook_event("call.ended", hamsa.conversations[samples.FAILED_ID])
        assert (await send_webhook(two.url + WEBHOOK_PATH, f"Bearer {SECRET}", body)).status_code == 200
        await slack.wait_for_calls("chat.postMessage", 2, timeout=10)
        assert (await send_webhook(three.url + WEBHOOK_PATH, f"Bearer {SECRET}", body)).status_code == 200
        await three.logged("hamsa webhook delivered again")
    alerts = [c for c in slack.calls_to("chat.postMessage") if "Billing follow-up" in c.params.get("text", "")]
    assert len(alerts) == 1


async def test_a_replica_killed_mid_work_leaves_it_to_another(replicas: Replicas) -> None:
    async with GatedHamsa(api_key=HAMSA_KEY) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        (one,) = await replicas(hamsa, slack, count=1)
        async with SlackSender(one.url, SIGNING_SECRET) as sender:
            await sender.command("subscribe", slack.new_response_url())
        await slack.wait_for_calls("chat.postMessage", 1, timeout=10)
        body = webhook_event("call.ended", hamsa.conversations[samples.FAILED_ID])
        assert (await send_webhook(one.url + WEBHOOK_PATH, f"Bearer {SECRET}", body)).status_code == 200
        async with asyncio.timeout(10):
            await hamsa.arrived.wait()  # the only replica has leased the work and is asking Hamsa now
        one.kill()
        await replicas(hamsa, slack, count=1)  # a replica that never saw the webhook
        hamsa.release.set()
        (_, alert) = await slack.wait_for_calls("chat.postMessage", 2, timeout=15)
    assert "Billing follow-up" in alert.params["text"]


async def test_serve_with_workers_runs_that_many_processes_on_one_port(
    postgres_url: str, redis_url: tuple[str, str], tmp_path: Path
) -> None:
    url, prefix = redis_url
    async with FakeHamsa(api_key=HAMSA_KEY) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        app = app_process(
            hamsa,
            slack,
            (*APP_COMMAND, "--workers", "2"),
            DATABASE_URL=postgres_url,
            REDIS_URL=url,
            REDIS_PREFIX=prefix,
        )
        async with app:
            await app.logged("started 2 workers")
            workers = _children(app.pid)
            async with asyncio.timeout(20):
                while len(workers) < 2:
                    await asyncio.sleep(0.05)
                    workers = _children(app.pid)
            async with SlackSender(app.url, SIGNING_SECRET) as sender:
                urls = [slack.new_response_url() for _ in range(10)]
                await asyncio.gather(*(sender.command(samples.DOCUMENTED_ID, u) for u in urls))
                for u in urls:
                    await slack.wait_for_responses(1, url=u, timeout=10)
            os.kill(workers[0], signal.SIGKILL)  # a worker crashes: the supervisor starts another
            await app.logged("exited with status -9")
            async with asyncio.timeout(20):
                while len(set(_children(app.pid)) - {workers[0]}) < 2:
                    await asyncio.sleep(0.05)
            workers = _children(app.pid)
            app_pid = app.pid
        # stopped with SIGTERM: the supervisor stopped its workers too
        assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
        assert not Path(f"/proc/{app_pid}").exists() or _state(app_pid) == "Z"


def _children(parent: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(parent):
            found.append(int(status.parent.name))
    return found


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def _href(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    assert found is not None, page[:300]
    return found.group(1)
