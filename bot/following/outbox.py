"""The outbox: work that must happen even if the process dies right after promising it.

A webhook is answered only once its work is a row here; a worker claims due rows with a lease (so one
replica does each), runs them, and marks them done, or tries again later with backoff. Rows left by a
process that died are claimed again when their lease runs out, so a restart (or another replica)
finishes them. A ``dedupe_key`` makes adding the same work twice a no-op: one delivery, one effect.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import Tables

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
RETRY_BASE_SECONDS = 2.0  # then 4, 8, … up to MAX_BACKOFF_SECONDS
MAX_BACKOFF_SECONDS = 600.0
# Work that still fails after a day is given up (and logged): the world it was for has moved on.
GIVE_UP_SECONDS = 24 * 3600.0
# Done rows are kept this long, so a webhook delivered again later still finds its twin.
KEEP_DONE_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    workspace_id: str
    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    attempts: int
    created_at: float


def upsert(dialect: str, table: Any, values: dict[str, Any], conflict: list[str], changes: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE, in the dialect at hand (both SQLite and Postgres speak it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**values)
    return statement.on_conflict_do_update(index_elements=conflict, set_=changes)


def insert_or_ignore(dialect: str, table: Any, values: dict[str, Any]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(**values).on_conflict_do_nothing()


class Outbox:
    def __init__(
        self,
        engine: AsyncEngine,
        tables: Tables,
        *,
        lease_seconds: float = LEASE_SECONDS,
        timer: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.table = tables.outbox
        self.timer = timer
        # Who holds a lease: this process (unique per start, so a restarted process never mistakes old leases).
        self.owner = secrets.token_hex(8)
        self.retry_base = RETRY_BASE_SECONDS

    @property
    def _dialect(self) -> str:
        return self.engine.dialect.name

    async def add(self, workspace_id: str, kind: str, dedupe_key: str, payload: dict[str, Any]) -> bool:
        """Queues work, durably; False when work with this ``dedupe_key`` was queued before."""
        now = self.timer()
        values = {
            "workspace_id": workspace_id,
            "kind": kind,
            "dedupe_key": dedupe_key[:200],
            "payload": payload,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        async with self.engine.begin() as db:
            result = await db.execute(insert_or_ignore(self._dialect, self.table, values))
        return bool(result.rowcount)

    async def arm(self, workspace_id: str, kind: str, dedupe_key: str, payload: dict[str, Any], at: float) -> None:
        """Schedules recurring work (a poll): one row per key, due at ``at`` unless it is due sooner already."""
        now = self.timer()
        values = {
            "workspace_id": workspace_id,
            "kind": kind,
            "dedupe_key": dedupe_key[:200],
            "payload": payload,
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": now,
        }
        table = self.table
        least = func.min if self._dialect == "sqlite" else func.least  # SQLite's min() of two values is LEAST
        changes = {
            "done_at": None,
            "attempts": 0,
            "payload": payload,
            "next_attempt_at": case((table.c.done_at.is_(None), least(table.c.next_attempt_at, at)), else_=at),
            "created_at": now,
        }
        async with self.engine.begin() as db:
            await db.execute(upsert(self._dialect, table, values, ["dedupe_key"], changes))

    async def claim(self, limit: int = 16) -> list[Entry]:
        """Due work not leased by anyone (or whose lease ran out), now leased by this process."""
        now = self.timer()
        table = self.table
        due = (
            select(table.c.id)
            .where(
                table.c.done_at.is_(None),
                table.c.next_attempt_at <= now,
                or_(table.c.lease_until.is_(None), table.c.lease_until < now),
            )
            .order_by(table.c.next_attempt_at)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (
            update(table)
            .where(table.c.id.in_(due.scalar_subquery()))
            .values(lease_owner=self.owner, lease_until=now + self.lease_seconds, attempts=table.c.attempts + 1)
            .returning(table)
        )
        async with self.engine.begin() as db:
            rows = (await db.execute(claim)).mappings().all()
        return [
            Entry(
                id=row["id"],
                workspace_id=row["workspace_id"],
                kind=row["kind"],
                dedupe_key=row["dedupe_key"],
                payload=row["payload"] if isinstance(row["payload"], dict) else {},
                attempts=row["attempts"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    async def done(self, entry: Entry) -> None:
        await self._finish(entry, done_at=self.timer(), lease_until=None, lease_owner=None)

    async def later(self, entry: Entry, at: float, payload: dict[str, Any] | None = None) -> None:
        """Runs the same work again at ``at`` (a poll's next look), with a new payload if given."""
        values: dict[str, Any] = {"next_attempt_at": at, "lease_until": None, "lease_owner": None, "attempts": 0}
        if payload is not None:
            values["payload"] = payload
        await self._finish(entry, **values)

    async def failed(self, entry: Entry, error: str) -> None:
        """Tries again later, backing off; gives up once the work is a day old."""
        now = self.timer()
        if now - entry.created_at > GIVE_UP_SECONDS:
            logger.error(
                "outbox gave up kind=%s id=%s attempts=%d error=%s", entry.kind, entry.id, entry.attempts, error
            )
            await self._finish(
                entry, done_at=now, lease_until=None, lease_owner=None, last_error=f"gave up: {error}"[:200]
            )
            return
        delay = min(MAX_BACKOFF_SECONDS, self.retry_base * 2.0 ** min(entry.attempts - 1, 16))
        logger.warning(
            "outbox retry kind=%s id=%s attempt=%d in=%.0fs error=%s",
            entry.kind,
            entry.id,
            entry.attempts,
            delay,
            error,
        )
        await self._finish(
            entry, next_attempt_at=now + delay, lease_until=None, lease_owner=None, last_error=error[:200]
        )

    async def _finish(self, entry: Entry, **values: Any) -> None:
        # Only while this process still holds the lease: work it lost to another replica is theirs now.
        table = self.table
        async with self.engine.begin() as db:
            await db.execute(
                update(table).where(and_(table.c.id == entry.id, table.c.lease_owner == self.owner)).values(**values)
            )

    async def next_due(self) -> float | None:
        """When the earliest pending work can be claimed: due, and not leased (None when there is none)."""
        table = self.table
        free_at = case(
            (table.c.lease_until > table.c.next_attempt_at, table.c.lease_until), else_=table.c.next_attempt_at
        )
        async with self.engine.connect() as db:
            query = select(func.min(free_at)).where(table.c.done_at.is_(None))
            return (await db.execute(query)).scalar_one_or_none()

    async def pending(self) -> int:
        table = self.table
        async with self.engine.connect() as db:
            return int((await db.execute(select(func.count()).where(table.c.done_at.is_(None)))).scalar_one())

    async def prune(self) -> None:
        """Forgets work done long ago."""
        cutoff = self.timer() - KEEP_DONE_SECONDS
        async with self.engine.begin() as db:
            await db.execute(delete(self.table).where(self.table.c.done_at < cutoff))
