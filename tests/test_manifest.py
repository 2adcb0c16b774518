"""manifest.yml must be accepted by Slack's "create an app from a manifest" and match what the app handles.

The limits are those of Slack's app manifest reference.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.actions import PREVIEW_SHORTCUT
from bot.installs import BOT_SCOPES, REDIRECT_PATH
from bot.messages import USAGE
from bot.render.workflow import OUTPUTS, STEP_CALLBACK_ID, STEP_INPUT
from bot.sandbox.fake_slack import SANDBOX_TEAM, SandboxTeam
from bot.sandbox.samples import DOCUMENTED_ID
from bot.sandbox.slack_requests import (
    BOT_USER_ID,
    app_home_opened_event,
    app_mention_event,
    app_uninstalled_event,
    function_executed_event,
    link_shared_event,
    tokens_revoked_event,
)
from bot.sandbox.stack import INSTALLER, start_stack
from bot.server import EVENTS_PATH
from bot.settings import DEFAULT_LINK_DOMAINS
from bot.store.workspaces import WorkspaceKey

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "manifest.yml"
# What the app calls: chat.postMessage, chat.unfurl, users.info (who may change settings, time zones),
# conversations.info (whether a channel is shared), files.uploadV2 (logs as a file); what it receives:
# /hamsa and the shortcut, link_shared, app_mention, app_home_opened, function_executed. Replies where it
# is not a member go through response_url instead of chat:write.public. app_home_opened, app_uninstalled
# and tokens_revoked need no scope.
SCOPE_USES = {
    "commands": "/hamsa and the message shortcut",
    "chat:write": "answers, logs and shares in threads",
    "links:read": "link_shared events",
    "links:write": "chat.unfurl",
    "app_mentions:read": "@Hamsa",
    "users:read": "users.info: admins and owners may change settings; time zones for /hamsa recent today",
    "channels:read": "conversations.info: is a public channel shared with other organisations",
    "groups:read": "conversations.info: is a private channel shared with other organisations",
    "files:write": "files.uploadV2: a long call's logs as one text file",
}
# https://api.slack.com/reference/manifests#functions and the types a step's parameters may have.
_PARAMETER_TYPES = {"string", "integer", "number", "boolean", "object", "array"}
_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_COMMAND = re.compile(r"^/[a-z0-9_-]{1,31}$")


def load_manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Every rule of Slack's manifest reference (for the parts this app uses) that ``manifest`` breaks."""
    problems: list[str] = []

    def need(condition: object, problem: str) -> None:
        if not condition:
            problems.append(problem)

    def text(value: object, low: int, high: int) -> bool:
        return isinstance(value, str) and low <= len(value) <= high

    need(manifest.get("_metadata", {}).get("major_version") in (1, 2), "_metadata.major_version must be 1 or 2")

    display = manifest.get("display_information") or {}
    need(text(display.get("name"), 1, 35), "display_information.name: 1 to 35 characters")
    if "description" in display:
        need(text(display["description"], 1, 140), "display_information.description: at most 140 characters")
    if "long_description" in display:
        need(text(display["long_description"], 174, 4000), "display_information.long_description: 174 to 4000")
    if "background_color" in display:
        need(_HEX_COLOUR.match(str(display["background_color"])), "background_color: #rgb or #rrggbb")

    features = manifest.get("features") or {}
    bot_user = features.get("bot_user") or {}
    need(text(bot_user.get("display_name"), 1, 80), "features.bot_user.display_name: 1 to 80 characters")

    settings = manifest.get("settings") or {}
    socket_mode = settings.get("socket_mode_enabled") is True
    urls: list[tuple[str, object]] = []

    commands = features.get("slash_commands") or []
    need(len(commands) <= 50, "at most 50 slash commands")
    for command in commands:
        name = command.get("command")
        need(isinstance(name, str) and _COMMAND.match(name), f"command {name!r}: '/' then lowercase, at most 32")
        need(text(command.get("description"), 1, 2000), f"command {name}: description of 1 to 2000 characters")
        if "usage_hint" in command:
            need(text(command["usage_hint"], 1, 1000), f"command {name}: usage_hint at most 1000 characters")
        urls.append((f"command {name} url", command.get("url")))

    shortcuts = features.get("shortcuts") or []
    need(len(shortcuts) <= 10, "at most 10 shortcuts")
    for shortcut in shortcuts:
        callback_id = shortcut.get("callback_id")
        need(isinstance(shortcut.get("name"), str) and shortcut["name"].strip(), f"shortcut {callback_id}: a name")
        need(text(callback_id, 1, 255), f"shortcut {callback_id}: callback_id of 1 to 255 characters")
        need(text(shortcut.get("description"), 1, 150), f"shortcut {callback_id}: description of 1 to 150")
        need(shortcut.get("type") in ("message", "global"), f"shortcut {callback_id}: type message or global")

    domains = features.get("unfurl_domains") or []
    need(len(domains) <= 5, "at most 5 unfurl_domains")

    oauth = manifest.get("oauth_config") or {}
    scopes = oauth.get("scopes") or {}
    need(0 < len(scopes.get("bot") or []) <= 255, "oauth_config.scopes.bot: 1 to 255 scopes")
    redirects = oauth.get("redirect_urls") or []
    need(len(redirects) <= 1000, "at most 1000 oauth_config.redirect_urls")
    for redirect in redirects:
        need(
            isinstance(redirect, str) and redirect.startswith("https://") and redirect.endswith(REDIRECT_PATH),
            f"oauth_config.redirect_urls: https URLs ending in {REDIRECT_PATH}, where the app takes the callback",
        )
    home = features.get("app_home") or {}
    need(
        all(isinstance(home.get(flag, False), bool) for flag in ("home_tab_enabled", "messages_tab_enabled")),
        "features.app_home: true or false",
    )

    events = settings.get("event_subscriptions") or {}
    interactivity = settings.get("interactivity") or {}
    need(interactivity.get("is_enabled") is True, "settings.interactivity.is_enabled must be true for buttons")
    if events:
        need(len(events.get("bot_events") or []) <= 100, "at most 100 bot_events")
        urls.append(("event_subscriptions.request_url", events.get("request_url")))
    urls.append(("interactivity.request_url", interactivity.get("request_url")))

    functions = manifest.get("functions") or {}
    if functions:
        need(settings.get("function_runtime") == "remote", "settings.function_runtime: remote for the app's steps")
        need("function_executed" in (events.get("bot_events") or []), "function_executed in bot_events for steps")
    for callback_id, function in functions.items():
        need(text(callback_id, 1, 100), f"function {callback_id!r}: a callback_id of 1 to 100 characters")
        need(text(function.get("title"), 1, 255), f"function {callback_id}: a title")
        need(text(function.get("description"), 1, 255), f"function {callback_id}: a description")
        for kind in ("input_parameters", "output_parameters"):
            parameters = function.get(kind)
            need(isinstance(parameters, dict), f"function {callback_id}: {kind} as an object")
            for name, parameter in (parameters or {}).items():
                where = f"function {callback_id} {kind} {name}"
                need(parameter.get("type") in _PARAMETER_TYPES, f"{where}: a type")
                need(text(parameter.get("title"), 1, 255), f"{where}: a title")
                need(parameter.get("name", name) == name, f"{where}: its name is its key")

    for where, url in urls:
        if url is None and socket_mode:
            continue  # Socket Mode needs no request URL
        need(
            isinstance(url, str) and url.startswith("https://") and url.endswith(EVENTS_PATH),
            f"{where}: an https URL ending in {EVENTS_PATH}" + ("" if socket_mode else " (or Socket Mode)"),
        )
    return problems


