"""The workspace behind a request, resolved once and handed down the pipeline.

A :class:`Workspace` is everything a listener needs to decide and act for one workspace: its key,
its Slack client (with its own bot token), its Hamsa account (or none yet), its policy and who
installed the app. :class:`Workspaces` builds them, caches what the store holds for a short while
(every change made here clears it at once; another replica's change shows within the expiry), and is
the one place that changes a workspace's connection, settings and muted channels.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cachetools import TTLCache
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.hamsa.client import HamsaClient
from bot.policy import Policy
from bot.settings import Settings
from bot.store.installations import SealedInstallationStore
from bot.store.store import Store
from bot.store.workspaces import HamsaConnection, WorkspaceKey

logger = logging.getLogger(__name__)

REGIONS = ("eu", "uae")
# What the store says about a workspace is kept this long; a change made on this replica clears it.
CACHE_SECONDS = 30.0
# Whether someone is an admin or owner, and their time zone, change rarely; users.info is asked again after this.
PEOPLE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Person:
    """What the app needs to know of someone (``users.info``): whether they may manage it, and their time zone."""

    admin: bool
    zone: tzinfo


@dataclass(frozen=True, slots=True)
class Connection:
    """A workspace's Hamsa account as people may see it: never the key."""

    region: str
    key_last4: str
    connected_by: str | None
    connected_at: datetime | None
    from_environment: bool


@dataclass(frozen=True, slots=True)
class Workspace:
    key: WorkspaceKey
    slack: AsyncWebClient
    hamsa: HamsaClient | None  # None until someone connects a Hamsa account
    connection: Connection | None
    policy: Policy
    installer: str | None  # who installed the app (unknown in single-workspace mode)


@dataclass(frozen=True, slots=True)
class _Stored:
    hamsa: HamsaClient | None
    connection: Connection | None
    policy: Policy
    installer: str | None


def key_of(context: AsyncBoltContext) -> WorkspaceKey:
    return WorkspaceKey.of(context.enterprise_id, context.team_id, org_install=bool(context.is_enterprise_install))


def _scope(workspace: WorkspaceKey, api_key: str) -> str:
    """What the cache keys a workspace's conversations by: the workspace and (a digest of) its key."""
    return f"{workspace.id}:{hashlib.sha256(api_key.encode()).hexdigest()[:16]}"


