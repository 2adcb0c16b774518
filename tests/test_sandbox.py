"""The sandbox stand-ins must behave like the real services, or every test built on them lies."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
from aiohttp import web
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from bot.sandbox import samples
from bot.sandbox.blockkit import block_kit_problems, mrkdwn_texts, unescaped_markup
from bot.sandbox.fake_hamsa import FakeHamsa, Fault
from bot.sandbox.fake_slack import FakeSlack, SlackFault
from bot.sandbox.slack_requests import (
    SlackSender,
    block_actions,
    event_callback,
    link_shared_event,
    sign,
    slash_command,
    unfurl_block_actions,
)

KEY = {"Authorization": "Token test-hamsa-key"}
DOC_PATH = f"/v1/voice-agents/conversation/{samples.DOCUMENTED_ID}"


@pytest.fixture
async def hamsa() -> AsyncIterator[FakeHamsa]:
    async with FakeHamsa() as server:
        yield server


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=3) as client:
        yield client


async def _until(predicate, timeout: float = 2.0) -> None:
    """Poll a cheap in-memory condition; the fake has no hook for 'request arrived but unanswered'."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


# ---- signing and payloads ---------------------------------------------------------------------


def test_sign_matches_slack_known_answer() -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = sign("8f742231b10e8888abcd99yyyzzz85a5", body, 1531420618)
    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }


def test_payloads_have_slack_shapes() -> None:
    body, content_type = slash_command("849e77c6", response_url="http://r/1")
    fields = parse_qs(body, keep_blank_values=True)
    assert content_type == "application/x-www-form-urlencoded"
    assert {"token", "team_id", "enterprise_id", "trigger_id", "api_app_id", "is_enterprise_install"} <= set(fields)

    body, _ = block_actions("open_logs", "v1", response_url="http://r/2", message_ts="1.2", is_ephemeral=True)
    payload = parse_body(body, "application/x-www-form-urlencoded")
    assert payload["type"] == "block_actions" and "message" not in payload
    assert payload["container"]["is_ephemeral"] is True and payload["actions"][0]["value"] == "v1"

    link = "https://dashboard.tryhamsa.com/x"
    body, _ = unfurl_block_actions("show_logs", "v2", response_url="http://r/3", app_unfurl_url=link, message_ts="1.3")
    payload = parse_body(body, "application/x-www-form-urlencoded")
    assert "message" not in payload and payload["app_unfurl"]["app_unfurl_url"] == link
    assert payload["container"] == {
        "type": "message_attachment",
        "message_ts": "1.3",
        "attachment_id": 1,
        "channel_id": payload["channel"]["id"],
        "is_ephemeral": False,
        "is_app_unfurl": True,
        "app_unfurl_url": link,
    }

    composer = link_shared_event(["https://dashboard.tryhamsa.com/x"], source="composer")
    assert composer["channel"] == "COMPOSER" and composer["links"][0]["domain"] == "dashboard.tryhamsa.com"
    envelope = json.loads(event_callback(composer)[0])
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")


async def test_sender_signs_what_slack_sdk_verifies() -> None:
    seen: list[bool] = []
    verifier = SignatureVerifier("shh")

    async def events(request: web.Request) -> web.Response:
        body = await request.text()
        seen.append(verifier.is_valid_request(body, dict(request.headers)))
        return web.Response(text=request.headers.get("X-Slack-Retry-Num", "-"))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with SlackSender(f"http://127.0.0.1:{runner.addresses[0][1]}/", "shh") as sender:
            assert (await sender.command("help", "http://r/1")).text == "-"
            assert (await sender.event({"type": "app_mention"}, retry_num=2)).text == "2"
            forged = {"X-Slack-Signature": "v0=0"}
            await sender.post("x=1", "application/x-www-form-urlencoded", headers_override=forged)
    finally:
        await runner.cleanup()
    assert seen == [True, True, False]


def test_samples_are_well_formed() -> None:
    for conversation_id, conversation in samples.SAMPLES.items():
        assert str(uuid.UUID(conversation_id)) == conversation_id == conversation["id"]
    assert samples.documented_example()["callDuration"] == 125
    long = samples.SAMPLES[samples.LONG_ID]
    stamps = [log["timestamp"] for log in long["logs"]]
    assert len(stamps) == 3000 and stamps == sorted(stamps) and stamps[0] >= long["jobResponse"]["callStartedAt"]
    assert len(samples.long_call(5)["logs"]) == 5


