"""``hamsa-bot demo``: the real app, end to end, against the built-in stand-ins for Slack and Hamsa.

Everything runs on 127.0.0.1: the sandbox Hamsa API with its sample conversations, the app's own
HTTP server, and the Slack stand-in. Each step sends a request signed exactly as Slack signs it,
awaits what the app sent back to "Slack", and prints it as Slack would show it. The first part runs
the app for one workspace; the second runs it installable by any workspace ("Add to Slack", the App
Home, connecting that workspace's own Hamsa account).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from bot.actions import LOGS_PAGE, RECENT_VIEW, SHOW_LOGS
from bot.following.webhooks import WEBHOOK_PATH
from bot.installs import INSTALL_PATH
from bot.observability import configure_logging
from bot.render.home import CONNECT_HAMSA, CONNECT_LABEL, DISCONNECT_HAMSA
from bot.render.logs import NEWER
from bot.render.pages import INSTALLED_HEADING
from bot.render.terminal import (
    block_kit_builder_url,
    blocks_to_text,
    mrkdwn_to_text,
    page_to_text,
    view_builder_url,
    view_to_text,
)
from bot.sandbox.fake_hamsa import FakeHamsa, send_webhook, webhook_event
from bot.sandbox.fake_slack import SANDBOX_TEAM
from bot.sandbox.samples import DOCUMENTED_ID, FAILED_ID, IN_PROGRESS_ID, LONG_ID, fresh_samples, recent_calls
from bot.sandbox.slack_requests import app_home_opened_event, link_shared_event
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, INSTALLER, SIGNING_SECRET, Stack, start_stack

WAIT_SECONDS = 10.0
DEMO_WEBHOOK_SECRET = "hsk_demo-webhook-secret"
RULE = "═" * 72
INSTALLABLE = (
    "Installable by any workspace: the same app with SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and ENCRYPTION_KEYS\n"
    'instead of a bot token and a Hamsa key. A workspace adds it with "Add to Slack", then connects its own\n'
    "Hamsa account in the app's Home tab."
)


class DemoFailed(Exception):
    """A step did not produce what Slack should have received."""


async def run_demo(verbose: bool = False, *, hamsa: FakeHamsa | None = None) -> int:
    """Runs the walkthrough; 0 when every step showed what it should, 1 (with the reason) otherwise.

    ``hamsa`` replaces the sandbox Hamsa API (its samples and faults), e.g. to see a step fail. The
    sandbox one holds the samples and a busy line's last day of calls, one every 47 minutes.
    """
    hamsa = hamsa or FakeHamsa({**fresh_samples(), **recent_calls()}, api_key=HAMSA_KEY)
    with logging_state_kept():
        # Quiet (warnings only) unless verbose; the caller's logging setup is put back afterwards.
        configure_logging("INFO" if verbose else "WARNING", [BOT_TOKEN, SIGNING_SECRET, HAMSA_KEY])
        print("Hamsa for Slack: demo of the real app on 127.0.0.1, with stand-ins for Slack and the Hamsa API.")
        print("No network and no tokens are needed; each request is signed exactly as Slack signs it.")
        try:
            async with await start_stack(hamsa=hamsa) as stack:
                await _walkthrough(stack)
            secret = SecretStr(DEMO_WEBHOOK_SECRET)
            async with await start_stack(hamsa_webhook_secret=secret, live_poll_seconds=60.0) as stack:
                await _following(stack)
            print(f"\n\n{INSTALLABLE}")
            async with await start_stack(hamsa=hamsa, multi_workspace=True) as stack:
                await _install_walkthrough(stack)
        except DemoFailed as error:
            print(f"\nDemo failed: {error}", file=sys.stderr)
            return 1
    print(
        f"\n{RULE}\nDone: every message and view above is what the app sent to Slack; Slack's Block Kit checks passed."
    )
    print("Next: `hamsa-bot check` with your settings, then `hamsa-bot serve` (see README.md).")
    return 0


@contextmanager
def logging_state_kept() -> Iterator[None]:
    """Puts back the root handlers and every logger's level (configure_logging changes both)."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    loggers = [root, *(item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger))]
    levels = {logger: logger.level for logger in loggers}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        for logger, level in levels.items():
            logger.setLevel(level)