def socket_mode_variant(manifest: dict[str, Any]) -> dict[str, Any]:
    """The two switches the header comment (and README) describe for Socket Mode."""
    variant = copy.deepcopy(manifest)
    variant["settings"]["socket_mode_enabled"] = True
    for command in variant["features"]["slash_commands"]:
        del command["url"]
    del variant["settings"]["event_subscriptions"]["request_url"]
    del variant["settings"]["interactivity"]["request_url"]
    return variant


def test_manifest_follows_slacks_manifest_rules() -> None:
    assert manifest_problems(load_manifest()) == []


def test_manifest_over_http_sends_everything_to_the_apps_one_endpoint() -> None:
    manifest = load_manifest()
    settings = manifest["settings"]

    assert settings["socket_mode_enabled"] is False
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == ["https://YOUR-HOST" + EVENTS_PATH]
    assert settings["event_subscriptions"]["request_url"] == "https://YOUR-HOST" + EVENTS_PATH
    assert settings["interactivity"]["request_url"] == "https://YOUR-HOST" + EVENTS_PATH


def test_the_two_socket_mode_switches_give_a_valid_manifest_and_are_explained_at_the_top() -> None:
    variant = socket_mode_variant(load_manifest())

    assert manifest_problems(variant) == []
    assert "https://" not in yaml.safe_dump(variant["settings"]) + yaml.safe_dump(variant["features"]["slash_commands"])
    header = MANIFEST_PATH.read_text(encoding="utf-8").split("_metadata:")[0]
    assert "socket_mode_enabled: true" in header
    assert "SLACK_APP_TOKEN" in header and "connections:write" in header


