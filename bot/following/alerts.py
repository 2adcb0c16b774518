"""Channel alerts: subscriptions (``/hamsa subscribe``), one alert per rule and call, and triage on the alert.

A rule belongs to a channel: which statuses, and optionally which agent. When a call reaches a status a
rule asks for, the channel gets one alert (however often Hamsa says so, and through retries and
restarts: the ``alerts`` table allows one row per rule and call). The alert is a live preview too: it is
drawn again when the call gets its recording or transcript, and whenever someone triages it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, or_, select, update

from bot.following import previews
from bot.following.outbox import insert_or_ignore
from bot.following.pacing import PER_CHANNEL, TIER_3
from bot.hamsa.models import STATUS_WORDS, Conversation
from bot.looks import Look
from bot.messages import notice_blocks
from bot.policy import Place
from bot.render.alerts import (
    ALERT_REOPEN,
    ALERT_RESOLVE,
    ALERT_TAKE,
    ALREADY_TAKEN,
    NOTE_REOPENED,
    NOTE_RESOLVED,
    NOTE_TAKEN,
    OPEN,
    RESOLVED_STATE,
    TAKEN,
    AlertFacts,
    RuleFacts,
    render_alert,
    rule_line,
)
from bot.render.summary import title_of
from bot.render.text import inline
from bot.workspaces import Workspace

if TYPE_CHECKING:
    from bot.listeners.commands import Command
    from bot.services import Services

logger = logging.getLogger(__name__)

DEFAULT_STATUSES = ("FAILED", "NO_ANSWER")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ALL_WORDS = ("completed", "no-answer", "failed", "forwarded", "terminated")
# Where Slack says the channel can't take an alert any more: the rule stops, and its author is told.
# How long a worker may take to post an alert before another may try (it died mid-post).
POSTING_SECONDS = 60.0
CHANNEL_GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel", "restricted_action"})

SUBSCRIBE_USAGE = (
    "*Alerts in this channel* when calls end a certain way:\n"
    "• `/hamsa subscribe` — failed and unanswered calls (`failed no-answer`)\n"
    "• `/hamsa subscribe all` or `/hamsa subscribe completed failed no-answer forwarded terminated`\n"
    "• `/hamsa subscribe failed agent Billing Assistant` — only one agent's calls (its name or ID)\n"
    "• `/hamsa unsubscribe [the same words]` · `/hamsa subscriptions` lists this channel's alerts"
)
SUBSCRIBED = ":bell: <@{user}> subscribed this channel to alerts for {rule}. `/hamsa unsubscribe` stops them."
NOT_IN_CHANNEL = (
    ":wave: I can't post in this channel yet, so no alerts were set up. Invite me first with "
    "`/invite @Hamsa`, then subscribe again."
)
UNSUBSCRIBED = ":no_bell: <@{user}> stopped alerts in this channel for {rules}."
NOTHING_TO_UNSUBSCRIBE = "This channel has no alerts like that. `/hamsa subscriptions` lists them."
NO_SUBSCRIPTIONS = "This channel gets no call alerts. `/hamsa subscribe` sets some up."
SUBSCRIPTIONS_HEADING = "*Call alerts in this channel*"
RULE_STOPPED = (
    ":warning: Your Hamsa alerts for {rule} stopped: I can no longer post in <#{channel}> ({reason}). "
    "Invite me back and subscribe again to restart them."
)


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    channel_id: str
    statuses: tuple[str, ...]
    agent: str | None
    created_by: str
    disabled_reason: str | None

    def matches(self, conversation: Conversation) -> bool:
        if self.disabled_reason or conversation.status not in self.statuses:
            return False
        if not self.agent:
            return True
        wanted = self.agent.casefold()
        return wanted in ((conversation.voice_agent_id or "").casefold(), (conversation.agent_name or "").casefold())

    def facts(self) -> RuleFacts:
        return RuleFacts(self.channel_id, self.statuses, self.agent, self.created_by, self.disabled_reason)


class BadFilters(ValueError):
    pass


def parse_filters(args: str) -> tuple[tuple[str, ...], str | None]:
    """``[all | status words…] [agent <name or id>]`` → (Hamsa statuses, agent); no words → the default."""
    words, _, agent = args.partition(" agent ")
    if words.strip().lower() == "agent" or args.strip().lower().startswith("agent "):
        words, agent = "", args.strip()[len("agent ") :]
    statuses: list[str] = []
    for word in words.lower().split():
        if word == "all":
            statuses.extend(STATUS_WORDS[w].value for w in ALL_WORDS)
        elif word in STATUS_WORDS:
            statuses.append(STATUS_WORDS[word].value)
        else:
            raise BadFilters(word)
    agent = " ".join(agent.split())[:200]
    chosen = tuple(dict.fromkeys(statuses)) or DEFAULT_STATUSES
    if agent and UUID.match(agent):
        agent = agent.lower()  # an agent's ID is a UUID, matched whatever its case
    return chosen, agent or None


async def rules_of(
    services: Services, workspace_id: str, channel_id: str | None = None, *, enabled: bool = False
) -> list[Rule]:
    """A workspace's rules (of one channel, when given; only those still running, with ``enabled``)."""
    table = services.store.tables.subscriptions
    query = select(table).where(table.c.workspace_id == workspace_id).order_by(table.c.id)
    if channel_id is not None:
        query = query.where(table.c.channel_id == channel_id)
    if enabled:
        query = query.where(table.c.disabled_reason.is_(None))
    async with services.store.engine.connect() as db:
        rows = (await db.execute(query)).mappings().all()
    return [
        Rule(
            row["id"],
            row["channel_id"],
            tuple(s for s in row["statuses"] if isinstance(s, str)) if isinstance(row["statuses"], list) else (),
            row["agent"],
            row["created_by"],
            row["disabled_reason"],
        )
        for row in rows
    ]


