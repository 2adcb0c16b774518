"""Block Kit checks that mirror Slack's documented limits.

Slack rejects a whole message (`invalid_blocks`) when one limit is broken, so the fake Slack API
runs these checks on every payload and tests can assert on rendered output without a workspace.
`unescaped_markup` catches outside text that would ping people or disguise links once posted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTON_URL_MAX = 3000
BUTTON_LABEL_MAX = 75
ID_MAX = 255
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
MARKDOWN_BLOCK_MAX = 12000
# https://api.slack.com/reference/block-kit/block-elements#static_select and .../composition-objects#option
SELECT_OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150

_TEXT_TYPES = ("plain_text", "mrkdwn")
_INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "overflow",
        "radio_buttons",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "workflow_button",
        "rich_text_input",
    }
)
_ACCEPTED_OPAQUE_BLOCKS = frozenset({"divider", "rich_text"})
# https://api.slack.com/reference/surfaces/views and https://api.slack.com/reference/block-kit/blocks#input
VIEW_TITLE_MAX = 24
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
INPUT_LABEL_MAX = 2000
INPUT_ELEMENTS = frozenset(
    {
        "plain_text_input",
        "static_select",
        "multi_static_select",
        "checkboxes",
        "radio_buttons",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_conversations_select",
        "url_text_input",
        "number_input",
        "email_text_input",
        "datepicker",
        "timepicker",
    }
)


def _text_problems(obj: Any, where: str, *, limit: int | None = None, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: text object must be an object, got {type(obj).__name__}"]
    problems: list[str] = []
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else _TEXT_TYPES
    if kind not in allowed:
        problems.append(f"{where}: text type must be {' or '.join(allowed)}, got {kind!r}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}: text must be a non-empty string")
    elif limit is not None and len(text) > limit:
        problems.append(f"{where}: text is {len(text)} chars, limit {limit}")
    return problems


def _id_problems(element: dict[str, Any], key: str, where: str) -> list[str]:
    value = element.get(key)
    if value is None:
        return []
    if not isinstance(value, str) or not value:
        return [f"{where}: {key} must be a non-empty string"]
    if len(value) > ID_MAX:
        return [f"{where}: {key} is {len(value)} chars, limit {ID_MAX}"]
    return []


def _button_problems(button: dict[str, Any], where: str) -> list[str]:
    problems = _text_problems(button.get("text"), f"{where}.text", limit=BUTTON_TEXT_MAX, plain_only=True)
    problems += _id_problems(button, "action_id", where)
    value = button.get("value")
    if value is not None and (not isinstance(value, str) or len(value) > BUTTON_VALUE_MAX):
        problems.append(f"{where}: value must be a string of at most {BUTTON_VALUE_MAX} chars")
    url = button.get("url")
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            problems.append(f"{where}: url must start with http:// or https://, got {url!r:.80}")
        elif len(url) > BUTTON_URL_MAX:
            problems.append(f"{where}: url is {len(url)} chars, limit {BUTTON_URL_MAX}")
    label = button.get("accessibility_label")
    if label is not None and (not isinstance(label, str) or len(label) > BUTTON_LABEL_MAX):
        problems.append(f"{where}: accessibility_label must be at most {BUTTON_LABEL_MAX} chars")
    style = button.get("style")
    if style is not None and style not in ("primary", "danger"):
        problems.append(f"{where}: style must be primary or danger, got {style!r}")
    return problems


def _select_problems(select: dict[str, Any], where: str) -> list[str]:
    problems = _id_problems(select, "action_id", where)
    options = select.get("options")
    if not isinstance(options, list) or not 0 < len(options) <= SELECT_OPTIONS_MAX:
        return [*problems, f"{where}: a static_select needs 1 to {SELECT_OPTIONS_MAX} options"]
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            problems.append(f"{where}.options[{i}]: an option must be an object")
            continue
        text_where = f"{where}.options[{i}].text"
        problems += _text_problems(option.get("text"), text_where, limit=OPTION_TEXT_MAX, plain_only=True)
        value = option.get("value")
        if not isinstance(value, str) or not 0 < len(value) <= OPTION_VALUE_MAX:
            problems.append(f"{where}.options[{i}]: value must be 1 to {OPTION_VALUE_MAX} characters")
    if "initial_option" in select and select["initial_option"] not in options:
        problems.append(f"{where}: initial_option must be one of the options")
    return problems


def _element_problems(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict):
        return [f"{where}: element must be an object"]
    kind = element.get("type")
    if kind == "button":
        return _button_problems(element, where)
    if kind == "static_select":
        return _select_problems(element, where)
    if kind in _INTERACTIVE_TYPES:
        return _id_problems(element, "action_id", where)
    if kind == "image":
        return [f"{where}: image elements make Slack fetch an outside URL; not allowed here"]
    return [f"{where}: unknown element type {kind!r}"]


def _section_problems(block: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        problems.append(f"{where}: section needs text or fields")
    if text is not None:
        problems += _text_problems(text, f"{where}.text", limit=SECTION_TEXT_MAX)
    if fields is not None:
        if not isinstance(fields, list) or not fields:
            problems.append(f"{where}: fields must be a non-empty list")
        else:
            if len(fields) > SECTION_FIELDS_MAX:
                problems.append(f"{where}: {len(fields)} fields, limit {SECTION_FIELDS_MAX}")
            for i, field in enumerate(fields):
                problems += _text_problems(field, f"{where}.fields[{i}]", limit=SECTION_FIELD_TEXT_MAX)
    if "accessory" in block:
        problems += _element_problems(block["accessory"], f"{where}.accessory")
    return problems


def _context_problems(block: dict[str, Any], where: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{where}: context needs a non-empty elements list"]
    problems: list[str] = []
    if len(elements) > CONTEXT_ELEMENTS_MAX:
        problems.append(f"{where}: {len(elements)} context elements, limit {CONTEXT_ELEMENTS_MAX}")
    for i, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") == "image":
            problems.append(f"{where}.elements[{i}]: image elements make Slack fetch an outside URL")
        else:
            problems += _text_problems(element, f"{where}.elements[{i}]")
    return problems


def _actions_problems(block: dict[str, Any], where: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{where}: actions needs a non-empty elements list"]
    problems: list[str] = []
    if len(elements) > ACTIONS_ELEMENTS_MAX:
        problems.append(f"{where}: {len(elements)} actions elements, limit {ACTIONS_ELEMENTS_MAX}")
    action_ids: set[str] = set()
    for i, element in enumerate(elements):
        problems += _element_problems(element, f"{where}.elements[{i}]")
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in action_ids:
                problems.append(f"{where}.elements[{i}]: duplicate action_id {action_id!r} in one block")
            action_ids.add(action_id)
    return problems


def _block_problems(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: block must be an object"]
    kind = block.get("type")
    if kind == "section":
        return _section_problems(block, where)
    if kind == "header":
        return _text_problems(block.get("text"), f"{where}.text", limit=HEADER_TEXT_MAX, plain_only=True)
    if kind == "context":
        return _context_problems(block, where)
    if kind == "actions":
        return _actions_problems(block, where)
    if kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text:
            return [f"{where}: markdown block needs non-empty text"]
        if len(text) > MARKDOWN_BLOCK_MAX:
            return [f"{where}: markdown text is {len(text)} chars, limit {MARKDOWN_BLOCK_MAX}"]
        return []
    if kind == "input":
        return _input_problems(block, where)
    if kind in _ACCEPTED_OPAQUE_BLOCKS:
        return []
    if kind == "image":
        return [f"{where}: image blocks make Slack fetch an outside URL; not allowed here"]
    return [f"{where}: unknown block type {kind!r}"]


def _input_problems(block: dict[str, Any], where: str) -> list[str]:
    problems = _text_problems(block.get("label"), f"{where}.label", limit=INPUT_LABEL_MAX, plain_only=True)
    if "hint" in block:
        problems += _text_problems(block["hint"], f"{where}.hint", limit=INPUT_LABEL_MAX, plain_only=True)
    element = block.get("element")
    if not isinstance(element, dict) or element.get("type") not in INPUT_ELEMENTS:
        return [*problems, f"{where}.element: an input needs one input element"]
    problems += _id_problems(element, "action_id", f"{where}.element")
    initial = element.get("initial_value")
    if isinstance(initial, str) and (not initial or len(initial) > element.get("max_length", 3000)):
        problems.append(f"{where}.element: initial_value must be 1 to max_length characters")
    options = element.get("options")
    if "initial_option" in element and (not isinstance(options, list) or element["initial_option"] not in options):
        problems.append(f"{where}.element: initial_option must be one of the options")
    return problems


def view_problems(view: Any) -> list[str]:
    """Every way a modal or Home tab view breaks Slack's rules; an empty list means Slack would accept it."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return ["view must be an object of type modal or home"]
    surface = view["type"]
    problems = block_kit_problems(view.get("blocks", []), surface=surface)
    if surface == "modal":
        problems += _text_problems(view.get("title"), "title", limit=VIEW_TITLE_MAX, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                problems += _text_problems(view[key], key, limit=VIEW_TITLE_MAX, plain_only=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks", []))
        if has_input and "submit" not in view:
            problems.append("a modal with inputs needs a submit button")
    metadata = view.get("private_metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > PRIVATE_METADATA_MAX):
        problems.append(f"private_metadata must be text of at most {PRIVATE_METADATA_MAX} characters")
    callback_id = view.get("callback_id")
    if callback_id is not None and (not isinstance(callback_id, str) or len(callback_id) > CALLBACK_ID_MAX):
        problems.append(f"callback_id must be text of at most {CALLBACK_ID_MAX} characters")
    return problems


def block_kit_problems(blocks: list[dict[str, Any]], *, surface: str = "message") -> list[str]:
    """List every way `blocks` breaks Slack's limits; an empty list means Slack would accept them."""
    if not isinstance(blocks, list):
        return [f"blocks must be a list, got {type(blocks).__name__}"]
    problems: list[str] = []
    limit = MAX_BLOCKS.get(surface, MAX_BLOCKS["message"])
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks, limit {limit} for a {surface}")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        problems += _block_problems(block, where)
        if isinstance(block, dict):
            problems += _id_problems(block, "block_id", where)
            block_id = block.get("block_id")
            if isinstance(block_id, str):
                if block_id in seen_ids:
                    problems.append(f"{where}: duplicate block_id {block_id!r}")
                seen_ids.add(block_id)
    return problems


def _walk_mrkdwn(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _walk_mrkdwn(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_mrkdwn(item)


def mrkdwn_texts(blocks: Any) -> list[str]:
    """Every mrkdwn text string anywhere in `blocks` (sections, fields, context, accessories...)."""
    return list(_walk_mrkdwn(blocks))


_CONTROL = re.compile(r"<(?:[!@#]|https?:|mailto:)[^>]*>", re.IGNORECASE)


def unescaped_markup(text: str) -> list[str]:
    """Slack control sequences in mrkdwn that outside data should never produce.

    Mentions (`<!here>`, `<@U1>`, `<#C1>`) and links (`<https://x|label>`, `<mailto:...>`) are
    reported; `<!date^...>` tokens are not, because the app writes those itself.
    """
    return [match for match in _CONTROL.findall(text) if not match.lower().startswith("<!date^")]
