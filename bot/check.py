"""``hamsa-bot check``: is every setting right? Names each problem and its fix; never prints a secret."""

from __future__ import annotations

import re
import uuid

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.delivery import web_client
from bot.hamsa.client import HamsaClient
from bot.hamsa.errors import ConversationNotFound, HamsaError, HamsaUnauthorized
from bot.identity import TokenRefused, auth_test, slack_error_code
from bot.settings import Settings

OK, PROBLEM = "✔", "✘"
MAX_UNFURL_DOMAINS = 5  # Slack's limit for an app's unfurl domains
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


async def run_check(settings: Settings, out: list[str] | None = None) -> int:
    """Prints one line per check; returns 0 when all pass, 1 otherwise."""
    lines: list[tuple[bool, str]] = []
    lines += await _check_slack(settings)
    lines += _check_secrets(settings)
    lines += await _check_hamsa(settings)
    lines += _check_domains(settings)
    for passed, text in lines:
        line = f"{OK if passed else PROBLEM} {text}"
        if out is not None:
            out.append(line)
        print(line)
    failed = sum(1 for passed, _ in lines if not passed)
    print(f"\n{failed} problem(s) found." if failed else "\nAll settings look right.")
    return 1 if failed else 0


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
