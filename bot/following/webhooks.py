"""Hamsa's webhooks: who sent one (by its secret), what it says, and queuing what it asks for.

Hamsa sends ``Authorization: Bearer <secret>`` (no signature is documented). Each workspace has its
own secret, generated here and shown to the people who manage the app; it is stored sealed, beside a
keyed hash that finds the workspace without decrypting every secret. A webhook is answered only once
its work is in the outbox, and the same delivery queued twice is one piece of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from bot.following.outbox import upsert
from bot.hamsa.errors import InvalidConversationId
from bot.refs import normalize_conversation_id
from bot.settings import Settings
from bot.store.secrets import SecretBox
from bot.store.store import Store
from bot.store.workspaces import WorkspaceKey

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/hamsa/webhooks"
MAX_WEBHOOK_BYTES = 1024 * 1024
# The events that change what a call shows; Hamsa's others are acknowledged and left alone.
FOLLOWED_EVENTS = frozenset({"call.started", "call.answered", "call.ended"})
KNOWN_EVENTS = FOLLOWED_EVENTS | {"transcription.update", "tool.executed"}
SECRET_PREFIX = "hsk_"
# A workspace that sent no webhook for this long is taken to send none: its live calls are polled.
WEBHOOKS_RECENT_SECONDS = 24 * 3600.0
DELIVERY_NOTE_SECONDS = 60.0
IDENTITY_WAIT_SECONDS = 2.0
CALL = "call"  # the outbox work a call's event becomes (bot.following.calls handles it)


class MalformedWebhook(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class HamsaEvent:
    event_type: str
    conversation_id: str | None
    timestamp: str

    @property
    def followed(self) -> bool:
        return self.event_type in FOLLOWED_EVENTS

    def dedupe_key(self, workspace_id: str) -> str:
        """Two deliveries of one event say the same thing: the same key."""
        said = f"{workspace_id}|{self.event_type}|{self.conversation_id}|{self.timestamp}"
        return "webhook:" + hashlib.sha256(said.encode()).hexdigest()


def parse_event(body: bytes) -> HamsaEvent:
    """Reads the envelope ``{eventType, callId, timestamp, …, data}``.

    The call's ID comes from ``callId`` or ``data.data.conversationId``; either may be absent.
    """
    try:
        envelope: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedWebhook("not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("eventType"), str):
        raise MalformedWebhook("no eventType")
    data = envelope.get("data")
    inner = data.get("data") if isinstance(data, dict) else None
    candidates = (envelope.get("callId"), inner.get("conversationId") if isinstance(inner, dict) else None)
    conversation_id = None
    for candidate in candidates:
        try:
            conversation_id = normalize_conversation_id(candidate if isinstance(candidate, str) else "")
            break
        except InvalidConversationId:
            continue
    timestamp = envelope.get("timestamp")
    return HamsaEvent(envelope["eventType"][:64], conversation_id, str(timestamp)[:64] if timestamp is not None else "")


def bearer(authorization: str | None) -> str | None:
    """The secret of ``Authorization: Bearer <secret>``, or None."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookSecrets:
    """Each workspace's webhook secret: made, shown, regenerated, and matched against a delivery."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.table = store.tables.webhook_secrets
        self._noted: dict[str, float] = {}

    @property
    def can_store(self) -> bool:
        """Secrets are stored sealed, so only with ENCRYPTION_KEYS."""
        return self.store.box is not None

    @property
    def from_environment(self) -> str | None:
        """Single-workspace mode: HAMSA_WEBHOOK_SECRET, when set, is the secret."""
        if self.settings.multi_workspace or self.settings.hamsa_webhook_secret is None:
            return None
        return self.settings.hamsa_webhook_secret.get_secret_value() or None

    async def secret_for(self, workspace: WorkspaceKey, user_id: str) -> str | None:
        """The workspace's secret, made on first use; None when it can't be stored (no ENCRYPTION_KEYS)."""
        if self.from_environment:
            return self.from_environment
        async with self.store.engine.connect() as db:
            found = (
                await db.execute(select(self.table.c.secret).where(self.table.c.workspace_id == workspace.id))
            ).scalar()
        if found is not None:
            return str(found)
        return await self.regenerate(workspace, user_id) if self.can_store else None

    async def regenerate(self, workspace: WorkspaceKey, user_id: str) -> str | None:
        """A new secret; the old one stops working at once."""
        if self.from_environment or not self.can_store:
            return self.from_environment
        box = self._box()
        secret = new_secret()
        async with self.store.engine.begin() as db:
            await db.execute(delete(self.table).where(self.table.c.workspace_id == workspace.id))
            await db.execute(
                self.table.insert().values(
                    workspace_id=workspace.id,
                    secret=secret,
                    secret_hash=box.keyed_hash(secret),
                    created_by=user_id,
                    created_at=datetime.now(UTC),
                )
            )
        logger.info("webhook secret made workspace=%s by=%s", workspace.id, user_id)
        return secret

    async def workspace_of(self, secret: str, single: WorkspaceKey | None) -> str | None:
        """The workspace ID a delivery with ``secret`` comes from, or None (compared in constant time)."""
        environment = self.from_environment
        if environment is not None:
            if single is not None and hmac.compare_digest(secret.encode(), environment.encode()):
                return single.id
            return None
        if not self.can_store:
            return None
        hashes = self._box().keyed_hashes(secret)
        async with self.store.engine.connect() as db:
            query = select(self.table.c.workspace_id, self.table.c.secret).where(self.table.c.secret_hash.in_(hashes))
            row = (await db.execute(query)).first()
        if row is None or not hmac.compare_digest(str(row.secret).encode(), secret.encode()):
            return None
        return str(row.workspace_id)

    async def delivered(self, workspace_id: str) -> None:
        """Notes that this workspace sends webhooks (its live calls need no polling); written once a minute at most."""
        now = time.time()
        if now - self._noted.get(workspace_id, 0.0) < DELIVERY_NOTE_SECONDS:
            return
        self._noted[workspace_id] = now
        table = self.store.tables.webhook_deliveries
        statement = upsert(
            self.store.engine.dialect.name,
            table,
            {"workspace_id": workspace_id, "last_at": now},
            ["workspace_id"],
            {"last_at": now},
        )
        async with self.store.engine.begin() as db:
            await db.execute(statement)

    async def sends_webhooks(self, workspace: WorkspaceKey) -> bool:
        """Whether a webhook came from this workspace in the last day."""
        table = self.store.tables.webhook_deliveries
        async with self.store.engine.connect() as db:
            last = (await db.execute(select(table.c.last_at).where(table.c.workspace_id == workspace.id))).scalar()
        return last is not None and time.time() - float(last) < WEBHOOKS_RECENT_SECONDS

    def _box(self) -> SecretBox:
        box = self.store.box
        assert box is not None  # callers check can_store first
        return box


async def receive(services: Services, authorization: str | None, body: bytes) -> int:
    """Answers one webhook delivery (the HTTP status), once its work is durably queued.

    Missing or wrong secret → 401; malformed → 400; an event of a kind Hamsa does not document → 200,
    ignored; nothing else happens for any of them. A known event is acknowledged; one that changes a
    call is queued once, however often it is delivered.
    """
    secret = bearer(authorization)
    if secret is None:
        return 401
    single = await _single_workspace(services)
    workspace_id = await services.webhooks.workspace_of(secret, single)
    if workspace_id is None:
        logger.info("hamsa webhook refused: unknown secret")
        return 401
    try:
        event = parse_event(body)
    except MalformedWebhook as error:
        logger.info("hamsa webhook refused: malformed (%s) workspace=%s", error, workspace_id)
        return 400
    if event.event_type not in KNOWN_EVENTS:
        logger.info("hamsa webhook ignored: unknown event=%.64s workspace=%s", event.event_type, workspace_id)
        return 200
    await services.webhooks.delivered(workspace_id)
    if not event.followed or event.conversation_id is None:
        return 200
    payload = {"conversation_id": event.conversation_id, "event_type": event.event_type}
    if await services.outbox.add(workspace_id, CALL, event.dedupe_key(workspace_id), payload):
        services.worker.wake()
    else:
        logger.info("hamsa webhook delivered again event=%s workspace=%s", event.event_type, workspace_id)
    return 200


async def _single_workspace(services: Services) -> WorkspaceKey | None:
    """Single-workspace mode: the workspace, waiting a moment for Slack to say which it is at start-up."""
    identity = services.identity
    if identity is None or services.webhooks.from_environment is None:
        return None
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(identity.known.wait(), IDENTITY_WAIT_SECONDS)
    return identity.workspace
