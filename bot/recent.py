"""Finding calls without a link: what ``/hamsa recent …`` asks for, and the filters Hamsa gets.

``/hamsa recent [statuses] [agent <name or ID>] [today | 24h | 7d | YYYY-MM-DD]``: statuses are the
words of ``STATUS_WORDS``, ``today`` and a date start at midnight in the person's own time zone. The
filters travel in the paging buttons, so each page is read with exactly the filters of the first one
(and the same end time: calls that arrive meanwhile don't shift the pages).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from cachetools import TTLCache

from bot.hamsa.client import MAX_PER_PAGE, HamsaClient
from bot.hamsa.errors import InvalidConversationId
from bot.hamsa.models import STATUS_WORDS, CallPage
from bot.refs import normalize_conversation_id

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
TIME_WORDS = ("today", "24h", "7d")
AGENT_WORD = "agent"
MAX_AGENT_NAME = 100
MAX_TEXT = 500
MAX_PAGE = 10_000
# A person's time zone rarely changes; an agent's ID never does for its name (until it is renamed).
AGENT_SECONDS = 3600.0
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOKENS = re.compile(r'"([^"]*)"|(\S+)')
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
# Epoch milliseconds from 1970 to 9999: anything else in a button value was not written by this app.
_MAX_MILLIS = 253_402_300_799_999


class NotUnderstood(ValueError):
    """A word ``/hamsa recent`` does not know (nothing was asked of Hamsa)."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


@dataclass(frozen=True, slots=True)
class RecentRequest:
    """What the person typed: status words, an agent (name or ID, as typed), and a time word or date."""

    statuses: tuple[str, ...] = ()
    agent: str | None = None
    when: str | None = None


def _status(word: str) -> str | None:
    word = word.lower().replace("_", "-")
    return word if word in STATUS_WORDS else None


def _time_word(word: str) -> str | None:
    word = word.lower()
    if word in TIME_WORDS:
        return word
    if _DATE.match(word):
        try:
            date.fromisoformat(word)
        except ValueError:
            return None
        return word
    return None


def parse_recent(text: str) -> RecentRequest:
    """The request in ``text`` (what followed ``recent``); raises :class:`NotUnderstood` on the first odd word.

    An agent's name runs until the next status or time word, or is quoted: ``agent "Order Desk" failed``.
    Only one agent can be asked for.
    """
    # Slack escapes &, < and > in what people type; names are compared with Hamsa's as written.
    text = (text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").translate(_SMART_QUOTES)
    if len(text) > MAX_TEXT:
        raise NotUnderstood(text[:40])
    # (quoted, word): a quoted word is never a status or time word, only part of a name.
    tokens = [
        (m.group(1) is not None, m.group(1) if m.group(1) is not None else m.group(2)) for m in _TOKENS.finditer(text)
    ]
    statuses: list[str] = []
    agent: str | None = None
    when: str | None = None
    index = 0
    while index < len(tokens):
        quoted, word = tokens[index]
        index += 1
        status, moment = (None, None) if quoted else (_status(word), _time_word(word))
        if status:
            statuses.append(status)
        elif moment and when is None:
            when = moment
        elif not quoted and word.lower() == AGENT_WORD and agent is None:
            agent, index = _agent_name(tokens, index)
            if not agent:
                raise NotUnderstood(word)
        else:
            raise NotUnderstood(word)
    return RecentRequest(tuple(dict.fromkeys(statuses)), agent, when)


def _agent_name(tokens: list[tuple[bool, str]], index: int) -> tuple[str, int]:
    """The name after ``agent``: one quoted word, or the words up to the next status or time word.

    The word ``agent`` does not end a name: agents are often called "Support Agent".
    """
    if index < len(tokens) and tokens[index][0]:
        return " ".join(tokens[index][1].split())[:MAX_AGENT_NAME], index + 1
    words: list[str] = []
    while index < len(tokens):
        quoted, word = tokens[index]
        if quoted or _status(word) or _time_word(word):
            break
        words.append(word)
        index += 1
    return " ".join(words)[:MAX_AGENT_NAME], index


def agent_id_of(typed: str) -> str | None:
    """The agent's ID when ``typed`` is one (a UUID), else None (it is a name)."""
    try:
        return normalize_conversation_id(typed)
    except InvalidConversationId:
        return None


def time_window(when: str | None, zone: tzinfo, now: datetime) -> tuple[int | None, int]:
    """``(start, end)`` in epoch milliseconds for a time word or date, in ``zone``; the end is ``now`` at most."""
    now_ms = _millis(now)
    if when is None:
        return None, now_ms
    if when == "24h":
        return _millis(now - timedelta(hours=24)), now_ms
    if when == "7d":
        return _millis(now - timedelta(days=7)), now_ms
    day = now.astimezone(zone).date() if when == "today" else date.fromisoformat(when)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return _millis(start), min(now_ms, _millis(end) - 1)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class CallFilters:
    """The filters a list was read with; ``agent_name`` is only for saying what was searched."""

    statuses: tuple[str, ...] = ()
    agent_id: str | None = None
    agent_name: str | None = None
    when: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None

    @property
    def hamsa_statuses(self) -> list[str]:
        return [STATUS_WORDS[word].value for word in self.statuses]


def encode_page(filters: CallFilters, page: int) -> str:
    """A paging button's value: the filters and the page (well under Slack's 2,000 characters)."""
    data: dict[str, Any] = {"p": page}
    if filters.statuses:
        data["s"] = list(filters.statuses)
    if filters.agent_id:
        data["a"] = filters.agent_id
    if filters.agent_name:
        data["n"] = filters.agent_name[:MAX_AGENT_NAME]
    if filters.when:
        data["w"] = filters.when
    if filters.start_ms is not None:
        data["f"] = filters.start_ms
    if filters.end_ms is not None:
        data["t"] = filters.end_ms
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_page(raw: object) -> tuple[CallFilters, int] | None:
    """The filters and page of a paging button of ours, or None for any value this app did not write."""
    if not isinstance(raw, str) or len(raw) > 2000:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) - {"p", "s", "a", "n", "w", "f", "t"}:
        return None
    page, statuses, agent_id, name = data.get("p"), data.get("s", []), data.get("a"), data.get("n")
    when, start, end = data.get("w"), data.get("f"), data.get("t")
    valid = (
        _whole(page, 1, MAX_PAGE)
        and isinstance(statuses, list)
        and len(statuses) <= len(STATUS_WORDS)
        and all(isinstance(s, str) and s in STATUS_WORDS for s in statuses)
        and (agent_id is None or (isinstance(agent_id, str) and agent_id_of(agent_id) == agent_id))
        and (name is None or (isinstance(name, str) and 0 < len(name) <= MAX_AGENT_NAME))
        and (when is None or (isinstance(when, str) and _time_word(when) == when))
        and (start is None or _whole(start, 0, _MAX_MILLIS))
        and (end is None or _whole(end, 0, _MAX_MILLIS))
    )
    if not valid or not isinstance(page, int):
        return None
    return CallFilters(tuple(dict.fromkeys(statuses)), agent_id, name, when, start, end), page


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@dataclass(frozen=True, slots=True)
class AgentMatch:
    """An agent found by name (``agent_id`` and its ``name``), or the names seen when none or several matched."""

    agent_id: str | None
    name: str | None
    seen: tuple[str, ...] = ()
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()  # when ambiguous: the IDs of the agents that answer to the name