class Workspaces:
    """Resolves and changes workspaces; one per process."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        hamsa: HamsaClient,
        installations: SealedInstallationStore | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hamsa = hamsa
        self.installations = installations
        self._stored: TTLCache[str, _Stored] = TTLCache(maxsize=10_000, ttl=CACHE_SECONDS)
        self._people: TTLCache[tuple[str, str], Person] = TTLCache(maxsize=10_000, ttl=PEOPLE_SECONDS)
        self._loading: dict[str, asyncio.Task[_Stored]] = {}
        self.rotator: AsyncTokenRotator | None = None  # set with the Web API client, in multi-workspace mode

    @property
    def multi(self) -> bool:
        return self.settings.multi_workspace

    async def resolve(self, context: AsyncBoltContext) -> Workspace:
        """The workspace of a Slack request, with the Slack client Bolt authorized for it."""
        return await self.get(key_of(context), context.client)

    async def get(self, key: WorkspaceKey, slack: AsyncWebClient) -> Workspace:
        stored = self._stored.get(key.id)
        if stored is None:
            stored = await self._load_once(key)
        return Workspace(key, slack, stored.hamsa, stored.connection, stored.policy, stored.installer)

    async def _load_once(self, key: WorkspaceKey) -> _Stored:
        """One load per workspace at a time: a burst of requests after the cache expired waits for it."""
        loading = self._loading.get(key.id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key))
            self._loading[key.id] = loading
            loading.add_done_callback(functools.partial(self._loaded, key.id))
        return await asyncio.shield(loading)

    def _loaded(self, workspace_id: str, loading: asyncio.Task[_Stored]) -> None:
        if self._loading.get(workspace_id) is not loading:
            return  # forgotten while loading: what it read may be out of date, so it is not kept
        del self._loading[workspace_id]
        if not loading.cancelled() and loading.exception() is None:
            self._stored[workspace_id] = loading.result()

    def forget_cached(self, key: WorkspaceKey) -> None:
        self._stored.pop(key.id, None)
        self._loading.pop(key.id, None)
        for person in [p for p in self._people if p[0] == key.id]:
            self._people.pop(person, None)

    async def _load(self, key: WorkspaceKey) -> _Stored:
        data = self.store.workspaces
        policy = Policy.of(self.settings, await data.settings(key), await data.muted_channels(key))
        if not self.multi:
            api_key = self.settings.hamsa_api_key.get_secret_value() if self.settings.hamsa_api_key else ""
            region = "uae" if self.settings.hamsa_api_url == self.settings.hamsa_uae_api_url else "eu"
            hamsa = self.hamsa.for_account(
                api_key=api_key, base_url=self.settings.hamsa_api_url, scope=_scope(key, api_key)
            )
            connection = Connection(region, api_key[-4:], None, None, from_environment=True)
            return _Stored(hamsa, connection, policy, None)
        installer = await self._installer(key)
        found = await self.store.workspaces.connection(key)
        if found is None:
            return _Stored(None, None, policy, installer)
        hamsa = self.hamsa.for_account(api_key=found.api_key, base_url=found.api_url, scope=_scope(key, found.api_key))
        connection = Connection(found.region, found.key_last4, found.connected_by, found.connected_at, False)
        return _Stored(hamsa, connection, policy, installer)

    async def _installer(self, key: WorkspaceKey) -> str | None:
        if self.installations is None:
            return None
        installation = await self.installations.async_find_installation(
            enterprise_id=key.enterprise_id, team_id=key.team_id, is_enterprise_install=key.is_org_install
        )
        return installation.user_id if installation is not None else None

    async def bot_token(self, key: WorkspaceKey) -> str | None:
        """The workspace's bot token for work outside any request (None once the app is uninstalled).

        Bolt refreshes a rotating token as requests come; work with no request behind it (a webhook's
        alert at night) refreshes it here the same way, through slack_sdk's token rotator.
        """
        if not self.multi:
            return self.settings.slack_bot_token.get_secret_value() if self.settings.slack_bot_token else None
        if self.installations is None:
            return None
        bot = await self.installations.async_find_bot(
            enterprise_id=key.enterprise_id, team_id=key.team_id, is_enterprise_install=key.is_org_install
        )
        if bot is None:
            return None
        if bot.bot_refresh_token and self.rotator is not None:
            refreshed = await self.rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=120)
            if refreshed is not None:
                await self.installations.async_save_bot(refreshed)
                bot = refreshed
        return bot.bot_token

    # ---- who may manage ---------------------------------------------------------------------

    async def can_manage(self, workspace: Workspace, user_id: str | None) -> bool:
        """The installer, and the workspace's admins and owners."""
        if not user_id:
            return False
        if user_id == workspace.installer:
            return True
        person = await self.person(workspace, user_id)
        return person is not None and person.admin

    async def person(self, workspace: Workspace, user_id: str) -> Person | None:
        """Who ``user_id`` is (``users.info``, scope users:read), remembered a while; None when Slack can't say."""
        remembered = self._people.get((workspace.key.id, user_id))
        if remembered is not None:
            return remembered
        try:
            answer = await workspace.slack.users_info(user=user_id)
        except SlackApiError as error:
            logger.warning("users.info failed error=%.60s", error.response.get("error") if error.response else "?")
            return None  # not remembered: Slack may answer next time
        user = answer.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        person = Person(admin, zone_of(user.get("tz"), user.get("tz_offset")))
        self._people[workspace.key.id, user_id] = person
        return person

    def managers_in_words(self, workspace: Workspace) -> str:
        """Who may manage the app here, as App Home says it (mrkdwn written by the app)."""
        if workspace.installer:
            return f"<@{workspace.installer}> (who installed the app) and this workspace's admins and owners"
        return "This workspace's admins and owners"

    # ---- changes ----------------------------------------------------------------------------

    def account(self, *, api_key: str, region: str, workspace: WorkspaceKey) -> HamsaClient:
        """A client for an account not stored yet (to check a key before connecting it)."""
        return self.hamsa.for_account(
            api_key=api_key, base_url=self.region_url(region), scope=_scope(workspace, api_key)
        )

    def region_url(self, region: str) -> str:
        return self.settings.hamsa_uae_api_url if region == "uae" else self.settings.hamsa_api_url

    async def connect(self, key: WorkspaceKey, *, api_key: str, region: str, user_id: str) -> HamsaConnection:
        connection = await self.store.workspaces.connect(
            key, api_key=api_key, api_url=self.region_url(region), region=region, user_id=user_id
        )
        self.forget_cached(key)
        logger.info(
            "hamsa connected workspace=%s region=%s key_last4=%s by=%s", key.id, region, connection.key_last4, user_id
        )
        return connection

    async def disconnect(self, key: WorkspaceKey, *, user_id: str) -> None:
        await self.store.workspaces.disconnect(key)
        self.forget_cached(key)
        logger.info("hamsa disconnected workspace=%s by=%s", key.id, user_id)

    async def change_settings(self, key: WorkspaceKey, changes: dict[str, Any], *, user_id: str) -> None:
        """Stores ``changes`` over what the workspace had; each change is logged with who made it."""
        stored = dict(await self.store.workspaces.settings(key) or {})
        stored.update(changes)
        await self.store.workspaces.save_settings(key, stored, user_id=user_id)
        self.forget_cached(key)
        for name, value in changes.items():
            logger.info("setting changed workspace=%s setting=%s value=%.200r by=%s", key.id, name, value, user_id)

    async def mute(self, key: WorkspaceKey, channel_id: str, *, muted: bool, user_id: str) -> None:
        """Stops (or restarts) unfurls in one channel; logged with who did it."""
        if muted:
            await self.store.workspaces.mute(key, channel_id, user_id=user_id)
        else:
            await self.store.workspaces.unmute(key, channel_id)
        self.forget_cached(key)
        logger.info(
            "channel %s workspace=%s channel=%s by=%s", "muted" if muted else "unmuted", key.id, channel_id, user_id
        )

    async def forget(self, key: WorkspaceKey) -> None:
        """Everything the app holds for this workspace goes (the app was uninstalled, its tokens revoked)."""
        await self.store.workspaces.forget(key)
        if self.installations is not None:
            self.installations.forget_cached()
        self.forget_cached(key)
        logger.info("workspace forgotten workspace=%s", key.id)


def zone_of(name: object, offset: object) -> tzinfo:
    """The IANA zone Slack names, else its fixed offset in seconds, else UTC."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if isinstance(offset, int) and not isinstance(offset, bool) and abs(offset) < 24 * 3600:
        return timezone(timedelta(seconds=offset))
    return UTC
