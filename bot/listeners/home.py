"""App Home: the Home tab, and connecting a workspace's Hamsa account from it.

Everyone sees whether Hamsa is connected; the people who manage the app get the buttons. Every click
and every submission is checked again when it arrives, since anyone could forge one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.following.alerts import rules_of
from bot.following.webhooks import WEBHOOK_PATH
from bot.hamsa.errors import HamsaError, HamsaUnauthorized
from bot.installs import public_address
from bot.listeners.payload import part, text
from bot.listeners.recent import home_recent
from bot.policy import parse_domains
from bot.render.alerts import rule_line
from bot.render.home import (
    CONNECT_HAMSA,
    DISCONNECT_HAMSA,
    REGENERATE_WEBHOOK_SECRET,
    ConnectionFacts,
    HomeFacts,
    WebhookFacts,
    render_home,
)
from bot.render.modals import (
    API_KEY_BLOCK,
    CHECKING,
    CONNECT_VIEW,
    CONNECTED_TEXT,
    CONNECTED_TITLE,
    DOMAINS_BLOCK,
    FIELD,
    REGION_BLOCK,
    TITLE,
    connect_modal,
    message_modal,
)
from bot.services import Services
from bot.workspaces import REGIONS, Workspace

logger = logging.getLogger(__name__)

# Slack waits 3 s for the answer to a submission; past this, the modal says it is checking instead.
VERDICT_SECONDS = 2.0
KEY_REFUSED = "Hamsa refused this key. Check it, and that it belongs to the region chosen below."
HAMSA_UNREACHABLE = "Hamsa could not be reached to check the key ({reason}). Please try again in a minute."
KEY_MISSING = "Paste an API key from the Hamsa dashboard."
BAD_DOMAINS = "These are not host names: {bad}"
NOT_A_MANAGER = "Only {managers} can change this."


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if text(event, "tab") not in ("", "home"):
            return  # the Messages tab
        ref = context["ref"]
        services.background.spawn(publish_home(services, context, text(event, "user")), ref)

    @app.action(CONNECT_HAMSA)
    async def connect_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user = text(part(body, "user"), "id")
        services.background.spawn(open_connect(services, context, user, text(body, "trigger_id")), context["ref"])

    @app.action(DISCONNECT_HAMSA)
    async def disconnect_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user = text(part(body, "user"), "id")
        services.background.spawn(disconnect(services, context, user), context["ref"])

    @app.action(REGENERATE_WEBHOOK_SECRET)
    async def regenerate_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user = text(part(body, "user"), "id")
        services.background.spawn(regenerate_webhook_secret(services, context, user), context["ref"])

    @app.view(CONNECT_VIEW)
    async def connect_submitted(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await submit_connection(services, context, ack, body)


async def publish_home(services: Services, context: AsyncBoltContext, user_id: str) -> None:
    """The Home tab for one person (views are per person: the controls depend on who looks)."""
    if not user_id:
        return
    workspace = await services.workspace(context)
    view = render_home(await home_facts(services, workspace, user_id, context["ref"]))
    try:
        await workspace.slack.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        logger.warning("views.publish failed ref=%s error=%.60s", context["ref"], error.response.get("error"))


async def home_facts(services: Services, workspace: Workspace, user_id: str, ref: str) -> HomeFacts:
    connection = workspace.connection
    facts = None
    if connection is not None:
        facts = ConnectionFacts(
            connection.region, connection.key_last4, connection.connected_by, connection.connected_at
        )
    can_manage = await services.workspaces.can_manage(workspace, user_id)
    rules = await rules_of(services, workspace.key.id)
    return HomeFacts(
        connection=facts,
        from_environment=connection is not None and connection.from_environment,
        can_manage=can_manage,
        managers=services.workspaces.managers_in_words(workspace),
        policy=workspace.policy,
        webhook=await webhook_facts(services, workspace, user_id) if can_manage else None,
        subscriptions=tuple(rule_line(rule.facts(), with_channel=True) for rule in rules),
        recent=await home_recent(workspace, ref),
    )


async def webhook_facts(services: Services, workspace: Workspace, user_id: str) -> WebhookFacts:
    """The webhook's URL and Authorization value, made on the first look by a manager."""
    secret = await services.webhooks.secret_for(workspace.key, user_id)
    return WebhookFacts(
        url=public_address(services.settings, WEBHOOK_PATH),
        path_only=services.settings.public_url is None,
        authorization=f"Bearer {secret}" if secret else None,
        from_environment=services.webhooks.from_environment is not None,
    )


async def regenerate_webhook_secret(services: Services, context: AsyncBoltContext, user_id: str) -> None:
    workspace = await services.workspace(context)
    if not await services.workspaces.can_manage(workspace, user_id):
        logger.warning("refused: webhook secret by someone who may not manage ref=%s user=%s", context["ref"], user_id)
        return
    await services.webhooks.regenerate(workspace.key, user_id)
    await publish_home(services, context, user_id)


async def open_connect(services: Services, context: AsyncBoltContext, user_id: str, trigger_id: str) -> None:
    workspace = await services.workspace(context)
    # In single-workspace mode the key comes from the app's settings: nothing to connect here.
    if not services.workspaces.multi or not await services.workspaces.can_manage(workspace, user_id):
        logger.warning("refused: connect by someone who may not manage ref=%s user=%s", context["ref"], user_id)
        return
    connection = workspace.connection
    view = connect_modal(
        region=connection.region if connection else "eu",
        link_domains=workspace.policy.extra_link_domains,
        key_last4=connection.key_last4 if connection else None,
    )
    try:
        await workspace.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        logger.warning("views.open failed ref=%s error=%.60s", context["ref"], error.response.get("error"))