async def _walkthrough(stack: Stack) -> None:
    slack, sender = stack.slack, stack.sender
    short_id = DOCUMENTED_ID[:8] + "…"

    # 1. The slash command: answered privately through the command's response_url.
    command_url = slack.new_response_url()
    await _send(stack, sender.command(DOCUMENTED_ID, command_url), "/hamsa")
    answer = _reply(stack, command_url, "/hamsa")
    if answer.get("response_type") != "ephemeral":
        raise DemoFailed("the /hamsa answer was not private (response_type was not ephemeral)")
    _show(f"1. /hamsa {short_id} → private answer (only you see it)", answer["blocks"])

    # 2. "Show logs" on that private answer: the logs replace it, still private.
    click_url = slack.new_response_url()
    logs_value = _button_value(answer["blocks"], SHOW_LOGS, "the /hamsa answer")
    await _send(stack, sender.action(SHOW_LOGS, logs_value, response_url=click_url, is_ephemeral=True), "Show logs")
    private_logs = _reply(stack, click_url, "Show logs on the private answer")
    if not private_logs.get("replace_original"):
        raise DemoFailed("the logs did not replace the private answer (replace_original was not set)")
    _show("2. Show logs, clicked on that answer → the logs replace it, still private", private_logs["blocks"])

    # 3. A pasted link: Slack sends link_shared and the app unfurls it for everyone in the channel.
    link = f"https://{stack.settings.hamsa_link_domains[0]}/conversations/{LONG_ID}"
    event = link_shared_event([link])
    await _send(stack, sender.event(event), "link_shared")
    unfurls = _call(stack, "chat.unfurl", "the pasted link")["unfurls"]
    unfurl_blocks = unfurls.get(link, {}).get("blocks")
    if not unfurl_blocks:
        raise DemoFailed(f"chat.unfurl did not unfurl {link}")
    _show(f"3. A pasted link {link[:48]}… → preview for everyone (chat.unfurl)", unfurl_blocks)

    # 4. "Show logs" on the preview: the first page of logs is posted in the message's thread.
    message_ts = event["message_ts"]
    click = sender.unfurl_action(
        SHOW_LOGS,
        _button_value(unfurl_blocks, SHOW_LOGS, "the link preview"),
        response_url=slack.new_response_url(),
        message_ts=message_ts,
        app_unfurl_url=link,
        blocks=unfurl_blocks,
    )
    await _send(stack, click, "Show logs")
    post = _call(stack, "chat.postMessage", "Show logs on the link preview")
    if post.get("thread_ts") != message_ts:
        raise DemoFailed("the logs were not posted in the thread of the pasted link")
    posted = post["message"]
    _show("4. Show logs, clicked on the preview → page 1 of the logs, posted in the thread", posted["blocks"])

    # 5. "Newer ▶" on that page: page 2 replaces page 1 in place.
    page_url = slack.new_response_url()
    newer = _button_value(posted["blocks"], LOGS_PAGE, "the posted logs", label=NEWER)
    await _send(stack, sender.action(LOGS_PAGE, newer, response_url=page_url, message=posted), NEWER)
    _show(f"5. {NEWER} → page 2 replaces page 1", _reply(stack, page_url, NEWER)["blocks"])

    # 6. No link at hand: the calls of the last 24 hours that failed or were cut short, privately.
    recent_url = slack.new_response_url()
    await _send(stack, sender.command("recent failed terminated 24h", recent_url), "/hamsa recent")
    listed = _reply(stack, recent_url, "/hamsa recent")
    _show("6. /hamsa recent failed terminated 24h → the latest such calls, just for you", listed["blocks"])

    # 7. "View" on the newest call cut short: its summary says what happened (why and when it ended,
    # what the caller said first, what the agent extracted).
    view_url = slack.new_response_url()
    view = _accessory_value(listed["blocks"], RECENT_VIEW, "the /hamsa recent answer", status="Terminated")
    await _send(stack, sender.action(RECENT_VIEW, view, response_url=view_url, is_ephemeral=True), "View")
    _show("7. View → that call's summary, privately, with Share in channel", _reply(stack, view_url, "View")["blocks"])


