"""Multi-workspace mode: Bolt's own OAuth flow ("Add to Slack") over the app's store, with our pages.

Bolt serves ``GET /slack/install`` (a page whose button goes to Slack's consent page with a ``state``,
also set in a cookie) and ``GET /slack/oauth_redirect`` (checks the state, exchanges the code with
``oauth.v2.access``, stores the installation). Only the pages are ours, and the authorization: Bolt's,
with its result cache on, so a request costs no ``auth.test`` once its token is known.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.pages import failed_page, install_page, installed_page
from bot.settings import Settings
from bot.store.installations import SealedInstallationStore
from bot.store.store import Store

logger = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600
# The bot scopes the app asks for: manifest.yml lists the same (a test keeps them equal).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "links:read",
    "links:write",
    "app_mentions:read",
    "users:read",
    "channels:read",
    "groups:read",
    "files:write",
)
_HTML = {"Content-Type": "text/html; charset=utf-8"}


def authorization_url(slack_api_url: str) -> str:
    """Slack's consent page, beside the Web API it was given (``https://slack.com/api/`` → ``…/oauth/v2/authorize``)."""
    return slack_api_url.rstrip("/").removesuffix("/api") + "/oauth/v2/authorize"


def public_address(settings: Settings, path: str) -> str:
    """Where people reach ``path``: on PUBLIC_URL when it is set, else the path alone."""
    return f"{settings.public_url}{path}" if settings.public_url else path


class InstallFlow(AsyncOAuthFlow):
    """Bolt's flow, with this app's install page."""

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        return install_page(url)


def install_flow(
    settings: Settings, store: Store, installations: SealedInstallationStore, client: AsyncWebClient
) -> InstallFlow:
    """The OAuth flow, writing to ``installations`` (also what Bolt authorizes requests with)."""
    client_id = settings.slack_client_id or ""
    client_secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else ""

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        logger.info(
            "installed team=%s enterprise=%s org_install=%s by=%s",
            installation.team_id,
            installation.enterprise_id,
            installation.is_enterprise_install,
            installation.user_id,
        )
        team_id = installation.team_id or installation.enterprise_id
        page = installed_page(installation.team_name or installation.enterprise_name, installation.app_id, team_id)
        return _page_response(args.settings, 200, page)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        logger.info("install failed reason=%s", args.reason)
        return _page_response(args.settings, args.suggested_status_code, failed_page(args.reason, INSTALL_PATH))

    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=public_address(settings, REDIRECT_PATH) if settings.public_url else None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=AsyncCallbackOptions(success=success, failure=failure),
        authorization_url=authorization_url(settings.slack_api_url),
        installation_store=installations,
        state_store=store.oauth_state_store(STATE_SECONDS),
        state_expiration_seconds=STATE_SECONDS,
    )
    return InstallFlow(client=client, settings=oauth_settings)


def authorize(
    settings: Settings, installations: SealedInstallationStore, client: AsyncWebClient
) -> AsyncInstallationStoreAuthorize:
    """Bolt's installation-store authorization with its result cache on (keyed by token, so rotation misses it)."""
    return AsyncInstallationStoreAuthorize(
        logger=logging.getLogger("slack_bolt.authorize"),
        installation_store=installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else None,
        cache_enabled=True,
        # The token rotator calls oauth.v2.access through this client, so SLACK_API_URL applies to it too.
        client=client,
    )


def _page_response(oauth_settings: AsyncOAuthSettings, status: int, page: str) -> BoltResponse:
    """The page, clearing the state cookie as Bolt's own pages do."""
    headers: dict[str, str | Sequence[str]] = {
        **_HTML,
        "Set-Cookie": [oauth_settings.state_utils.build_set_cookie_for_deletion()],
    }
    return BoltResponse(status=status, body=page, headers=headers)
