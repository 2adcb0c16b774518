"""Every user-facing notice, and the one place that turns an error into words for people."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.hamsa.errors import (
    ConversationNotFound,
    HamsaBadResponse,
    HamsaRateLimited,
    HamsaUnauthorized,
    HamsaUnavailable,
    InvalidConversationId,
)

EXAMPLE_ID = "849e77c6-5cb3-479a-a985-7fab630e2c78"
USAGE = (
    "*Preview a Hamsa call* with `/hamsa &lt;conversation ID or link&gt;`, for example:\n"
    f"• `/hamsa {EXAMPLE_ID}`\n"
    f"• `/hamsa https://dashboard.tryhamsa.com/conversations/{EXAMPLE_ID}`\n"
    "In a thread, mention the app instead: `@Hamsa &lt;ID or link&gt;`, or use the message shortcut "
    "*Preview Hamsa conversation*. Pasted conversation links unfurl by themselves.\n"
    "In a channel, `/hamsa mute` stops those previews there, `/hamsa unmute` brings them back, and "
    "`/hamsa settings` shows what the channel gets.\n"
    "*Alerts in a channel:* `/hamsa subscribe [statuses] [agent &lt;name or ID&gt;]`, `/hamsa unsubscribe`, "
    "`/hamsa subscriptions`.\n"
    "*No link?* `/hamsa recent` lists the latest calls, e.g. `/hamsa recent failed today`."
)
NOT_A_REFERENCE = ":thinking_face: That is not a conversation ID or a Hamsa conversation link."
NO_REFERENCE_IN_MESSAGE = ":thinking_face: I found no Hamsa conversation ID or link in that message."
NOT_FOUND = ":mag: No conversation with that ID was found for this workspace's Hamsa key."
UNAVAILABLE = ":warning: Hamsa is not answering right now. Please try again in a minute."
RATE_LIMITED = ":hourglass: Hamsa is rate limiting requests. Please try again in a minute."
UNAUTHORIZED = (
    ":lock: Hamsa refused this workspace's API key. Whoever manages the app can change it in the app's "
    "*Home* tab (or, for an app set up for one workspace, in `HAMSA_API_KEY`)."
)
NOT_CONNECTED = (
    ":electric_plug: Hamsa isn't connected in this workspace yet. {managers} can connect it: open the "
    "*Hamsa* app in Slack, then its *Home* tab."
)
BAD_RESPONSE = ":warning: Hamsa sent an answer this app could not read. Please try again later."
UNEXPECTED = ":warning: Something went wrong on our side. Please try again."
STORE_UNAVAILABLE = ":warning: The app's database is not answering right now. Please try again in a minute."
# For the admin, from `hamsa-bot check` and from `hamsa-bot serve`, which stops on it.
SLACK_TOKEN_REFUSED = "SLACK_BOT_TOKEN was refused by Slack ({code}): reinstall the app and copy the token again."
LOGS_ALREADY_POSTED = "The logs of this conversation are already in this thread."
POSTED_PRIVATELY = "I can't post in this conversation, so here they are just for you."
# What a workspace's settings (App Home) keep out of a channel; the person who asked is told privately.
NOT_SHOWN_HERE = (
    ":no_entry_sign: This workspace doesn't show Hamsa calls in channels shared with other organisations. "
    "`/hamsa <ID>` shows a call to you alone."
)
LOGS_NOT_HERE = (
    ":no_entry_sign: This workspace doesn't post logs in channels shared with other organisations. "
    "`/hamsa <ID>`, then *Show logs*, shows them to you alone."
)
RECORDING_NOT_HERE = (
    ":no_entry_sign: This workspace doesn't hand out recordings from messages in this channel. "
    "`/hamsa <ID>` shows the call, its recording included, to you alone."
)
TRANSCRIPT_KEPT_PRIVATE = "This workspace keeps transcripts out of channels, so here they are just for you."
# Download all (.txt): the whole call as a file, in the thread of the logs, or in the app's messages.
LOGS_FILE_IN_THREAD = "The transcript and every log entry of *{title}*, as a file (asked for by {who})."
LOGS_FILE_IN_MESSAGES = "The transcript and every log entry of *{title}*, as a file, just for you:"
LOGS_FILE_SENT = "The whole call is in your messages with the Hamsa app, as a text file."
LOGS_FILE_ALREADY_POSTED = "That file was just posted in this thread."
LOGS_FILE_FAILED = ":warning: Slack did not take the file. Please try again in a minute."

_BY_ERROR: tuple[tuple[type[Exception], str], ...] = (
    (InvalidConversationId, NOT_A_REFERENCE),
    (ConversationNotFound, NOT_FOUND),
    (HamsaUnauthorized, UNAUTHORIZED),
    (HamsaRateLimited, RATE_LIMITED),
    (HamsaUnavailable, UNAVAILABLE),
    (HamsaBadResponse, BAD_RESPONSE),
    (OperationalError, STORE_UNAVAILABLE),
    (InterfaceError, STORE_UNAVAILABLE),
    (PoolTimeout, STORE_UNAVAILABLE),
)


def new_reference() -> str:
    """A short code people can quote to support; it is also in the log line of that request."""
    return "H-" + secrets.token_hex(3).upper()


def store_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached (it recovers by itself when it is back)."""
    return isinstance(error, (OperationalError, InterfaceError, PoolTimeout))


def error_text(error: BaseException, reference: str) -> str:
    """The notice for an error, with the reference code that finds its log line."""
    notice = next((text for kind, text in _BY_ERROR if isinstance(error, kind)), UNEXPECTED)
    return f"{notice} (ref `{reference}`)"


def notice_blocks(text: str, *, with_usage: bool = False) -> list[dict[str, Any]]:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if with_usage:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": USAGE}})
    return blocks
