"""``/hamsa recent``: the latest calls, privately, a page at a time; **View** shows one call's summary.

Also App Home's "Recent calls" section. Filters are read from the text (nothing is asked of Hamsa when
a word is unknown), the person's time zone from Slack, an agent's ID from its name in the latest calls.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot import actions
from bot.actions import share_button
from bot.hamsa.errors import HamsaError
from bot.listeners.payload import part, text
from bot.messages import error_text, notice_blocks
from bot.recent import (
    CallFilters,
    NotUnderstood,
    agent_id_of,
    decode_page,
    list_page,
    parse_recent,
    time_window,
)
from bot.render.home import RecentFacts
from bot.render.recent import (
    AMBIGUOUS_AGENT,
    NOT_UNDERSTOOD,
    UNKNOWN_AGENT_NAMED,
    USAGE,
    agent_names,
    render_recent,
)
from bot.render.text import code, inline
from bot.services import Services
from bot.workspaces import Workspace

if TYPE_CHECKING:  # commands imports this module for its registry: only the type is needed here
    from bot.listeners.commands import Command

logger = logging.getLogger(__name__)

HOME_CALLS = 5


def register(app: AsyncApp, services: Services) -> None:
    @app.action(actions.RECENT_NEWER)
    @app.action(actions.RECENT_OLDER)
    async def turn(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        decoded = decode_page(action.get("value"))
        response_url = text(body, "response_url")
        if decoded is None or not response_url:
            return  # not a value this app wrote: only the ack
        ref = context["ref"]
        work = turn_page(services, context, decoded[0], decoded[1], response_url, ref)
        services.background.spawn(work, ref, tell=services.tell_privately(response_url, ref))

    @app.action(actions.RECENT_VIEW)
    async def view(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        value = actions.decode(action.get("value"))
        user_id = text(part(body, "user"), "id")
        if value is None or not user_id:
            return
        ref, response_url = context["ref"], text(body, "response_url")
        tell = services.tell_privately(response_url, ref) if response_url else None
        work = show_call(services, context, value.conversation_id, user_id, response_url, ref)
        services.background.spawn(work, ref, tell=tell)


async def recent(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa recent …``: the first page of the latest calls matching the filters, just for the person."""
    try:
        asked = parse_recent(command.args)
    except NotUnderstood as problem:
        notice = NOT_UNDERSTOOD.format(word=code(problem.word, 40))
        await command.answer(services, text=notice, blocks=[*notice_blocks(notice), *notice_blocks(USAGE)])
        return
    hamsa = workspace.hamsa
    if hamsa is None:
        notice = services.not_connected(workspace)
        await command.answer(services, text=notice, blocks=notice_blocks(notice))
        return
    # Only today and a date depend on where midnight is.
    needs_zone = asked.when not in (None, "24h", "7d")
    person = await services.workspaces.person(workspace, command.user_id) if needs_zone else None
    zone = person.zone if person is not None else UTC  # UTC too when Slack can't say
    start, end = time_window(asked.when, zone, datetime.now(UTC))
    filters = CallFilters(asked.statuses, when=asked.when, start_ms=start, end_ms=end)
    if asked.agent:
        agent_id = agent_id_of(asked.agent)
        if agent_id is None:
            try:
                match = await services.recent.find_agent(hamsa, asked.agent)
            except HamsaError as error:
                notice = _failed(error, command.ref)
                await command.answer(services, text=notice, blocks=notice_blocks(notice))
                return
            if match.agent_id is None:
                name = inline(asked.agent, 100)
                notice = (AMBIGUOUS_AGENT if match.ambiguous else UNKNOWN_AGENT_NAMED).format(name=name)
                notice += " " + agent_names(match.seen, match.candidates)
                await command.answer(services, text=notice, blocks=notice_blocks(notice))
                return
            filters = CallFilters(filters.statuses, match.agent_id, match.name, asked.when, start, end)
        else:
            filters = CallFilters(filters.statuses, agent_id, None, asked.when, start, end)
    await command.answer(services, **await _page(workspace, filters, 1, command.ref))


async def turn_page(
    services: Services, context: AsyncBoltContext, filters: CallFilters, page: int, response_url: str, ref: str
) -> None:
    """Newer or Older: the page replaces the one the button sits on."""
    workspace = await services.workspace(context)
    if workspace.hamsa is None:
        notice = services.not_connected(workspace)
        message: dict[str, Any] = {"text": notice, "blocks": notice_blocks(notice)}
    else:
        message = await _page(workspace, filters, page, ref)
    await services.delivery.respond(response_url, ref, replace_original=True, **message)


async def show_call(
    services: Services, context: AsyncBoltContext, conversation_id: str, user_id: str, response_url: str, ref: str
) -> None:
    """View: the call's full summary, privately: beside the list, or (from App Home) in the app's messages."""
    workspace = await services.workspace(context)
    found = await services.lookup(workspace, conversation_id, ref)
    if response_url:
        message = found.message(
            lambda c: services.summary(workspace, c, private=True, extra_buttons=(share_button(c.id),))
        )
        await services.delivery.respond(response_url, ref, response_type="ephemeral", replace_original=False, **message)
        return
    # From App Home there is no response_url: the app's direct messages with the person are private too.
    message = found.message(lambda c: services.summary(workspace, c, private=True))
    await services.delivery.post(workspace.slack, ref, channel=user_id, **message)


async def home_recent(workspace: Workspace, ref: str) -> RecentFacts | None:
    """App Home's "Recent calls": the latest few, or why they can't be shown; None until Hamsa is connected."""
    if workspace.hamsa is None:
        return None
    try:
        page = await workspace.hamsa.list_calls(per_page=HOME_CALLS)
    except HamsaError as error:
        return RecentFacts((), _failed(error, ref))
    return RecentFacts(page.calls[:HOME_CALLS])


async def _page(workspace: Workspace, filters: CallFilters, page: int, ref: str) -> dict[str, Any]:
    assert workspace.hamsa is not None
    try:
        found = await list_page(workspace.hamsa, filters, page)
    except HamsaError as error:
        notice = _failed(error, ref)
        return {"text": notice, "blocks": notice_blocks(notice)}
    return render_recent(found, filters)


def _failed(error: HamsaError, ref: str) -> str:
    """Hamsa could not list calls: logged with the reference, told in the words every lookup uses."""
    logger.warning("list failed ref=%s error=%s detail=%s", ref, type(error).__name__, error)
    return error_text(error, ref)
