"""``hamsa-bot check``: is every setting right? Names each problem and its fix; never prints a secret."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url

from bot.delivery import web_client
from bot.hamsa.client import HamsaClient
from bot.hamsa.errors import ConversationNotFound, HamsaError, HamsaUnauthorized
from bot.identity import TokenRefused, auth_test, slack_error_code
from bot.installs import INSTALL_PATH, REDIRECT_PATH, public_address
from bot.settings import Settings
from bot.state.resilient import RedisUnavailable, open_state
from bot.store.database import DatabaseUnavailable, DatabaseUrlProblem, describe
from bot.store.secrets import ENCRYPTION_KEYS, parse_keys
from bot.store.store import StoreReport, inspect_store

OK, PROBLEM = "✔", "✘"
MAX_UNFURL_DOMAINS = 5  # Slack's limit for an app's unfurl domains
_CLIENT_ID = re.compile(r"^\d+\.\d+$")
KEYS_PURPOSE = "it encrypts each workspace's tokens and Hamsa key in the database"
_APP_CREDENTIALS = "copy it from the app's Basic Information → App Credentials."
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


async def run_check(settings: Settings, out: list[str] | None = None) -> int:
    """Prints one line per check; returns 0 when all pass, 1 otherwise.

    Multi-workspace mode (either OAuth credential set) needs no bot token or Hamsa key: each workspace
    installs the app and connects its own Hamsa account, so the credentials, keys and database are checked.
    """
    installable = bool(settings.slack_client_id or settings.slack_client_secret)
    lines: list[tuple[bool, str]] = []
    lines += _check_oauth(settings) if installable else await _check_slack(settings)
    lines += _check_secrets(settings)
    if not installable:
        lines += await _check_hamsa(settings)
    lines += await _check_store(settings, keys_required=installable)
    lines += await _check_redis(settings)
    lines += _check_domains(settings)
    for passed, text in lines:
        line = f"{OK if passed else PROBLEM} {text}"
        if out is not None:
            out.append(line)
        print(line)
    failed = sum(1 for passed, _ in lines if not passed)
    print(f"\n{failed} problem(s) found." if failed else "\nAll settings look right.")
    return 1 if failed else 0


async def _check_redis(settings: Settings) -> list[tuple[bool, str]]:
    """Only when REDIS_URL is set: replicas share their state there."""
    if not settings.redis_url:
        return []
    try:
        state = await open_state(settings.redis_url, required=True, prefix=settings.redis_prefix)
    except RedisUnavailable as unavailable:
        return [(False, str(unavailable))]
    await state.aclose()
    return [(True, f"REDIS_URL: Redis answers; replicas share their state there under `{settings.redis_prefix}:`.")]


async def _check_slack(settings: Settings) -> list[tuple[bool, str]]:
    if settings.slack_bot_token is None:
        return [(False, "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions.")]
    token = settings.slack_bot_token.get_secret_value()
    if not token.startswith("xoxb-"):
        return [(False, "SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-).")]
    client = web_client(token, settings.slack_api_url)
    try:
        auth = await auth_test(client)
    except TokenRefused as refused:
        return [(False, str(refused))]
    except SlackApiError as error:
        return [(False, f"Slack answered auth.test with an error ({slack_error_code(error)}): try again in a minute.")]
    except (aiohttp.ClientError, TimeoutError) as error:
        return [(False, f"Slack could not be reached at SLACK_API_URL ({type(error).__name__}).")]
    return [(True, f"SLACK_BOT_TOKEN works: bot @{auth.get('user')} in workspace {auth.get('team')}.")]


def _check_oauth(settings: Settings) -> list[tuple[bool, str]]:
    lines: list[tuple[bool, str]] = []
    client_id = (settings.slack_client_id or "").strip()
    secret = settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else ""
    if not client_id:
        lines.append((False, f"SLACK_CLIENT_ID is not set: {_APP_CREDENTIALS}"))
    elif not _CLIENT_ID.match(client_id):
        lines.append(
            (False, f"SLACK_CLIENT_ID does not look like a Slack client ID (digits.digits): {_APP_CREDENTIALS}")
        )
    if not secret:
        lines.append((False, f"SLACK_CLIENT_SECRET is not set: {_APP_CREDENTIALS}"))
    if not lines:
        lines.append((True, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set: any workspace can install the app."))
    lines.append(_check_public_url(settings))
    return lines


def _check_public_url(settings: Settings) -> tuple[bool, str]:
    if settings.public_url is None:
        return (
            True,
            f"PUBLIC_URL is not set: Slack sends installers back to the app's one Redirect URL, which must end in "
            f"{REDIRECT_PATH}.",
        )
    parts = urlsplit(settings.public_url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        return (
            False,
            f"PUBLIC_URL must be the app's HTTPS address, such as https://hamsa-bot.example.com "
            f"(Slack accepts only HTTPS redirect URLs), not {settings.public_url}.",
        )
    return (
        True,
        f"PUBLIC_URL: the install page is {public_address(settings, INSTALL_PATH)}; list "
        f"{public_address(settings, REDIRECT_PATH)} under OAuth & Permissions → Redirect URLs.",
    )


async def _check_store(settings: Settings, *, keys_required: bool) -> list[tuple[bool, str]]:
    keys = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    lines: list[tuple[bool, str]] = []
    report = None
    try:
        report = await inspect_store(settings.database_url, keys)
    except (DatabaseUrlProblem, DatabaseUnavailable) as problem:
        lines.append((False, f"{problem}"))
    else:
        lines.append((True, _database_state(report, describe(make_url(settings.database_url.strip())))))
    if keys_required and not parse_keys(keys):
        lines.append(
            (False, f"{ENCRYPTION_KEYS} is not set: {KEYS_PURPOSE}; create one with `hamsa-bot keys generate`.")
        )
    elif report is not None and report.key_problem:
        lines.append((False, report.key_problem))
    elif report is not None and report.keys_checked:
        lines.append((True, f"{ENCRYPTION_KEYS} decrypts the secrets stored in the database."))
    elif report is not None and parse_keys(keys):
        lines.append((True, f"{ENCRYPTION_KEYS} is well-formed; nothing is stored with it yet."))
    return lines


def _database_state(report: StoreReport, shown: str) -> str:
    if not report.exists:
        return f"DATABASE_URL: no database at {shown} yet; `hamsa-bot serve` creates it."
    if report.revision is None:
        return f"DATABASE_URL reaches {shown}; `hamsa-bot serve` creates its tables."
    if report.revision != report.head:
        return f"DATABASE_URL reaches {shown}; `hamsa-bot serve` upgrades its schema."
    return f"DATABASE_URL reaches {shown} (schema up to date)."


def _check_secrets(settings: Settings) -> list[tuple[bool, str]]:
    lines: list[tuple[bool, str]] = []
    if settings.slack_app_token is not None:
        app_token = settings.slack_app_token.get_secret_value()
        if app_token.startswith("xapp-"):
            lines.append((True, "SLACK_APP_TOKEN is set: the app will run in Socket Mode."))
        else:
            lines.append((False, "SLACK_APP_TOKEN should be an app-level token (xapp-…) with connections:write."))
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if secret:
        lines.append((True, "SLACK_SIGNING_SECRET is set."))
    elif settings.slack_app_token is None:
        lines.append((False, "SLACK_SIGNING_SECRET is not set: copy it from Basic Information → App Credentials."))
    return lines


async def _check_hamsa(settings: Settings) -> list[tuple[bool, str]]:
    if settings.hamsa_api_key is None or not settings.hamsa_api_key.get_secret_value():
        return [(False, "HAMSA_API_KEY is not set: create an API key in the Hamsa dashboard.")]
    # A random conversation ID: "not found" proves the key is accepted without reading real data.
    probe = str(uuid.uuid4())
    async with HamsaClient.from_settings(settings) as client:
        try:
            await client.get_conversation(probe)
        except ConversationNotFound:
            return [(True, f"HAMSA_API_KEY is accepted by {settings.hamsa_api_url}.")]
        except HamsaUnauthorized:
            return [
                (
                    False,
                    f"HAMSA_API_KEY was refused by {settings.hamsa_api_url}: check the key and its region "
                    "(HAMSA_API_URL, e.g. https://api.uae.tryhamsa.com).",
                )
            ]
        except HamsaError as error:
            return [(False, f"Hamsa at HAMSA_API_URL={settings.hamsa_api_url} did not answer properly: {error}.")]
    return [(True, f"HAMSA_API_KEY is accepted by {settings.hamsa_api_url}.")]


def _check_domains(settings: Settings) -> list[tuple[bool, str]]:
    domains = settings.hamsa_link_domains
    bad = [d for d in domains if not _HOST.match(d)]
    if not domains or bad:
        return [(False, f"HAMSA_LINK_DOMAINS holds something that is not a host name: {', '.join(bad) or '(empty)'}.")]
    if len(domains) > MAX_UNFURL_DOMAINS:
        return [(False, f"HAMSA_LINK_DOMAINS lists {len(domains)} hosts; Slack unfurls at most 5 per app.")]
    return [(True, f"Links on {', '.join(domains)} will unfurl (also list them in manifest.yml).")]
