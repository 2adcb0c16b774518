"""Who the bot token belongs to: one ``auth.test`` at start-up, handed to Bolt as its authorization."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.messages import SLACK_TOKEN_REFUSED
from bot.store.workspaces import WorkspaceKey

logger = logging.getLogger(__name__)

# auth.test's answers that mean the token itself is wrong, revoked or of a deactivated app: asking
# again cannot help. Any other error (ratelimited, internal_error, …) is Slack's, and passes.
REFUSED_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


class TokenRefused(Exception):
    """Slack refused the bot token; the message says how to fix it."""

    def __init__(self, code: str) -> None:
        super().__init__(SLACK_TOKEN_REFUSED.format(code=code))
        self.code = code


def slack_error_code(error: SlackApiError) -> str:
    """Slack's error code (``invalid_auth``), or ``unknown`` when its answer had none (an HTML 503)."""
    data = error.response.data if error.response is not None else None
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) else "unknown"


async def auth_test(client: AsyncWebClient) -> AsyncSlackResponse:
    """``auth.test``; TokenRefused when the token is refused, SlackApiError for Slack's other errors."""
    try:
        return await client.auth_test()
    except SlackApiError as error:
        code = slack_error_code(error)
        if code in REFUSED_TOKEN_ERRORS:
            raise TokenRefused(code) from None
        raise


class BotIdentity(AsyncAuthorize):
    """Bolt's authorization for the one workspace the app serves, from one ``auth.test`` at start-up.

    Bolt's default calls ``auth.test`` inside the first request's 3-second window, with Slack's
    retries around it. Here ``start()`` calls it once, in the background. Until Slack answers,
    requests are authorized with what is known (the token), and an unreachable or failing Slack
    is asked again with backoff. A refused token sets ``refused``: ``serve`` stops on it.
    """

    def __init__(
        self, client: AsyncWebClient, token: str, *, first_retry: float = 1.0, max_retry: float = 60.0
    ) -> None:
        super().__init__()
        self._client = client
        self._token = token
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._result: AuthorizeResult | None = None
        self._answer: dict[str, object] | None = None
        self._task: asyncio.Task[None] | None = None
        self.known = asyncio.Event()
        self.refused = asyncio.Event()
        self.refusal: TokenRefused | None = None

    @property
    def workspace(self) -> WorkspaceKey | None:
        """The one workspace's key, once Slack said whose the token is."""
        if self._result is None:
            return None
        answer = self._answer or {}
        return WorkspaceKey.of(
            self._result.enterprise_id, self._result.team_id, org_install=bool(answer.get("is_enterprise_install"))
        )

    def start(self) -> None:
        """Asks Slack who the token belongs to, in the background; neither start-up nor requests wait."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._ask_slack())

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait((self._task,))

    async def _ask_slack(self) -> None:
        delay = self._first_retry
        while True:
            try:
                answer = await auth_test(self._client)
            except TokenRefused as refused:
                logger.error("slack refused the bot token error=%s", refused.code)
                self.refusal = refused
                self.refused.set()
                return
            except SlackApiError as error:
                reason = slack_error_code(error)
            except (aiohttp.ClientError, TimeoutError) as error:
                reason = type(error).__name__
            else:
                self._answer = dict(answer.data) if isinstance(answer.data, dict) else {}
                self._result = AuthorizeResult.from_auth_test_response(bot_token=self._token, auth_test_response=answer)
                logger.info("slack token works: bot user=%s team=%s", self._result.bot_user_id, self._result.team_id)
                self.known.set()
                return
            logger.warning(
                "slack auth.test failed error=%s (requests go on, with the token alone); retry in %.1fs",
                reason,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(self._max_retry, delay * 2)

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult:
        if self._result is not None:
            return self._result
        # Slack has not answered yet: the token is all that is known, and all a listener needs.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self._token)