def test_bot_scopes_are_the_ones_the_install_asks_for_each_one_explained() -> None:
    scopes = load_manifest()["oauth_config"]["scopes"]
    header = MANIFEST_PATH.read_text(encoding="utf-8").split("_metadata:")[0]

    assert sorted(scopes["bot"]) == sorted(BOT_SCOPES) == sorted(SCOPE_USES)
    assert "user" not in scopes
    assert all(scope in header for scope in BOT_SCOPES)


def test_installable_by_any_workspace_redirect_url_home_tab_and_uninstall_events() -> None:
    manifest = load_manifest()

    assert manifest["oauth_config"]["redirect_urls"] == ["https://YOUR-HOST" + REDIRECT_PATH]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is False  # the app reads no DMs
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_home_opened", "app_uninstalled", "tokens_revoked"} <= set(events)
    header = MANIFEST_PATH.read_text(encoding="utf-8").split("_metadata:")[0]
    assert "redirect_urls" in header and "Manage Distribution" in header


def test_the_workflow_step_is_the_one_the_app_runs() -> None:
    manifest = load_manifest()
    (callback_id,) = manifest["functions"]
    step = manifest["functions"][callback_id]

    assert callback_id == STEP_CALLBACK_ID
    assert list(step["input_parameters"]) == [STEP_INPUT]
    assert step["input_parameters"][STEP_INPUT]["is_required"] is True
    assert list(step["output_parameters"]) == list(OUTPUTS)
    assert step["output_parameters"]["duration_seconds"]["type"] == "integer"


def test_unfurl_domains_are_the_default_link_domains() -> None:
    assert tuple(load_manifest()["features"]["unfurl_domains"]) == DEFAULT_LINK_DOMAINS


def test_command_and_shortcut_are_the_ones_the_app_and_its_help_text_name() -> None:
    features = load_manifest()["features"]
    (command,) = features["slash_commands"]
    (shortcut,) = features["shortcuts"]

    assert command["command"] == "/hamsa"
    assert command["should_escape"] is False  # links arrive as typed, which parse_conversation_ref expects
    assert f"`{command['command']} " in USAGE
    assert shortcut["type"] == "message"
    assert shortcut["callback_id"] == PREVIEW_SHORTCUT
    assert f"*{shortcut['name']}*" in USAGE
    assert features["bot_user"]["display_name"] == load_manifest()["display_information"]["name"] == "Hamsa"
    assert f"@{features['bot_user']['display_name']} " in USAGE


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m["display_information"].update(name="H" * 36), "display_information.name"),
        (lambda m: m["display_information"].update(description="d" * 141), "display_information.description"),
        (lambda m: m["display_information"].update(background_color="navy"), "background_color"),
        (lambda m: m["features"]["bot_user"].update(display_name="b" * 81), "bot_user.display_name"),
        (lambda m: m["features"].update(unfurl_domains=[f"d{i}.example.com" for i in range(6)]), "unfurl_domains"),
        (lambda m: m["features"]["slash_commands"][0].update(command="/Hamsa"), "command '/Hamsa'"),
        (lambda m: m["features"]["slash_commands"][0].update(command="hamsa"), "command 'hamsa'"),
        (lambda m: m["features"]["slash_commands"][0].update(command="/" + "h" * 32), "at most 32"),
        (lambda m: m["features"]["slash_commands"][0].update(usage_hint="u" * 1001), "usage_hint"),
        (lambda m: m["features"]["shortcuts"][0].update(description="s" * 151), "description of 1 to 150"),
        (lambda m: m["settings"]["interactivity"].update(is_enabled=False), "interactivity.is_enabled"),
        (lambda m: m["settings"]["interactivity"].update(request_url="https://x/slack/actions"), "interactivity"),
        (lambda m: m["settings"]["event_subscriptions"].pop("request_url"), "event_subscriptions.request_url"),
        (lambda m: m.pop("_metadata"), "major_version"),
        (lambda m: m["settings"].pop("function_runtime"), "function_runtime"),
        (lambda m: m["functions"]["get_hamsa_conversation"].pop("title"), "a title"),
        (lambda m: m["functions"]["get_hamsa_conversation"]["output_parameters"]["title"].update(type="text"), "type"),
        (lambda m: m["oauth_config"].update(redirect_urls=["http://x/slack/oauth_redirect"]), "redirect_urls"),
        (lambda m: m["oauth_config"].update(redirect_urls=["https://x/slack/events"]), "redirect_urls"),
        (lambda m: m["features"]["app_home"].update(home_tab_enabled="yes"), "app_home"),
    ],
)
def test_rule_check_names_each_broken_rule(change: Any, problem: str) -> None:
    manifest = load_manifest()
    change(manifest)

    problems = manifest_problems(manifest)

    assert len(problems) == 1 and problem in problems[0], problems