class CallFinder:
    """Per process: which agent a name means, remembered for a while.

    Agents are remembered per Hamsa client scope (a workspace and its key), so one workspace's agents are
    never used for another's.
    """

    def __init__(self) -> None:
        self._agents: TTLCache[tuple[str, str], tuple[str, str]] = TTLCache(maxsize=10_000, ttl=AGENT_SECONDS)

    async def find_agent(self, hamsa: HamsaClient, name: str) -> AgentMatch:
        """The agent called ``name`` (case-insensitively; else the one whose name contains it) among recent calls.

        Hamsa filters by agent ID only: the ID is read from the latest calls, and remembered.
        Raises :class:`~bot.hamsa.errors.HamsaError` when Hamsa can't list them.
        """
        wanted = name.casefold()
        remembered = self._agents.get((hamsa.scope, wanted))
        if remembered is not None:
            return AgentMatch(*remembered)
        page = await hamsa.list_calls(per_page=MAX_PER_PAGE)
        ids_by_name: dict[str, set[str]] = {}
        for call in page.calls:
            if call.agent_name and call.voice_agent_id and agent_id_of(call.voice_agent_id):
                ids_by_name.setdefault(call.agent_name.strip(), set()).add(call.voice_agent_id.lower())
        exact = [n for n in ids_by_name if n.casefold() == wanted]
        chosen = exact or [n for n in ids_by_name if wanted in n.casefold()]
        if len(chosen) == 1 and len(ids_by_name[chosen[0]]) == 1:
            found = (next(iter(ids_by_name[chosen[0]])), chosen[0])
            self._agents[hamsa.scope, wanted] = found
            return AgentMatch(*found)
        seen = tuple(sorted(chosen or ids_by_name, key=str.casefold))
        candidates = tuple(sorted({agent_id for n in chosen for agent_id in ids_by_name[n]}))
        return AgentMatch(None, None, seen, ambiguous=bool(chosen), candidates=candidates)


async def list_page(hamsa: HamsaClient, filters: CallFilters, page: int) -> CallPage:
    """One page of the calls matching ``filters``, newest first (raises HamsaError)."""
    return await hamsa.list_calls(
        statuses=filters.hamsa_statuses,
        agent_id=filters.agent_id,
        start_ms=filters.start_ms,
        end_ms=filters.end_ms,
        page=page,
        per_page=PAGE_SIZE,
    )