async def _following(stack: Stack) -> None:
    """Following calls: a live preview that updates itself, and an alert in a subscribed channel."""
    slack, sender, hamsa = stack.slack, stack.sender, stack.hamsa
    if stack.services.identity is not None:
        await stack.services.identity.known.wait()
    webhook_url = stack.server.url + WEBHOOK_PATH

    async def webhook(event_type: str, conversation_id: str) -> None:
        sent = await send_webhook(
            webhook_url,
            f"Bearer {DEMO_WEBHOOK_SECRET}",
            webhook_event(event_type, hamsa.conversations[conversation_id]),
        )
        if sent.status_code != 200:
            raise DemoFailed(f"the app answered Hamsa's {event_type} webhook with HTTP {sent.status_code}")
        await stack.services.worker.until_idle(WAIT_SECONDS)
        await stack.services.background.drain(WAIT_SECONDS)

    # 8. A call still going, pasted: its preview says so.
    link = f"https://{stack.settings.hamsa_link_domains[0]}/conversations/{IN_PROGRESS_ID}"
    await _send(stack, sender.event(link_shared_event([link])), "link_shared")
    live = _call(stack, "chat.unfurl", "the live call's link")["unfurls"][link]["blocks"]
    _show("8. A link to a call in progress → its preview says so, and the app keeps watching it", live)

    # 9. Hamsa's webhook says the call ended: the same preview is drawn again.
    call = hamsa.conversations[IN_PROGRESS_ID]
    call.update(status="COMPLETED", callDuration=184, mediaUrl="https://storage.example.com/recordings/live.mp3")
    call["jobResponse"] = {"transcription": [{"Agent": "Hello!"}, {"User": "My order is late"}]}
    call["logs"] = [{"id": "l1", "timestamp": "2025-03-04T09:02:00Z", "payload": {}}]
    await webhook("call.ended", IN_PROGRESS_ID)
    unfurls = slack.calls_to("chat.unfurl")
    if len(unfurls) < 2 or link not in unfurls[-1].params.get("unfurls", {}):
        raise DemoFailed("the preview was not drawn again when the call ended")
    _show(
        "9. Hamsa's call.ended webhook → the same preview, updated in place",
        unfurls[-1].params["unfurls"][link]["blocks"],
    )

    # 10. A channel subscribed to failed calls gets an alert, with triage buttons.
    await _send(stack, sender.command("subscribe failed no-answer", slack.new_response_url()), "/hamsa subscribe")
    confirmation = _call(stack, "chat.postMessage", "/hamsa subscribe")
    print(f"\n{RULE}\n10. /hamsa subscribe failed no-answer → in the channel: {mrkdwn_to_text(confirmation['text'])}")
    await webhook("call.ended", FAILED_ID)
    alert = _call(stack, "chat.postMessage", "the alert for a failed call")
    _show("   … and when a call fails, the alert (Take it / Resolved, and the thread to discuss it)", alert["blocks"])


async def _install_walkthrough(stack: Stack) -> None:
    slack, sender, team = stack.slack, stack.sender, SANDBOX_TEAM

    # 6, 7, 8. A browser opens the install page, follows "Add to Slack" to Slack's consent, and comes back.
    page, consent, installed = await stack.install_pages(team, INSTALLER)
    _show_page(f"11. {INSTALL_PATH} in a browser → the install page", page.text)
    _show_page("12. Add to Slack → Slack's consent page (here the stand-in, approving at once)", consent.text)
    if INSTALLED_HEADING not in installed.text:
        raise DemoFailed(f"the install did not finish; the app showed:\n{page_to_text(installed.text)}")
    _show_page(
        f"13. Allow → back to the app, which stored {team.name}'s installation (its token encrypted)", installed.text
    )

    # 14. The installer opens the app's Home tab: not connected yet, with the button to connect.
    await _send(stack, sender.event(app_home_opened_event(INSTALLER)), "app_home_opened")
    before = _call(stack, "views.publish", "the Home tab")["view"]
    _show_view("14. The installer opens the app's Home tab → Hamsa not connected yet", before)

    # 15. Connect Hamsa: the modal asking for the workspace's own API key.
    await _send(stack, sender.home_action(CONNECT_HAMSA, user_id=INSTALLER, view=before), CONNECT_LABEL)
    _show_view(f"15. {CONNECT_LABEL} → the modal", _call(stack, "views.open", CONNECT_LABEL)["view"])

    # 16. Submitted: the key is checked with Hamsa and stored encrypted; the Home tab says so.
    await _send(stack, stack.connect_hamsa(team, INSTALLER), "the Connect Hamsa form")
    _show_view("16. Connect, with the API key → checked with Hamsa, stored encrypted; the Home tab now", _home(stack))

    # 17. The workspace's people now get answers, through that workspace's own Hamsa account.
    url = slack.new_response_url()
    await _send(stack, sender.command(DOCUMENTED_ID, url, team=team, user_id=INSTALLER), "/hamsa")
    reply = _reply(stack, url, "/hamsa")
    if not reply.get("blocks") or reply["blocks"][0].get("type") != "header":
        raise DemoFailed(f"/hamsa in {team.name} showed no summary: {mrkdwn_to_text(str(reply.get('text')))}")
    title = reply["blocks"][0]["text"]["text"]
    print(f"\n{RULE}\n12. /hamsa {DOCUMENTED_ID[:8]}… in {team.name} → {title}, found with {team.name}'s own key")