async def disconnect(services: Services, context: AsyncBoltContext, user_id: str) -> None:
    workspace = await services.workspace(context)
    if not await services.workspaces.can_manage(workspace, user_id) or not services.workspaces.multi:
        logger.warning("refused: disconnect by someone who may not manage ref=%s user=%s", context["ref"], user_id)
        return
    await services.workspaces.disconnect(workspace.key, user_id=user_id)
    await publish_home(services, context, user_id)


@dataclass(frozen=True, slots=True)
class Submission:
    """What the Connect Hamsa form held; ``api_key`` is empty when an existing key is kept."""

    api_key: str
    region: str
    domains: tuple[str, ...]
    bad_domains: list[str]

    @classmethod
    def read(cls, view: dict[str, Any]) -> Submission:
        values = part(part(view, "state"), "values")

        def field(block: str) -> dict[str, Any]:
            return part(part(values, block), FIELD)

        region = text(part(field(REGION_BLOCK), "selected_option"), "value")
        domains, bad = parse_domains(text(field(DOMAINS_BLOCK), "value"))
        return cls(text(field(API_KEY_BLOCK), "value").strip(), region, domains, bad)


async def submit_connection(services: Services, context: AsyncBoltContext, ack: AsyncAck, body: dict[str, Any]) -> None:
    """Checks the key with Hamsa within Slack's 3 seconds, or says it is checking and updates the modal later."""
    workspace = await services.workspace(context)
    user_id = text(part(body, "user"), "id")
    if not services.workspaces.multi or not await services.workspaces.can_manage(workspace, user_id):
        logger.warning(
            "refused: connection submitted by someone who may not manage ref=%s user=%s", context["ref"], user_id
        )
        managers = services.workspaces.managers_in_words(workspace)
        await ack(response_action="errors", errors={API_KEY_BLOCK: NOT_A_MANAGER.format(managers=managers)})
        return
    submission = Submission.read(part(body, "view"))
    errors: dict[str, str] = {}
    api_key = submission.api_key or await _current_key(services, workspace)
    if not api_key:
        errors[API_KEY_BLOCK] = KEY_MISSING
    if submission.region not in REGIONS:
        errors[REGION_BLOCK] = "Choose a region."
    if submission.bad_domains:
        errors[DOMAINS_BLOCK] = BAD_DOMAINS.format(bad=", ".join(submission.bad_domains))[:150]
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    account = services.workspaces.account(api_key=api_key, region=submission.region, workspace=workspace.key)
    check = asyncio.ensure_future(account.check_key())
    done, _ = await asyncio.wait({check}, timeout=VERDICT_SECONDS)
    if done:
        problem = _problem(check)
        if problem:
            await ack(response_action="errors", errors={API_KEY_BLOCK: problem})
            return
        await ack()
        await _connect(services, context, workspace, user_id, api_key, submission)
        return
    await ack(response_action="update", view=message_modal(TITLE, CHECKING))
    view_id = text(part(body, "view"), "id")
    work = _finish_slow_check(services, context, workspace, user_id, api_key, submission, check, view_id)
    services.background.spawn(work, context["ref"])


async def _current_key(services: Services, workspace: Workspace) -> str:
    """The key already in use, kept when the form's key field is left empty."""
    connection = await services.store.workspaces.connection(workspace.key)
    return connection.api_key if connection is not None else ""


def _problem(check: asyncio.Future[None]) -> str | None:
    error = check.exception()
    if error is None:
        return None
    if isinstance(error, HamsaUnauthorized):
        return KEY_REFUSED
    if isinstance(error, HamsaError):
        return HAMSA_UNREACHABLE.format(reason=type(error).__name__.removeprefix("Hamsa"))
    raise error


async def _connect(
    services: Services,
    context: AsyncBoltContext,
    workspace: Workspace,
    user_id: str,
    api_key: str,
    submission: Submission,
) -> None:
    await services.workspaces.connect(workspace.key, api_key=api_key, region=submission.region, user_id=user_id)
    if submission.domains != workspace.policy.extra_link_domains:
        await services.workspaces.change_settings(
            workspace.key, {"extra_link_domains": list(submission.domains)}, user_id=user_id
        )
    await publish_home(services, context, user_id)


async def _finish_slow_check(
    services: Services,
    context: AsyncBoltContext,
    workspace: Workspace,
    user_id: str,
    api_key: str,
    submission: Submission,
    check: asyncio.Future[None],
    view_id: str,
) -> None:
    """Hamsa took longer than Slack waits: the verdict replaces the "checking" modal."""
    await asyncio.wait({check})
    problem = _problem(check)
    if problem:
        connection = workspace.connection
        view = connect_modal(
            region=submission.region,
            link_domains=submission.domains,
            key_last4=connection.key_last4 if connection else None,
            problem=f":warning: {problem}",
        )
    else:
        await _connect(services, context, workspace, user_id, api_key, submission)
        view = message_modal(CONNECTED_TITLE, CONNECTED_TEXT)
    try:
        await workspace.slack.views_update(view_id=view_id, view=view)
    except SlackApiError as error:
        logger.warning("views.update failed ref=%s error=%.60s", context["ref"], error.response.get("error"))
