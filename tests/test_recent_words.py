"""What ``/hamsa recent …`` understands (pure): its words, the time windows they mean, the paging values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.recent import (
    CallFilters,
    NotUnderstood,
    RecentRequest,
    decode_page,
    encode_page,
    parse_recent,
    time_window,
)
from bot.sandbox import samples
from bot.workspaces import zone_of

NOW = datetime(2025, 3, 30, 10, 30, tzinfo=UTC)  # the morning Europe moves its clocks forward


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", RecentRequest()),
        ("failed today", RecentRequest(("failed",), None, "today")),
        ("FAILED No_Answer failed 7d", RecentRequest(("failed", "no-answer"), None, "7d")),
        ("agent Billing Assistant failed 24h", RecentRequest(("failed",), "Billing Assistant", "24h")),
        ('agent "Order Desk" 2025-03-02', RecentRequest((), "Order Desk", "2025-03-02")),
        ("agent “failed calls bot” failed", RecentRequest(("failed",), "failed calls bot", None)),
        ("in-progress agent  Support   Agent", RecentRequest(("in-progress",), "Support Agent", None)),
        ("agent support agent today", RecentRequest((), "support agent", "today")),
        ("agent R&amp;D &lt;bot&gt;", RecentRequest((), "R&D <bot>", None)),  # as Slack sends what was typed
        (f"agent {samples.SUPPORT_AGENT_ID}", RecentRequest((), samples.SUPPORT_AGENT_ID, None)),
    ],
)
def test_the_words_it_knows(text: str, expected: RecentRequest) -> None:
    assert parse_recent(text) == expected


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("yesterday", "yesterday"),
        ("today 7d", "7d"),
        ("failed agent", "agent"),
        ('agent "a" agent b', "agent"),
        ("2025-02-30", "2025-02-30"),
        ('"failed"', "failed"),
        ("x" * 600, "x" * 40),
    ],
)
def test_the_first_word_it_does_not_know_is_named(text: str, word: str) -> None:
    with pytest.raises(NotUnderstood) as raised:
        parse_recent(text)
    assert raised.value.word == word


def test_today_and_a_date_run_from_midnight_in_the_persons_zone_until_now_at_most() -> None:
    dubai, new_york = ZoneInfo("Asia/Dubai"), ZoneInfo("America/New_York")

    assert time_window("today", dubai, NOW) == (millis(datetime(2025, 3, 30, tzinfo=dubai)), millis(NOW))
    assert time_window("today", new_york, NOW) == (millis(datetime(2025, 3, 30, tzinfo=new_york)), millis(NOW))
    assert time_window("2025-03-02", new_york, NOW) == (
        millis(datetime(2025, 3, 2, tzinfo=new_york)),
        millis(datetime(2025, 3, 3, tzinfo=new_york)) - 1,
    )
    # A day with a clock change is 23 hours long, as the zone says.
    start, end = time_window("2025-03-30", ZoneInfo("Europe/Berlin"), NOW + timedelta(days=2))
    assert end - start == 23 * 3600 * 1000 - 1


def test_24h_7d_and_no_word_need_nozone_of() -> None:
    assert time_window("24h", UTC, NOW) == (millis(NOW - timedelta(hours=24)), millis(NOW))
    assert time_window("7d", UTC, NOW) == (millis(NOW - timedelta(days=7)), millis(NOW))
    assert time_window(None, UTC, NOW) == (None, millis(NOW))


def test_slacks_time_zone_is_read_leniently() -> None:
    assert zone_of("Asia/Dubai", 14400) == ZoneInfo("Asia/Dubai")
    assert zone_of("Mars/Olympus", -18000) == timezone(timedelta(hours=-5))
    assert zone_of(None, "x") == UTC
    assert zone_of("../../etc/passwd", 10**9) == UTC


def test_a_paging_value_comes_back_as_it_was_written() -> None:
    filters = CallFilters(("failed",), samples.SUPPORT_AGENT_ID, "Support Agent", "today", 1, 2)
    assert decode_page(encode_page(filters, 3)) == (filters, 3)
    assert decode_page(encode_page(CallFilters(), 1)) == (CallFilters(), 1)
