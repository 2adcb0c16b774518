"""slack_sdk's SQLAlchemy installation store, with tokens sealed at rest and look-ups cached in memory.

Only two things differ from the library's store: its tables are ours (token columns of the
:class:`~bot.store.schema.Sealed` type, so every token is encrypted on write and decrypted on read), and
``async_find_installation`` / ``async_find_bot`` answer from a short-lived in-memory cache, since Bolt asks
on every request (twice when the request's user is not the installer: the second asks for that user's own
installation, which is remembered missing too). Any write or delete through this store clears the cache;
the expiry bounds how long another replica's change (a token rotated there) takes to be seen here.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import Tables

CACHE_SECONDS = 60.0


class SealedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """Bolt's installation store for this app (see the module docstring)."""

    def __init__(
        self,
        client_id: str,
        engine: AsyncEngine,
        tables: Tables,
        *,
        cache_seconds: float = CACHE_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.metadata = tables.metadata
        self.installations = tables.installations
        self.bots = tables.bots
        self._cache: TTLCache[tuple[Any, ...], Any] = TTLCache(maxsize=4096, ttl=cache_seconds, timer=timer)

    def forget_cached(self) -> None:
        self._cache.clear()

    async def async_save(self, installation: Installation) -> None:
        self._cache.clear()
        await super().async_save(installation)

    async def async_save_bot(self, bot: Bot) -> None:
        self._cache.clear()
        await super().async_save_bot(bot)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._cache.clear()
        await super().async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self._cache.clear()
        await super().async_delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        key = ("bot", enterprise_id, team_id, bool(is_enterprise_install))
        if key in self._cache:
            return copy.copy(self._cache[key])
        found = await super().async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        if found is None:  # not cached: a workspace installing on another replica must be seen at once
            return None
        self._cache[key] = found
        return copy.copy(found)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = ("installation", enterprise_id, team_id, user_id, bool(is_enterprise_install))
        if key in self._cache:
            cached = self._cache[key]
            # Bolt edits the installation it is given (it sets another user's token to None), so each caller
            # gets a copy; a shallow one will do, as only attributes are set (and it costs a microsecond).
            return None if cached is None else copy.copy(cached)
        found = await super().async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        if found is None:
            # Bolt asks for the installation of each request's user too, wanting that person's user token. The
            # app asks for no user scopes, so such a row only exists for installers: not finding one is the rule,
            # and is remembered like a find. A workspace's own installation is never remembered missing.
            if user_id is not None:
                self._cache[key] = None
            return None
        self._cache[key] = found
        return copy.copy(found)
