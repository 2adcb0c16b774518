"""Following calls end to end over HTTP: Hamsa's webhooks, previews that update themselves, alerts and triage.

The stand-in Hamsa sends webhooks shaped as its guide documents and changes its calls; the stand-in
Slack records every unfurl, post and update. Tests wait on what Slack received, or on the worker
becoming idle, never on the clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.following.webhooks import MAX_WEBHOOK_BYTES, WEBHOOK_PATH
from bot.render.alerts import (
    ALERT_REOPEN,
    ALERT_RESOLVE,
    ALERT_TAKE,
    DISCUSS,
    HANDLING,
    alert_value,
)
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import Fault, send_webhook, webhook_event
from bot.sandbox.fake_slack import SlackFault
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, DEFAULT_USER, link_shared_event
from bot.sandbox.stack import Stack, start_stack
from bot.store.secrets import generate_key

SECRET = "hsk_sandbox-webhook-secret-7c2d91"
LIVE_ID = samples.IN_PROGRESS_ID
LIVE_LINK = f"https://dashboard.tryhamsa.com/conversations/{LIVE_ID}"
FAILED_ID = samples.FAILED_ID


@pytest.fixture
async def live() -> AsyncIterator[Stack]:
    settings = {"hamsa_webhook_secret": SecretStr(SECRET), "encryption_keys": SecretStr(generate_key())}
    async with await start_stack(**settings, live_poll_seconds=60.0) as running:
        running.services.outbox.retry_base = 0.05
        await running.services.identity.known.wait()
        yield running


async def hook(stack: Stack, event_type: str, conversation_id: str, *, secret: str = SECRET) -> httpx.Response:
    conversation = stack.hamsa.conversations[conversation_id]
    return await send_webhook(
        stack.server.url + WEBHOOK_PATH, f"Bearer {secret}", webhook_event(event_type, conversation)
    )


async def idle(stack: Stack) -> None:
    await stack.services.background.drain(5)
    await stack.services.worker.until_idle()
    await stack.services.background.drain(5)


def end_call(stack: Stack, conversation_id: str, status: str = "COMPLETED", **fields: Any) -> None:
    conversation = stack.hamsa.conversations[conversation_id]
    conversation.update(
        status=status,
        callDuration=fields.pop("callDuration", 95),
        mediaUrl=fields.pop("mediaUrl", "https://storage.example.com/recordings/live.mp3"),
        jobResponse={"transcription": [{"Agent": "Hello"}, {"User": "Hi"}], "outcomeResult": {}},
        logs=[{"id": "l1", "timestamp": "2025-03-04T09:00:00Z", "payload": {}}],
        **fields,
    )


async def subscribe(stack: Stack, words: str = "", channel: str = DEFAULT_CHANNEL) -> dict[str, Any]:
    url = stack.slack.new_response_url()
    await stack.sender.command(f"subscribe {words}".strip(), url, channel_id=channel)
    await idle(stack)
    return {"posts": stack.slack.calls_to("chat.postMessage"), "responses": stack.slack.responses_to(url)}


async def outbox_rows(stack: Stack) -> int:
    store = stack.services.store
    async with store.engine.connect() as db:
        return int((await db.execute(select(func.count()).select_from(store.tables.outbox))).scalar_one())


# ---- receiving webhooks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "body", "status"),
    [
        (None, None, 401),
        ("Bearer wrong-secret", None, 401),
        (f"Token {SECRET}", None, 401),
        (f"Bearer {SECRET}", b"{not json", 400),
        (f"Bearer {SECRET}", b'["a list"]', 400),
        (f"Bearer {SECRET}", json.dumps({"callId": LIVE_ID}).encode(), 400),
        (f"Bearer {SECRET}", json.dumps({"eventType": "call.exploded", "callId": LIVE_ID}).encode(), 200),
        (f"Bearer {SECRET}", b"x" * (MAX_WEBHOOK_BYTES + 1), 413),
    ],
    ids=["missing", "wrong", "not-bearer", "not-json", "not-an-object", "no-event-type", "unknown-event", "too-large"],
)
async def test_refused_or_unknown_webhooks_do_nothing(
    live: Stack, authorization: str | None, body: bytes | None, status: int
) -> None:
    default = webhook_event("call.ended", live.hamsa.conversations[LIVE_ID])
    answer = await send_webhook(live.server.url + WEBHOOK_PATH, authorization, body if body is not None else default)
    assert answer.status_code == status
    await idle(live)
    assert await outbox_rows(live) == 0
    assert live.hamsa.count() == 0
    assert [c.method for c in live.slack.calls if c.method != "auth.test"] == []


async def test_an_event_delivered_twice_is_queued_once(live: Stack) -> None:
    await subscribe(live)  # so the event needs Hamsa's answer
    body = webhook_event("call.ended", live.hamsa.conversations[FAILED_ID])
    for _ in range(3):
        answer = await send_webhook(live.server.url + WEBHOOK_PATH, f"Bearer {SECRET}", body)
        assert answer.status_code == 200
    await idle(live)
    assert await outbox_rows(live) == 1
    assert live.hamsa.count(FAILED_ID) == 1


async def test_an_event_nothing_depends_on_is_not_even_fetched(live: Stack) -> None:
    """No rule in the workspace, no place showing the call: Hamsa is not asked."""
    assert (await hook(live, "call.started", FAILED_ID)).status_code == 200
    await idle(live)
    assert await outbox_rows(live) == 1
    assert live.hamsa.count() == 0


async def test_a_webhook_without_a_call_id_is_acknowledged_and_nothing_happens(live: Stack) -> None:
    body = webhook_event("call.ended", live.hamsa.conversations[FAILED_ID])
    body["callId"] = None
    body["data"] = {}
    assert (await send_webhook(live.server.url + WEBHOOK_PATH, f"Bearer {SECRET}", body)).status_code == 200
    body = webhook_event("call.ended", live.hamsa.conversations[FAILED_ID])
    del body["callId"]  # the ID is still in data.data.conversationId
    assert (await send_webhook(live.server.url + WEBHOOK_PATH, f"Bearer {SECRET}", body)).status_code == 200
    await idle(live)
    assert await outbox_rows(live) == 1


# ---- previews that update themselves ------------------------------------------------------------------


async def test_an_unfurled_call_in_progress_is_unfurled_again_when_it_ends(live: Stack) -> None:
    event = link_shared_event([LIVE_LINK])
    await live.sender.event(event)
    (first,) = await live.slack.wait_for_calls("chat.unfurl")
    assert "In progress" in json.dumps(first.params["unfurls"])

    end_call(live, LIVE_ID)
    assert (await hook(live, "call.ended", LIVE_ID)).status_code == 200
    first, second = await live.slack.wait_for_calls("chat.unfurl", 2)
    assert (second.params["channel"], second.params["ts"]) == (event["channel"], event["message_ts"])
    shown = json.dumps(second.params["unfurls"][LIVE_LINK])
    assert "Completed" in shown and "Updated" in shown and "1m 35s" in shown
    await idle(live)
    # settled: the place is forgotten, and another webhook changes nothing
    assert (await hook(live, "call.ended", LIVE_ID)).status_code == 200
    await idle(live)
    assert len(live.slack.calls_to("chat.unfurl")) == 2


async def test_without_webhooks_a_live_call_is_polled_until_it_ends() -> None:
    async with await start_stack(live_poll_seconds=0.2) as stack:
        await stack.sender.event(link_shared_event([LIVE_LINK]))
        await stack.slack.wait_for_calls("chat.unfurl")
        await stack.services.background.drain(5)
        assert await stack.services.outbox.pending() == 1  # one poll, armed

        end_call(stack, LIVE_ID)
        _, updated = await stack.slack.wait_for_calls("chat.unfurl", 2)
        assert "Completed" in json.dumps(updated.params["unfurls"])
        await stack.services.worker.until_idle()
        assert await stack.services.outbox.pending() == 0  # settled: polling stopped


async def test_a_private_answer_is_replaced_while_its_response_url_lasts(live: Stack) -> None:
    url = live.slack.new_response_url()
    await live.sender.command(LIVE_ID, url)
    await live.slack.wait_for_responses(1, url=url)
    await idle(live)
    end_call(live, LIVE_ID)
    await hook(live, "call.ended", LIVE_ID)
    _, update = await live.slack.wait_for_responses(2, url=url)
    assert update.body["replace_original"] is True
    assert "Completed" in json.dumps(update.body) and "Share in channel" in json.dumps(update.body)


# ---- alerts -----------------------------------------------------------------------------------------------


async def test_subscribe_confirms_in_the_channel_and_a_failed_call_alerts_once(live: Stack) -> None:
    done = await subscribe(live)
    (confirmation,) = done["posts"]
    assert f"<@{DEFAULT_USER}> subscribed this channel" in confirmation.params["text"]
    assert "failed, no-answer" in confirmation.params["text"]

    for _ in range(2):  # Hamsa delivers it twice
        assert (await hook(live, "call.ended", FAILED_ID)).status_code == 200
    await idle(live)
    alerts = live.slack.calls_to("chat.postMessage")[1:]
    assert len(alerts) == 1
    shown = json.dumps(alerts[0].params)
    assert "Billing follow-up" in shown and DISCUSS in shown and "Take it" in shown
    assert "501234567" not in shown  # the caller's number is masked, as everywhere a channel looks


async def test_a_completed_call_under_a_failed_rule_gets_no_alert(live: Stack) -> None:
    await subscribe(live, "failed")
    end_call(live, LIVE_ID, "COMPLETED")
    await hook(live, "call.ended", LIVE_ID)
    await idle(live)
    assert len(live.slack.calls_to("chat.postMessage")) == 1  # the confirmation only


async def test_a_rule_for_one_agent_alerts_only_for_that_agent(live: Stack) -> None:
    await subscribe(live, "failed completed agent support agent")  # names match whatever their case
    end_call(live, LIVE_ID, "COMPLETED")  # the Support Agent's call
    await hook(live, "call.ended", LIVE_ID)
    await hook(live, "call.ended", FAILED_ID)  # the Billing Assistant's
    await idle(live)
    alerts = live.slack.calls_to("chat.postMessage")[1:]
    assert len(alerts) == 1 and "Inbound support" in json.dumps(alerts[0].params)


async def test_subscribing_where_the_app_is_not_a_member_keeps_nothing_and_says_how_to_invite(live: Stack) -> None:
    live.slack.non_member_channels.add("C0PRIVATE")
    done = await subscribe(live, channel="C0PRIVATE")
    (told,) = done["responses"]
    assert "/invite @Hamsa" in told.body["text"]
    await hook(live, "call.ended", FAILED_ID)
    await idle(live)
    assert live.slack.calls_to("chat.postMessage")[1:] == []


async def test_unsubscribe_and_subscriptions(live: Stack) -> None:
    await subscribe(live, "failed")
    url = live.slack.new_response_url()
    await live.sender.command("subscriptions", url)
    (listed,) = await live.slack.wait_for_responses(1, url=url)
    assert "failed calls" in listed.body["text"]
    await live.sender.command("unsubscribe failed", live.slack.new_response_url())
    await idle(live)
    assert "stopped alerts" in live.slack.calls_to("chat.postMessage")[-1].params["text"]
    await hook(live, "call.ended", FAILED_ID)
    await idle(live)
    assert "stopped alerts" in live.slack.calls_to("chat.postMessage")[-1].params["text"]


async def test_hamsa_down_then_slack_down_delays_the_alert_but_never_loses_or_doubles_it(live: Stack) -> None:
    await subscribe(live)
    live.hamsa.inject(Fault.status(503), times=-1)
    await hook(live, "call.ended", FAILED_ID)
    await asyncio.sleep(0)
    while live.hamsa.count(FAILED_ID) < 4:  # asked, and asked again with backoff
        await live.services.worker.run_once()
        await asyncio.sleep(0.05)
    assert live.slack.calls_to("chat.postMessage")[1:] == []
    live.hamsa.clear_faults()
    live.slack.inject("chat.postMessage", SlackFault.server_error(503), times=4)  # beyond slack_sdk's retries
    outbox = live.services.outbox
    async with outbox.engine.begin() as db:
        await db.execute(outbox.table.update().values(next_attempt_at=0))
    posts = await live.slack.wait_for_calls("chat.postMessage", 6, timeout=10)
    await idle(live)
    delivered = [c for c in live.slack.calls_to("chat.postMessage") if c.answer and c.answer.get("ok")]
    assert len(delivered) == 2 and len(posts) >= 6  # the confirmation and one alert, after the failures


async def test_an_archived_channel_stops_its_rule_and_tells_the_subscriber_once(live: Stack) -> None:
    await subscribe(live)
    live.slack.archived_channels.add(DEFAULT_CHANNEL)
    await hook(live, "call.ended", FAILED_ID)
    other = dict(live.hamsa.conversations[FAILED_ID], id=samples.LONG_ID, status="FAILED")
    live.hamsa.conversations[samples.LONG_ID] = other
    await hook(live, "call.ended", samples.LONG_ID)
    await idle(live)
    told = [c for c in live.slack.calls_to("chat.postMessage") if c.params["channel"] == DEFAULT_USER]
    assert len(told) == 1 and "stopped" in told[0].params["text"]
    url = live.slack.new_response_url()
    await live.sender.command("subscriptions", url)
    (listed,) = await live.slack.wait_for_responses(1, url=url)
    assert "stopped: is_archived" in listed.body["text"]


async def test_an_alert_for_a_call_still_processing_updates_in_place_when_the_recording_comes(live: Stack) -> None:
    await subscribe(live, "completed")
    end_call(live, LIVE_ID, "COMPLETED", mediaUrl=None, updatedAt=_now())
    live.hamsa.conversations[LIVE_ID]["jobResponse"] = {}
    await hook(live, "call.ended", LIVE_ID)
    await idle(live)
    alert = live.slack.calls_to("chat.postMessage")[-1]
    assert "still processing" in json.dumps(alert.params)
    live.hamsa.conversations[LIVE_ID]["mediaUrl"] = "https://storage.example.com/recordings/late.mp3"
    live.hamsa.conversations[LIVE_ID]["jobResponse"] = {"transcription": [{"User": "Hi"}], "outcomeResult": {}}
    outbox = live.services.outbox
    async with outbox.engine.begin() as db:  # the next poll is now
        await db.execute(outbox.table.update().values(next_attempt_at=0))
    (update,) = await live.slack.wait_for_calls("chat.update")
    assert update.params["ts"] == alert.answer["ts"]
    assert "still processing" not in json.dumps(update.params) and "Updated" in json.dumps(update.params)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# ---- triage ---------------------------------------------------------------------------------------------


async def posted_alert(stack: Stack) -> tuple[str, int]:
    await subscribe(stack)
    await hook(stack, "call.ended", FAILED_ID)
    await idle(stack)
    alert = stack.slack.calls_to("chat.postMessage")[-1]
    triage = next(b for b in alert.params["blocks"] if b.get("block_id") == "alert_triage")
    value = json.loads(triage["elements"][0]["value"])["alert"]
    return alert.answer["ts"], value


async def click(stack: Stack, action_id: str, alert_id: int, ts: str, user: str) -> str:
    url = stack.slack.new_response_url()
    await stack.sender.action(action_id, alert_value(alert_id), response_url=url, message_ts=ts, user_id=user)
    return url


async def test_take_resolve_reopen_update_the_alert_for_everyone_and_note_it_in_the_thread(live: Stack) -> None:
    ts, alert_id = await posted_alert(live)
    await click(live, ALERT_TAKE, alert_id, ts, "U0ANN")
    await idle(live)
    taken = live.slack.messages[DEFAULT_CHANNEL, ts]
    assert HANDLING.format(user="U0ANN") in json.dumps(taken["blocks"])
    notes = [c.params for c in live.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert notes[-1]["text"] == "<@U0ANN> is handling this call."

    await click(live, ALERT_RESOLVE, alert_id, ts, "U0BOB")
    await idle(live)
    resolved = live.slack.messages[DEFAULT_CHANNEL, ts]
    assert len(resolved["blocks"]) == 2 and "Resolved* by <@U0BOB>" in json.dumps(resolved["blocks"])

    await click(live, ALERT_REOPEN, alert_id, ts, "U0ANN")
    await idle(live)
    reopened = live.slack.messages[DEFAULT_CHANNEL, ts]
    assert "Take it" in json.dumps(reopened["blocks"])
    notes = [c.params["text"] for c in live.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert notes == [
        "<@U0ANN> is handling this call.",
        "<@U0BOB> marked this call resolved.",
        "<@U0ANN> reopened this call.",
    ]


async def test_two_people_taking_an_alert_at_once_end_with_one_owner(live: Stack) -> None:
    ts, alert_id = await posted_alert(live)
    urls = await asyncio.gather(*(click(live, ALERT_TAKE, alert_id, ts, user) for user in ("U0ANN", "U0BOB")))
    await idle(live)
    store = live.services.store
    async with store.engine.connect() as db:
        owner = (await db.execute(select(store.tables.alerts.c.owner))).scalar_one()
    loser = urls[1] if owner == "U0ANN" else urls[0]
    (told,) = live.slack.responses_to(loser)
    assert f"<@{owner}> is already handling this call" in told.body["text"]
    notes = [c for c in live.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert len(notes) == 1


async def test_a_forged_triage_value_changes_nothing(live: Stack) -> None:
    ts, alert_id = await posted_alert(live)
    await click(live, ALERT_RESOLVE, alert_id + 1000, ts, "U0MALLORY")
    url = live.slack.new_response_url()
    await live.sender.action(ALERT_RESOLVE, '{"alert": "1 OR 1=1"}', response_url=url, message_ts=ts)
    await idle(live)
    assert "Take it" in json.dumps(live.slack.messages[DEFAULT_CHANNEL, ts]["blocks"])
    assert live.slack.calls_to("chat.update") == []


# ---- the webhook secret in App Home -------------------------------------------------------------------


async def test_app_home_shows_managers_the_webhook_and_a_new_secret_replaces_the_old() -> None:
    from bot.render.home import REGENERATE_WEBHOOK_SECRET
    from bot.sandbox.fake_slack import SandboxUser
    from bot.sandbox.slack_requests import app_home_opened_event
    from bot.sandbox.stack import INSTALLER

    async with await start_stack(multi_workspace=True) as multi:
        multi.services.outbox.retry_base = 0.05
        await multi.install()
        await multi.connect_hamsa()
        await multi.services.background.drain(5)
        await multi.sender.command("subscribe", multi.slack.new_response_url(), user_id=INSTALLER)
        multi.slack.add_user(SandboxUser("U0BOB", "T0SANDBOX", name="bob"))
        await multi.sender.event(app_home_opened_event("U0BOB"))
        await multi.services.background.drain(5)
        views = {c.params["user_id"]: c.params["view"] for c in multi.slack.calls_to("views.publish")}
        manager, bob = json.dumps(views[INSTALLER]), json.dumps(views["U0BOB"])
        assert "`/hamsa/webhooks`" in manager and "PUBLIC_URL" in manager  # no PUBLIC_URL: the path, and why
        secret = manager.split("Bearer ", 1)[1].split("`", 1)[0]
        assert secret.startswith("hsk_") and secret not in bob and "Bearer" not in bob

        url = multi.server.url + WEBHOOK_PATH
        body = webhook_event("call.ended", multi.hamsa.conversations[FAILED_ID])
        assert (await send_webhook(url, f"Bearer {secret}", body)).status_code == 200

        await multi.sender.home_action(REGENERATE_WEBHOOK_SECRET, user_id="U0BOB", view={"type": "home", "blocks": []})
        await multi.services.background.drain(5)
        assert (await send_webhook(url, f"Bearer {secret}", body)).status_code == 200  # a forged click changed nothing

        await multi.sender.home_action(
            REGENERATE_WEBHOOK_SECRET, user_id=INSTALLER, view={"type": "home", "blocks": []}
        )
        await multi.services.background.drain(5)
        newest = json.dumps(
            [c for c in multi.slack.calls_to("views.publish") if c.params["user_id"] == INSTALLER][-1].params
        )
        fresh = newest.split("Bearer ", 1)[1].split("`", 1)[0]
        assert fresh != secret
        assert (await send_webhook(url, f"Bearer {secret}", body)).status_code == 401
        assert (await send_webhook(url, f"Bearer {fresh}", body)).status_code == 200
        await multi.services.worker.until_idle()
        assert multi.hamsa.count(FAILED_ID) == 1  # the same event, delivered three times: fetched once
        assert len([c for c in multi.slack.calls_to("chat.postMessage") if "Billing" in c.params["text"]]) == 1
