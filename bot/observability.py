"""Logging: one structured line per Slack request, and no secret (or signed body) in any log line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"


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
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Library chatter (every HTTP call) is noise at INFO.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "slack_sdk"):
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
