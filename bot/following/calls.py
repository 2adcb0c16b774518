"""What a queued Hamsa event does: fetch the call fresh, post its alerts, draw its live previews again."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.following import alerts, previews
from bot.following.outbox import Entry
from bot.following.worker import Later, Retry
from bot.hamsa.errors import HamsaError, HamsaRateLimited, HamsaUnavailable
from bot.hamsa.models import Conversation
from bot.messages import new_reference
from bot.workspaces import Workspace

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)


async def fresh_conversation(
    services: Services, workspace_id: str, conversation_id: Any, ref: str
) -> tuple[Workspace, Conversation] | None:
    """The workspace and the call as Hamsa has it now; None when there is nothing to do (uninstalled, gone).

    Raises :class:`Retry` while Hamsa is unavailable or rate limiting: the work waits for it.
    """
    workspace = await services.workspace_by_id(workspace_id)
    if workspace is None or workspace.hamsa is None or not isinstance(conversation_id, str):
        return None
    return await _fetch(workspace, conversation_id, ref)


async def _fetch(workspace: Workspace, conversation_id: str, ref: str) -> tuple[Workspace, Conversation] | None:
    assert workspace.hamsa is not None
    try:
        conversation = await workspace.hamsa.get_conversation(conversation_id, fresh=True)
    except (HamsaUnavailable, HamsaRateLimited) as error:
        raise Retry(f"hamsa: {type(error).__name__}") from None
    except HamsaError as error:
        logger.info("followed call not fetched ref=%s error=%s", ref, type(error).__name__)
        return None
    return workspace, conversation


async def handle_call(services: Services, entry: Entry) -> Later | None:
    """A call started, was answered or ended: alerts first (they are what people wait for), then previews.

    Hamsa is asked only when something depends on the answer: a rule of the workspace, or a place
    showing the call. Most of a busy workspace's events need neither.
    """
    ref = new_reference()
    conversation_id = entry.payload.get("conversation_id")
    workspace = await services.workspace_by_id(entry.workspace_id)
    if workspace is None or workspace.hamsa is None or not isinstance(conversation_id, str):
        return None
    rules = await alerts.rules_of(services, workspace.key.id, enabled=True)
    if not rules and not await previews.places_of(services, workspace, conversation_id):
        return None
    found = await _fetch(workspace, conversation_id, ref)
    if found is None:
        return None
    conversation = found[1]
    passing = await alerts.post_alerts(services, workspace, conversation, ref, rules)
    try:
        await previews.refresh(services, workspace, conversation, ref)
    except Retry as retry:
        passing.append(str(retry))
    await previews.watch(services, workspace, conversation)
    if passing:
        raise Retry(passing[0])
    return None


async def handle_poll(services: Services, entry: Entry) -> Later | None:
    return await previews.poll(services, entry.workspace_id, entry.payload, new_reference())
