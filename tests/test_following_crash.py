"""A real ``hamsa-bot serve`` killed with SIGKILL right after acknowledging a webhook: the alert still comes.

The webhook's work is in the store before the 200 goes out; the killed process held it under a lease,
which runs out, and the restarted process finishes it. Hamsa holds its answer until the first process
is dead, so the work can't have been finished before the kill.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.following.webhooks import WEBHOOK_PATH
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import GatedHamsa, send_webhook, webhook_event
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.processes import AppProcess, app_process
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, SlackSender
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, SIGNING_SECRET

SECRET = "hsk_crash-test-webhook-secret"


def app(hamsa: GatedHamsa, slack: FakeSlack, database: Path) -> AppProcess:
    return app_process(
        hamsa,
        slack,
        HAMSA_WEBHOOK_SECRET=SECRET,
        DATABASE_URL=f"sqlite:///{database}",
        OUTBOX_LEASE_SECONDS="1",
        LOG_LEVEL="WARNING",
    )


async def test_an_alert_survives_a_crash_right_after_its_webhook_was_acknowledged(tmp_path: Path) -> None:
    database = tmp_path / "hamsa-bot.db"
    async with GatedHamsa(api_key=HAMSA_KEY) as hamsa, FakeSlack(bot_token=BOT_TOKEN) as slack:
        first = app(hamsa, slack, database)
        await first.start()
        try:
            async with SlackSender(first.url, SIGNING_SECRET) as sender:
                await sender.command("subscribe failed", slack.new_response_url())
            (confirmation,) = await slack.wait_for_calls("chat.postMessage", timeout=10)
            assert "subscribed this channel" in confirmation.params["text"]

            body = webhook_event("call.ended", hamsa.conversations[samples.FAILED_ID])
            acknowledged = await send_webhook(first.url + WEBHOOK_PATH, f"Bearer {SECRET}", body)
            assert acknowledged.status_code == 200
            async with asyncio.timeout(10):
                await hamsa.arrived.wait()  # the work began: the process is fetching the call
        finally:
            first.kill()
        await first.stop()

        hamsa.release.set()
        second = app(hamsa, slack, database)
        async with second:
            alert = (await slack.wait_for_calls("chat.postMessage", 2, timeout=15))[1]
            assert alert.params["channel"] == DEFAULT_CHANNEL
            assert "Billing follow-up" in alert.params["text"]
        # stopped (SIGTERM finishes work in flight): a second alert would be among the calls by now
        assert len(slack.calls_to("chat.postMessage")) == 2