# ---- the commands ----------------------------------------------------------------------------------


async def subscribe(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa subscribe …``: a rule for this channel, confirmed there; kept only if the app can post there."""
    try:
        statuses, agent = parse_filters(command.args)
    except BadFilters as bad:
        text = f"`{inline(str(bad), 40)}` is not a call status.\n{SUBSCRIBE_USAGE}"
        await command.answer(services, text=text, blocks=notice_blocks(text))
        return
    table = services.store.tables.subscriptions
    async with services.store.engine.begin() as db:
        result = await db.execute(
            table.insert().values(
                workspace_id=workspace.key.id,
                channel_id=command.channel_id,
                statuses=list(statuses),
                agent=agent,
                created_by=command.user_id,
                created_at=datetime.now(UTC),
            )
        )
        rule_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    rule = RuleFacts(command.channel_id, statuses, agent, command.user_id)
    text = SUBSCRIBED.format(user=command.user_id, rule=rule_line(rule).rsplit(", by ", 1)[0])
    sent = await services.delivery.post_sent(workspace.slack, command.ref, channel=command.channel_id, text=text)
    if sent.ok:
        logger.info(
            "subscribed workspace=%s channel=%s rule=%s by=%s",
            workspace.key.id,
            command.channel_id,
            rule_id,
            command.user_id,
        )
        return
    async with services.store.engine.begin() as db:
        await db.execute(delete(table).where(table.c.id == rule_id))
    await command.answer(services, text=NOT_IN_CHANNEL, blocks=notice_blocks(NOT_IN_CHANNEL))


async def unsubscribe(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa unsubscribe``: every rule of this channel, or the one with these exact filters."""
    try:
        statuses, agent = parse_filters(command.args) if command.args.strip() else ((), None)
    except BadFilters as bad:
        text = f"`{inline(str(bad), 40)}` is not a call status.\n{SUBSCRIBE_USAGE}"
        await command.answer(services, text=text, blocks=notice_blocks(text))
        return
    rules = await rules_of(services, workspace.key.id, command.channel_id)
    if command.args.strip():
        rules = [r for r in rules if set(r.statuses) == set(statuses) and (r.agent or None) == agent]
    if not rules:
        await command.answer(services, text=NOTHING_TO_UNSUBSCRIBE, blocks=notice_blocks(NOTHING_TO_UNSUBSCRIBE))
        return
    table = services.store.tables.subscriptions
    async with services.store.engine.begin() as db:
        await db.execute(delete(table).where(table.c.id.in_([r.id for r in rules])))
    described = "; ".join(rule_line(r.facts()).rsplit(", by ", 1)[0] for r in rules)
    text = UNSUBSCRIBED.format(user=command.user_id, rules=described)
    if not (await services.delivery.post_sent(workspace.slack, command.ref, channel=command.channel_id, text=text)).ok:
        await command.answer(services, text=text, blocks=notice_blocks(text))


async def subscriptions(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa subscriptions``: this channel's rules, privately."""
    rules = await rules_of(services, workspace.key.id, command.channel_id)
    if not rules:
        await command.answer(services, text=NO_SUBSCRIPTIONS, blocks=notice_blocks(NO_SUBSCRIPTIONS))
        return
    text = SUBSCRIPTIONS_HEADING + "\n" + "\n".join(f"• {rule_line(r.facts())}" for r in rules)
    await command.answer(services, text=text, blocks=notice_blocks(text))


# ---- posting alerts ----------------------------------------------------------------------------------


async def post_alerts(
    services: Services, workspace: Workspace, conversation: Conversation, ref: str, rules: list[Rule]
) -> list[str]:
    """One alert per matching rule that has none for this call yet; returns the errors worth retrying."""
    passing: list[str] = []
    for rule in rules:
        if rule.matches(conversation):
            error = await _post_alert(services, workspace, conversation, rule, ref)
            if error:
                passing.append(error)
    return passing


async def _post_alert(
    services: Services, workspace: Workspace, conversation: Conversation, rule: Rule, ref: str
) -> str | None:
    table = services.store.tables.alerts
    engine = services.store.engine
    values = {
        "workspace_id": workspace.key.id,
        "subscription_id": rule.id,
        "conversation_id": conversation.id,
        "channel_id": rule.channel_id,
        "state": OPEN,
        "created_at": time.time(),
    }
    mine = and_(table.c.subscription_id == rule.id, table.c.conversation_id == conversation.id)
    now = time.time()
    async with engine.begin() as db:
        await db.execute(insert_or_ignore(engine.dialect.name, table, values))
        # One worker posts it: the one that marks it as being posted (two deliveries may race here).
        free = or_(table.c.posting_until.is_(None), table.c.posting_until < now)
        claim = (
            update(table).where(mine, table.c.message_ts.is_(None), free).values(posting_until=now + POSTING_SECONDS)
        )
        claimed = (await db.execute(claim)).rowcount
        row = (await db.execute(select(table).where(mine))).mappings().one()
    if not claimed:
        return None  # posted already (a duplicate, a retry after a crash), or being posted right now
    place = await services.place(workspace, rule.channel_id)
    if not services.visibility(workspace, place).shown:
        # A channel shared with other organisations, where the workspace shows no calls: nothing posted.
        logger.info("alert withheld workspace=%s rule=%s: shared channel", workspace.key.id, rule.id)
        return None
    message = _alert_message(services, workspace, conversation, AlertFacts(row["id"], row["state"]), place)
    await services.pacer.wait(f"{rule.channel_id}:chat.postMessage", PER_CHANNEL)
    sent = await services.delivery.post_sent(workspace.slack, ref, channel=rule.channel_id, **message)
    if sent.ok and sent.ts:
        async with engine.begin() as db:
            await db.execute(
                update(table).where(table.c.id == row["id"]).values(message_ts=sent.ts, posting_until=None)
            )
        logger.info(
            "alert posted workspace=%s rule=%s conversation=%s ref=%s", workspace.key.id, rule.id, conversation.id, ref
        )
        preview = previews.Preview(previews.ALERT, Look(place=place), channel_id=rule.channel_id, message_ts=sent.ts)
        await previews.remember(services, workspace, conversation, preview)
        return None
    async with engine.begin() as db:  # not posted: free for the next attempt
        await db.execute(update(table).where(table.c.id == row["id"]).values(posting_until=None))
    if sent.error in CHANNEL_GONE:
        await _stop_rule(services, workspace, rule, sent.error or "", ref)
        return None
    if sent.passing:
        return sent.error
    logger.warning("alert not posted workspace=%s rule=%s error=%s ref=%s", workspace.key.id, rule.id, sent.error, ref)
    return None


async def _stop_rule(services: Services, workspace: Workspace, rule: Rule, reason: str, ref: str) -> None:
    """The channel is gone (archived, deleted, the app removed): the rule stops, and its author hears it once."""
    table = services.store.tables.subscriptions
    async with services.store.engine.begin() as db:
        result = await db.execute(
            update(table)
            .where(table.c.id == rule.id, table.c.disabled_reason.is_(None))
            .values(disabled_reason=reason[:64])
        )
    if not result.rowcount:
        return  # stopped already, and its author told
    logger.info("subscription stopped workspace=%s rule=%s reason=%s", workspace.key.id, rule.id, reason)
    text = RULE_STOPPED.format(
        rule=rule_line(rule.facts()).rsplit(", by ", 1)[0], channel=rule.channel_id, reason=reason
    )
    await services.delivery.post_sent(workspace.slack, ref, channel=rule.created_by, text=text)


def _alert_message(
    services: Services,
    workspace: Workspace,
    conversation: Conversation,
    alert: AlertFacts,
    place: Place,
    updated_at: float | None = None,
) -> dict[str, Any]:
    """The alert as the channel may see it (a shared channel gets the condensed line)."""
    summary = services.show(workspace, conversation, Look(place=place), updated_at=updated_at)
    return render_alert(summary, alert, title=inline(title_of(conversation, 120), 200), status=conversation.status)


async def _alert(services: Services, workspace_id: str, **match: Any) -> Any:
    table = services.store.tables.alerts
    conditions = [table.c.workspace_id == workspace_id, *(table.c[name] == value for name, value in match.items())]
    async with services.store.engine.connect() as db:
        return (await db.execute(select(table).where(*conditions))).mappings().first()


async def redraw_alert(
    services: Services, workspace: Workspace, conversation: Conversation, channel_id: str, message_ts: str, ref: str
) -> str | None:
    """Draws an alert again (the call changed, or someone triaged it); None when it worked, else Slack's error."""
    row = await _alert(services, workspace.key.id, channel_id=channel_id, message_ts=message_ts)
    if row is None:
        return previews.USED_UP
    facts = AlertFacts(row["id"], row["state"], row["owner"], row["resolved_by"], row["resolved_at"])
    place = await services.place(workspace, channel_id)
    message = _alert_message(services, workspace, conversation, facts, place, updated_at=time.time())
    await services.pacer.wait(f"{workspace.key.id}:chat.update", TIER_3)
    return (await services.delivery.update(workspace.slack, ref, channel=channel_id, ts=message_ts, **message)).error


# ---- triage -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Triage:
    action_id: str
    alert_id: int
    user_id: str
    response_url: str
    ref: str


async def triage(services: Services, workspace: Workspace, click: Triage) -> None:
    """Take it / Resolved / Reopen: one atomic change in the store, the alert redrawn, a note in its thread.

    Two people taking the same alert at once: one update wins, the other is told who has it.
    """
    table = services.store.tables.alerts
    mine = and_(table.c.id == click.alert_id, table.c.workspace_id == workspace.key.id)
    if click.action_id == ALERT_TAKE:
        change = update(table).where(mine, table.c.state == OPEN).values(state=TAKEN, owner=click.user_id)
        note = NOTE_TAKEN
    elif click.action_id == ALERT_RESOLVE:
        values = {"state": RESOLVED_STATE, "resolved_by": click.user_id, "resolved_at": time.time()}
        change = update(table).where(mine, table.c.state != RESOLVED_STATE).values(values)
        note = NOTE_RESOLVED
    elif click.action_id == ALERT_REOPEN:
        values = {"state": OPEN, "owner": None, "resolved_by": None, "resolved_at": None}
        change = update(table).where(mine, table.c.state != OPEN).values(values)
        note = NOTE_REOPENED
    else:
        return
    async with services.store.engine.begin() as db:
        changed = (await db.execute(change)).rowcount
    row = await _alert(services, workspace.key.id, id=click.alert_id)
    if row is None or not row["message_ts"]:
        return  # not an alert of this workspace: a forged or stale button
    if not changed:
        if click.action_id == ALERT_TAKE and row["owner"] and row["owner"] != click.user_id:
            await services.tell_privately(click.response_url, click.ref)(ALREADY_TAKEN.format(owner=row["owner"]))
        return
    logger.info(
        "alert %s workspace=%s alert=%s by=%s", click.action_id, workspace.key.id, click.alert_id, click.user_id
    )
    found = await services.lookup(workspace, row["conversation_id"], click.ref)
    if found.conversation is not None:
        await redraw_alert(services, workspace, found.conversation, row["channel_id"], row["message_ts"], click.ref)
    await services.delivery.post(
        workspace.slack,
        click.ref,
        channel=row["channel_id"],
        thread_ts=row["message_ts"],
        text=note.format(user=click.user_id),
    )
