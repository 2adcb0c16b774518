"""The "Connect Hamsa" modal: API key, region and extra link domains; its follow-up views; the link domains alone.

Pure: what to show in, a ``modal`` view out. The key field is never pre-filled, so the key, once
given, is never shown again.
"""

from __future__ import annotations

from typing import Any

from bot.render.home import REGIONS
from bot.render.text import mrkdwn, plain

CONNECT_VIEW = "hamsa_connect_view"
API_KEY_BLOCK = "api_key"
REGION_BLOCK = "region"
DOMAINS_BLOCK = "link_domains"
FIELD = "value"

TITLE = "Connect Hamsa"
SUBMIT = "Connect"
CLOSE = "Cancel"
INTRO = (
    "Paste an API key from the Hamsa dashboard (*Settings → API keys*). The app checks it with Hamsa, "
    "stores it encrypted, and never shows it again."
)
KEY_LABEL = "API key"
KEY_HINT_CHANGE = "Leave it empty to keep the key in use (ending {last4})."
REGION_LABEL = "Region"
DOMAINS_LABEL = "Extra link domains"
DOMAINS_HINT = (
    "Hosts, besides dashboard.tryhamsa.com, whose links hold conversation IDs; comma-separated. "
    "List them in the app's unfurl domains too, so Slack sends their links."
)
LINK_DOMAINS_VIEW = "hamsa_link_domains_view"
LINK_DOMAINS_TITLE = "Conversation links"
SAVE = "Save"
CHECKING = ":hourglass_flowing_sand: Checking the key with Hamsa…"
CONNECTED_TITLE = "Hamsa connected"
CONNECTED_TEXT = ":white_check_mark: Hamsa is connected. Paste a conversation link or type `/hamsa <ID>` to try it."
DONE = "Done"


def _option(region: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": REGIONS[region]}, "value": region}


def connect_modal(
    *, region: str = "eu", link_domains: tuple[str, ...] = (), key_last4: str | None = None, problem: str | None = None
) -> dict[str, Any]:
    """The form. ``key_last4``: a key is already connected, so the field may stay empty.

    ``problem`` (mrkdwn written by the app) is shown above the form when a verdict arrives after the
    submission was already answered, and field errors can no longer be attached.
    """
    key_element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": FIELD,
        "placeholder": {"type": "plain_text", "text": "The API key"},
        "max_length": 500,
    }
    key_block: dict[str, Any] = {
        "type": "input",
        "block_id": API_KEY_BLOCK,
        "label": {"type": "plain_text", "text": KEY_LABEL},
        "element": key_element,
        "optional": key_last4 is not None,
    }
    if key_last4 is not None:
        key_block["hint"] = {"type": "plain_text", "text": plain(KEY_HINT_CHANGE.format(last4=key_last4), 150)}
    region = region if region in REGIONS else "eu"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": INTRO}}]
    if problem:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(problem, 2000)}})
    blocks += [
        key_block,
        {
            "type": "input",
            "block_id": REGION_BLOCK,
            "label": {"type": "plain_text", "text": REGION_LABEL},
            "element": {
                "type": "static_select",
                "action_id": FIELD,
                "options": [_option(r) for r in REGIONS],
                "initial_option": _option(region),
            },
        },
        domains_input(link_domains),
    ]
    return {
        "type": "modal",
        "callback_id": CONNECT_VIEW,
        "title": {"type": "plain_text", "text": TITLE},
        "submit": {"type": "plain_text", "text": SUBMIT},
        "close": {"type": "plain_text", "text": CLOSE},
        "blocks": blocks,
    }


def domains_input(link_domains: tuple[str, ...]) -> dict[str, Any]:
    """The extra link domains field, filled with the workspace's current ones."""
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": FIELD,
        "placeholder": {"type": "plain_text", "text": "calls.example.com"},
        "max_length": 1000,
    }
    if link_domains:
        element["initial_value"] = plain(", ".join(link_domains), 1000)
    return {
        "type": "input",
        "block_id": DOMAINS_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": DOMAINS_LABEL},
        "hint": {"type": "plain_text", "text": DOMAINS_HINT},
        "element": element,
    }


def link_domains_modal(link_domains: tuple[str, ...]) -> dict[str, Any]:
    """App Home's Settings → Conversation links → Edit: the extra link domains alone."""
    return {
        "type": "modal",
        "callback_id": LINK_DOMAINS_VIEW,
        "title": {"type": "plain_text", "text": LINK_DOMAINS_TITLE},
        "submit": {"type": "plain_text", "text": SAVE},
        "close": {"type": "plain_text", "text": CLOSE},
        "blocks": [domains_input(link_domains)],
    }


def message_modal(title: str, text: str, *, close: str = DONE) -> dict[str, Any]:
    """A modal that only says something (checking…, connected)."""
    return {
        "type": "modal",
        "callback_id": CONNECT_VIEW,
        "title": {"type": "plain_text", "text": plain(title, 24)},
        "close": {"type": "plain_text", "text": close},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