async def test_every_command_shortcut_and_event_in_the_manifest_is_answered_by_the_app() -> None:
    manifest = load_manifest()
    link = f"https://{manifest['features']['unfurl_domains'][0]}/conversations/{DOCUMENTED_ID}"
    other = SandboxTeam(team_id="T0OTHER", name="Other", bot_user_id="U0OTHERBOT", bot_id="B0OTHERBOT")

    async with await start_stack(multi_workspace=True) as stack:
        for team in (SANDBOX_TEAM, other):
            await stack.install(team)
            assert (await stack.connect_hamsa(team)).text == ""

        for command in manifest["features"]["slash_commands"]:
            url = stack.slack.new_response_url()
            assert (await stack.sender.command(DOCUMENTED_ID, url, command=command["command"])).status_code == 200
            await stack.slack.wait_for_responses(1, url=url)

        for shortcut in manifest["features"]["shortcuts"]:
            url = stack.slack.new_response_url()
            response = await stack.sender.shortcut(shortcut["callback_id"], {"text": link}, response_url=url)
            assert response.status_code == 200
            await stack.slack.wait_for_responses(1, url=url)

        async def forgotten(team: SandboxTeam) -> None:
            await stack.services.background.drain(5)
            assert await stack.services.store.workspaces.connection(WorkspaceKey(None, team.team_id)) is None

        execution = stack.slack.new_function_execution()
        step = function_executed_event(
            execution.execution_id,
            execution.bot_access_token,
            {STEP_INPUT: DOCUMENTED_ID},
            callback_id=STEP_CALLBACK_ID,
        )
        sends_and_answers = {
            "link_shared": (link_shared_event([link]), SANDBOX_TEAM, "chat.unfurl"),
            "app_mention": (app_mention_event(f"<@{BOT_USER_ID}> {DOCUMENTED_ID}"), SANDBOX_TEAM, "chat.postMessage"),
            "app_home_opened": (app_home_opened_event(INSTALLER), SANDBOX_TEAM, "views.publish"),
            "tokens_revoked": (tokens_revoked_event(bot=[other.bot_user_id]), other, forgotten),
            "function_executed": (step, SANDBOX_TEAM, "functions.completeSuccess"),
            "app_uninstalled": (app_uninstalled_event(), SANDBOX_TEAM, forgotten),
        }
        bot_events = manifest["settings"]["event_subscriptions"]["bot_events"]
        assert sorted(bot_events) == sorted(sends_and_answers)
        for event_type in bot_events:
            event, team, answer = sends_and_answers[event_type]
            assert (await stack.sender.event(event, team=team)).status_code == 200
            if callable(answer):
                await answer(team)
            else:
                await stack.slack.wait_for_calls(answer, 1)
