"""Logging: one structured line per Slack request, no secret (or signed body) in any log line, and no
log line written by a request."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
UNVERIFIED = "unverified"  # the kind logged for a request that failed the signature check
# Bolt answers 401 only to a request that fails its signature (or ssl_check token) check.
UNVERIFIED_STATUS = 401
# Line breaks (C0, C1, U+2028/9), other control characters, and the bidirectional overrides that
# make a terminal show text in another order than it was written.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTINUATION = "  | "  # starts every further line of one record (a traceback), so none passes for a record


def one_line(text: str) -> str:
    """``text`` with every control character written as its escape (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class OneLineFormatter(logging.Formatter):
    """Formats each record as one line whatever it carries; a traceback follows it, each line indented.

    Log messages carry strings from requests and from Hamsa (event IDs, Slack's error codes,
    exception text), verified or not: a newline in one could otherwise write a fake record. Escaping
    here, where every record passes, means no call site can forget to.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        first, *rest = super().format(record).split("\n")
        return "".join([first, *(f"\n{CONTINUATION}{one_line(line)}" for line in rest)])


class SecretFilter(logging.Filter):
    """Replaces any known secret value in a log record with ``[redacted]``, whoever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # Bolt logs the whole raw body of a request that fails the signature check.
        if message.startswith("Invalid request signature detected"):
            message = "Invalid request signature detected (body not logged)"
        for secret in self._secrets:
            message = message.replace(secret, REDACTED)
        record.msg, record.args = message, None
        if record.exc_info and self._secrets:
            record.exc_text = self._scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(level: str, secrets: Iterable[str], stream: Any = None) -> None:
    """Root handler with the secret filter; call once at start-up."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Library chatter (every HTTP call) is noise at INFO.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "slack_sdk", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # slack_sdk formats every request and response into a debug line unless the module's own logger
    # has a level above DEBUG (a parent's is not enough); with the messages' blocks that is costly.
    for sdk_module in ("slack_sdk.web.async_base_client", "slack_sdk.webhook.async_client"):
        logging.getLogger(sdk_module).setLevel(logging.WARNING)


def request_kind(body: dict[str, Any]) -> str:
    """What a Slack request is, in a few words, for the request log line."""
    if body.get("command"):
        return f"command:{str(body['command'])[:20]}"
    kind = str(body.get("type") or "unknown")[:30]
    if kind == "event_callback" and isinstance(body.get("event"), dict):
        return f"event:{str(body['event'].get('type'))[:30]}"
    if kind == "block_actions" and isinstance(body.get("actions"), list) and body["actions"]:
        first = body["actions"][0]
        return f"action:{str(first.get('action_id') if isinstance(first, dict) else '?')[:40]}"
    if kind in ("message_action", "shortcut"):
        return f"shortcut:{str(body.get('callback_id'))[:40]}"
    return kind