# ---- FakeHamsa --------------------------------------------------------------------------------


async def test_hamsa_auth_404_and_envelope(hamsa: FakeHamsa, http: httpx.AsyncClient) -> None:
    unauthorized = await http.get(hamsa.url + DOC_PATH, headers={"Authorization": "Bearer test-hamsa-key"})
    assert unauthorized.status_code == 401 and unauthorized.json()["success"] is False
    missing = await http.get(hamsa.url + "/v1/voice-agents/conversation/" + str(uuid.uuid4()), headers=KEY)
    assert missing.status_code == 404 and missing.json()["messageKey"] == "CONVERSATION_NOT_FOUND"
    found = await http.get(hamsa.url + DOC_PATH, headers=KEY)
    assert found.json() == {"success": True, "message": "Success", "data": samples.documented_example()}
    assert hamsa.count() == 3 and hamsa.count(samples.DOCUMENTED_ID) == 2
    assert hamsa.requests[-1].headers["Authorization"] == KEY["Authorization"]


async def test_hamsa_fault_queue(hamsa: FakeHamsa, http: httpx.AsyncClient) -> None:
    hamsa.inject(Fault.rate_limited(7), times=2, conversation_id=samples.DOCUMENTED_ID)
    other = await http.get(f"{hamsa.url}/v1/voice-agents/conversation/{samples.FAILED_ID}", headers=KEY)
    assert other.status_code == 200
    statuses = [(await http.get(hamsa.url + DOC_PATH, headers=KEY)) for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "7"

    hamsa.inject(Fault.html())
    page = await http.get(hamsa.url + DOC_PATH, headers=KEY)
    assert page.status_code == 502 and page.headers["Content-Type"].startswith("text/html")
    hamsa.inject(Fault.oversized(300_000))
    big = await http.get(hamsa.url + DOC_PATH, headers=KEY)
    assert len(big.content) == 300_000 and big.json()["success"] is True


@pytest.mark.parametrize("fault", [Fault.drop(), Fault.reset_midway()], ids=["drop", "reset_midway"])
async def test_hamsa_broken_connections(hamsa: FakeHamsa, http: httpx.AsyncClient, fault: Fault) -> None:
    hamsa.inject(fault)
    with pytest.raises(httpx.TransportError):
        await http.get(hamsa.url + DOC_PATH, headers=KEY)
    assert (await http.get(hamsa.url + DOC_PATH, headers=KEY)).status_code == 200


async def test_hamsa_never_answer_does_not_block_stop(http: httpx.AsyncClient) -> None:
    hamsa = FakeHamsa()
    await hamsa.start()
    hamsa.inject(Fault.never_answer(), times=-1)
    pending = asyncio.create_task(http.get(hamsa.url + DOC_PATH, headers=KEY))
    await _until(lambda: hamsa.count() == 1)
    started = time.monotonic()
    await hamsa.stop()
    assert time.monotonic() - started < 1.0
    with pytest.raises(httpx.TransportError):
        await pending


# ---- FakeSlack --------------------------------------------------------------------------------


def _bearer(token: str = "xoxb-test-token") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_slack_auth(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    ok = await http.post(slack.api_url + "auth.test", headers=_bearer())
    assert ok.json()["user_id"] == "U0HAMSABOT"
    bad = await http.post(slack.api_url + "auth.test", headers=_bearer("xoxb-wrong"))
    assert bad.json() == {"ok": False, "error": "invalid_auth"}
    form = await http.post(slack.api_url + "auth.test", data={"token": "xoxb-test-token"})
    assert form.json()["ok"] is True


async def test_slack_posting_rules(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    slack.non_member_channels.add("C0PRIVATE")
    denied = await http.post(
        slack.api_url + "chat.postMessage", headers=_bearer(), json={"channel": "C0PRIVATE", "text": "hi"}
    )
    assert denied.json()["error"] == "not_in_channel"

    too_many = json.dumps([{"type": "divider"}] * 51)
    invalid = await http.post(
        slack.api_url + "chat.postMessage",
        data={"token": "xoxb-test-token", "channel": "C0SUPPORT", "blocks": too_many},
    )
    assert invalid.json()["error"] == "invalid_blocks"
    assert isinstance(slack.calls_to("chat.postMessage")[-1].params["blocks"], list)

    long_button = {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a"}
    unfurl = {"https://h/x": {"blocks": [{"type": "actions", "elements": [long_button]}]}}
    rejected = await http.post(
        slack.api_url + "chat.unfurl",
        headers=_bearer(),
        json={"channel": "C1", "ts": "1.2", "unfurls": unfurl},
    )
    assert rejected.json()["error"] == "invalid_blocks"

    posted = await http.post(
        slack.api_url + "chat.postMessage", headers=_bearer(), json={"channel": "C0SUPPORT", "text": "a"}
    )
    again = await http.post(
        slack.api_url + "chat.postMessage", headers=_bearer(), json={"channel": "C0SUPPORT", "text": "b"}
    )
    assert float(again.json()["ts"]) > float(posted.json()["ts"])
    calls = await slack.wait_for_calls("chat.postMessage", count=4)
    assert calls[-1].answer is not None and calls[-1].answer["ok"] is True


async def test_slack_injected_rate_limit(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    posted = await http.post(
        slack.api_url + "chat.postMessage", headers=_bearer(), json={"channel": "C0SUPPORT", "text": "x"}
    )
    slack.inject("chat.update", SlackFault.rate_limited(3))
    args = {"channel": "C0SUPPORT", "ts": posted.json()["ts"], "text": "x"}
    limited = await http.post(slack.api_url + "chat.update", headers=_bearer(), json=args)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["error"] == "ratelimited"
    assert (await http.post(slack.api_url + "chat.update", headers=_bearer(), json=args)).json()["ok"] is True


async def test_chat_update_finds_only_messages_the_app_posted(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    unknown = {"channel": "C0SUPPORT", "ts": "1700000000.000001", "text": "x"}
    assert (await http.post(slack.api_url + "chat.update", headers=_bearer(), json=unknown)).json() == {
        "ok": False,
        "error": "message_not_found",
    }


async def test_response_url_limits(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    url = slack.new_response_url()
    answers = [await http.post(url, json={"text": f"n{i}"}) for i in range(6)]
    assert [a.text for a in answers] == ["ok"] * 5 + ["used_url"] and answers[-1].status_code == 404
    assert [r.body["text"] for r in await slack.wait_for_responses(5, url=url)] == [f"n{i}" for i in range(5)]

    other = slack.new_response_url()
    slack.expire(other)
    assert (await http.post(other, json={"text": "late"})).text == "expired_url"
    assert (await http.post(slack.url + "/response/nope", json={})).text == "invalid_url"
    with pytest.raises(AssertionError, match=r"chat\.update"):
        await slack.wait_for_calls("chat.update", timeout=0.05)


# ---- Block Kit --------------------------------------------------------------------------------


def test_block_kit_limits() -> None:
    assert block_kit_problems([{"type": "divider"}] * 50) == []
    assert block_kit_problems([{"type": "divider"}] * 51)
    assert block_kit_problems([{"type": "divider"}] * 51, surface="modal") == []
    button = {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "open"}
    problems = block_kit_problems([{"type": "actions", "elements": [button]}])
    assert len(problems) == 1 and "76" in problems[0]
    dupes = [{"type": "divider", "block_id": "b"}, {"type": "divider", "block_id": "b"}]
    assert any("duplicate" in p for p in block_kit_problems(dupes))
    assert block_kit_problems([{"type": "image", "image_url": "https://x/y.png", "alt_text": "y"}])


def test_unescaped_markup() -> None:
    assert unescaped_markup("hi <!channel> and <@U1> <https://evil.example|bank>") == [
        "<!channel>",
        "<@U1>",
        "<https://evil.example|bank>",
    ]
    assert unescaped_markup("<!date^1^{date}|x> &lt;!channel&gt;") == []
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "a"},
            "fields": [{"type": "mrkdwn", "text": "b"}],
        },
        {
            "type": "context",
            "elements": [{"type": "plain_text", "text": "c"}, {"type": "mrkdwn", "text": "d"}],
        },
    ]
    assert mrkdwn_texts(blocks) == ["a", "b", "d"]
