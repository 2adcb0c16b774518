"""App Home, the connect modal and the install pages: pure renderers within Slack's limits, escaped."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.policy import Policy
from bot.render.home import CONNECT_HAMSA, DISCONNECT_HAMSA, ConnectionFacts, HomeFacts, render_home
from bot.render.modals import API_KEY_BLOCK, connect_modal, message_modal
from bot.render.pages import failed_page, install_page, installed_page
from bot.sandbox.blockkit import mrkdwn_texts, unescaped_markup, view_problems

POLICY = Policy(link_domains=("dashboard.tryhamsa.com",), extra_link_domains=(), show_full_caller_number=False)
CONNECTION = ConnectionFacts(
    region="uae", key_last4="9f2c", connected_by="U0ADMIN", connected_at=datetime(2026, 11, 30, tzinfo=UTC)
)


def action_ids(view: dict) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_a_manager_sees_connect_when_nothing_is_connected() -> None:
    view = render_home(
        HomeFacts(connection=None, from_environment=False, can_manage=True, managers="admins", policy=POLICY)
    )
    assert view_problems(view) == []
    assert action_ids(view) == [CONNECT_HAMSA]
    assert "not connected yet" in str(view)


def test_everyone_else_sees_the_status_and_who_can_change_it() -> None:
    facts = HomeFacts(
        connection=CONNECTION,
        from_environment=False,
        can_manage=False,
        managers="<@U0INSTALLER> and admins",
        policy=POLICY,
    )
    view = render_home(facts)
    assert view_problems(view) == []
    assert action_ids(view) == []
    text = "\n".join(mrkdwn_texts(view["blocks"]))
    assert "UAE" in text and "`9f2c`" in text and "<@U0ADMIN>" in text
    assert "<@U0INSTALLER> and admins can connect or change it here." in text


def test_a_manager_of_a_connected_workspace_can_change_or_disconnect_with_a_confirmation() -> None:
    view = render_home(
        HomeFacts(connection=CONNECTION, from_environment=False, can_manage=True, managers="admins", policy=POLICY)
    )
    assert action_ids(view) == [CONNECT_HAMSA, DISCONNECT_HAMSA]
    disconnect = next(
        e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == DISCONNECT_HAMSA
    )
    assert disconnect["confirm"]["style"] == "danger"


def test_a_single_workspace_app_says_its_key_comes_from_the_settings_and_offers_no_buttons() -> None:
    view = render_home(
        HomeFacts(connection=CONNECTION, from_environment=True, can_manage=True, managers="admins", policy=POLICY)
    )
    assert action_ids(view) == []
    assert "HAMSA_API_KEY" in str(view)


def test_hostile_link_domains_are_escaped() -> None:
    facts = HomeFacts(
        connection=CONNECTION,
        from_environment=False,
        can_manage=False,
        managers="admins",
        policy=Policy(link_domains=("<!channel>.example.com",), extra_link_domains=(), show_full_caller_number=False),
    )
    texts = mrkdwn_texts(render_home(facts)["blocks"])
    assert all("<!channel>" not in found for t in texts for found in unescaped_markup(t))
    assert any("&lt;!channel&gt;.example.com" in t for t in texts)


def test_the_connect_modal_never_prefills_the_key() -> None:
    fresh = connect_modal()
    change = connect_modal(region="uae", link_domains=("calls.example.com",), key_last4="9f2c")
    for view in (fresh, change):
        assert view_problems(view) == []
        key = next(b for b in view["blocks"] if b.get("block_id") == API_KEY_BLOCK)
        assert "initial_value" not in key["element"]
    assert next(b for b in fresh["blocks"] if b.get("block_id") == API_KEY_BLOCK)["optional"] is False
    assert next(b for b in change["blocks"] if b.get("block_id") == API_KEY_BLOCK)["optional"] is True
    assert view_problems(message_modal("Hamsa connected", "done")) == []


def test_install_pages_escape_what_comes_from_outside() -> None:
    assert 'href="https://slack.com/oauth/v2/authorize?state=a&amp;b"' in install_page(
        "https://slack.com/oauth/v2/authorize?state=a&b"
    )
    page = installed_page("<script>alert(1)</script>", "A0HAMSA", "T0TEAM")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "slack://app?team=T0TEAM&amp;id=A0HAMSA&amp;tab=home" in page
    assert "<script>" not in failed_page("<script>", "/slack/install")
