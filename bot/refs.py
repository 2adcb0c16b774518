"""Finding conversation references (bare IDs or links) in what people type and paste."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from bot.hamsa.errors import InvalidConversationId

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_ONLY = re.compile(rf"\A{_UUID}\Z")  # \Z: "$" would accept a trailing newline
_UUID_ANYWHERE = re.compile(rf"(?<![0-9A-Za-z-]){_UUID}(?![0-9A-Za-z-])")
# Slack wraps links as <url> or <url|label>; people also paste bare URLs. Slack escapes < and > in
# text, so neither occurs inside a link; excluding them keeps matching linear on hostile input.
_SLACK_LINK = re.compile(r"<(https?://[^|<>\s]+)(?:\|[^<>]*)?>")
_BARE_URL = re.compile(r"https?://[^\s<>|]+")
_ID_PARAMS = ("conversationid", "conversation_id", "callid", "call_id", "id")
_ID_SEGMENTS = ("conversation", "conversations", "call", "calls", "call-history")

MAX_REF_LENGTH = 2000


def normalize_conversation_id(value: str) -> str:
    """Validate a conversation ID (a UUID) before it goes anywhere near a URL."""
    candidate = value.strip() if isinstance(value, str) else ""
    if not _UUID_ONLY.match(candidate):
        raise InvalidConversationId("a conversation ID is a UUID such as 849e77c6-5cb3-479a-a985-7fab630e2c78")
    return candidate.lower()


def _host_matches(host: str, domains: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def conversation_id_from_url(url: str, link_domains: Iterable[str]) -> str | None:
    """The conversation ID in an https link on one of ``link_domains``, or None."""
    if len(url) > MAX_REF_LENGTH:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not _host_matches(host, link_domains):
        return None
    params = {k.lower(): v for k, v in parse_qsl(parts.query) + parse_qsl(parts.fragment.partition("?")[2])}
    for name in _ID_PARAMS:
        if _UUID_ONLY.match(params.get(name, "")):
            return params[name].lower()
    segments = [s for s in (parts.path + "/" + parts.fragment.partition("?")[0]).split("/") if s]
    for before, segment in zip(["", *segments], segments, strict=False):
        if before.lower() in _ID_SEGMENTS and _UUID_ONLY.match(segment):
            return segment.lower()
    found = [s for s in segments if _UUID_ONLY.match(s)] or _UUID_ANYWHERE.findall(parts.query)
    return found[-1].lower() if found else None


def parse_conversation_ref(text: str, link_domains: Iterable[str]) -> str | None:
    """One ID or one link, as typed after ``/hamsa``; None when it is neither."""
    candidate = (text or "").strip()
    if len(candidate) > MAX_REF_LENGTH:
        return None
    wrapped = _SLACK_LINK.fullmatch(candidate)
    if wrapped:
        candidate = wrapped.group(1)
    if _UUID_ONLY.match(candidate):
        return candidate.lower()
    return conversation_id_from_url(candidate, link_domains)


def linked_and_bare_refs(text: str, link_domains: Iterable[str]) -> tuple[list[str], list[str]]:
    """A message's distinct conversation IDs, as (those in links on the link domains, those written bare).

    Slack unfurls the links itself; bare IDs are the ones only an answer from the app can show.
    """
    domains = tuple(link_domains)
    linked: list[str] = []
    rest = text or ""
    for pattern in (_SLACK_LINK, _BARE_URL):
        for match in pattern.finditer(rest):
            conversation_id = conversation_id_from_url(match.group(1 if pattern is _SLACK_LINK else 0), domains)
            if conversation_id:
                linked.append(conversation_id)
        # A UUID inside some other site's link is not a reference to a conversation.
        rest = pattern.sub(" ", rest)
    bare = [m.lower() for m in _UUID_ANYWHERE.findall(rest)]
    return list(dict.fromkeys(linked)), list(dict.fromkeys(bare))


def find_conversation_refs(text: str, link_domains: Iterable[str], limit: int = 5) -> list[str]:
    """Every distinct conversation ID in a message: links on the link domains and bare IDs."""
    linked, bare = linked_and_bare_refs(text, link_domains)
    return list(dict.fromkeys(linked + bare))[:limit]