def _home(stack: Stack) -> dict[str, Any]:
    view = _call(stack, "views.publish", "the Home tab")["view"]
    if DISCONNECT_HAMSA not in str(view):
        raise DemoFailed(f"the Home tab does not say Hamsa is connected:\n{view_to_text(view)}")
    return dict(view)


def _show_page(heading: str, page: str) -> None:
    print(f"\n{RULE}\n{heading}\n{RULE}")
    print(page_to_text(page))


def _show_view(heading: str, view: dict[str, Any]) -> None:
    print(f"\n{RULE}\n{heading}\n{RULE}")
    print(view_to_text(view))
    print(f"\n  See it as Slack draws it: {view_builder_url(view)}")


def _show(heading: str, blocks: list[dict[str, Any]]) -> None:
    print(f"\n{RULE}\n{heading}\n{RULE}")
    print(blocks_to_text(blocks))
    print(f"\n  See it as Slack draws it: {block_kit_builder_url(blocks)}")


async def _send(stack: Stack, request: Awaitable[httpx.Response], step: str) -> None:
    """Sends one signed request, then waits until the app has finished the work it started."""
    response = await request
    if response.status_code != 200:
        raise DemoFailed(f"the app answered {step} with HTTP {response.status_code}: {response.text[:200]}")
    await stack.services.background.drain(WAIT_SECONDS)


def _reply(stack: Stack, url: str, step: str) -> dict[str, Any]:
    """The last reply Slack accepted on ``url``."""
    replies = stack.slack.responses_to(url)
    if not replies:
        refused = [text for refused_url, text in stack.slack.rejected_responses if refused_url == url]
        reason = f": Slack refused it ({', '.join(refused)})" if refused else " (see the log lines above)"
        raise DemoFailed(f"no reply to {step}{reason}")
    return replies[-1].body


def _call(stack: Stack, method: str, step: str) -> dict[str, Any]:
    """The arguments of the last ``method`` call, merged with Slack's answer; it must have succeeded."""
    calls = stack.slack.calls_to(method)
    if not calls:
        raise DemoFailed(f"Slack never got {method} for {step} (see the log lines above)")
    answer = calls[-1].answer or {}
    if not answer.get("ok"):
        raise DemoFailed(f"Slack refused {method} for {step}: {answer.get('error')}")
    return {**calls[-1].params, **answer}


def _accessory_value(blocks: list[dict[str, Any]], action_id: str, where: str, *, status: str) -> str:
    """The value of the first button beside a section that names ``status`` (a listed call's View)."""
    for block in blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id and status in block["text"]["text"]:
            return str(accessory["value"])
    raise DemoFailed(f"{where} lists no {status.lower()} call; it showed:\n{blocks_to_text(blocks)}")


def _button_value(blocks: list[dict[str, Any]], action_id: str, where: str, *, label: str | None = None) -> str:
    """The value of a button in ``blocks``; a message without it means the step showed an error."""
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            text = (element.get("text") or {}).get("text")
            if element.get("action_id") == action_id and (label is None or text == label):
                return str(element["value"])
    raise DemoFailed(f"{where} has no {label or action_id} button; it showed:\n{blocks_to_text(blocks)}")
