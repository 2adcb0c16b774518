"""The app under test, in its own process, started the way it is deployed (``python -m bot serve``)."""

from __future__ import annotations

from bench.stand_ins import LINK_DOMAIN, BenchSlack
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.lifecycle import free_port
from bot.sandbox.processes import APP_COMMAND, AppProcess, clean_environment
from bot.sandbox.stack import SIGNING_SECRET
from bot.store.secrets import generate_key

BARE_APP_COMMAND = ("-m", "bench.bare_app")


def app_environment(hamsa: FakeHamsa, slack: BenchSlack, port: int, **extra: str) -> dict[str, str]:
    """The bench's own environment without any app setting, plus settings pointing at the stand-ins."""
    env = clean_environment(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        HAMSA_API_KEY=hamsa.api_key,
        HAMSA_API_URL=hamsa.url,
        HAMSA_LINK_DOMAINS=LINK_DOMAIN,
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def app_process(hamsa: FakeHamsa, slack: BenchSlack, **extra: str) -> AppProcess:
    """The real app (``python -m bot serve``) configured against the stand-ins."""
    port = free_port()
    return AppProcess(APP_COMMAND, app_environment(hamsa, slack, port, **extra), port)


def bare_app_process(hamsa: FakeHamsa, slack: BenchSlack) -> AppProcess:
    """The bare Bolt app (``python -m bench.bare_app``) on the same settings."""
    port = free_port()
    return AppProcess(BARE_APP_COMMAND, app_environment(hamsa, slack, port), port)


def multi_workspace_process(hamsa: FakeHamsa, slack: BenchSlack) -> AppProcess:
    """The real app installable by any workspace: OAuth credentials and a fresh key, no bot token or Hamsa key.

    It starts with an empty store (SQLite in its own directory); a workspace must install it and connect Hamsa.
    """
    port = free_port()
    env = app_environment(
        hamsa,
        slack,
        port,
        SLACK_CLIENT_ID=slack.client_id,
        SLACK_CLIENT_SECRET=slack.client_secret,
        ENCRYPTION_KEYS=generate_key(),
        HAMSA_UAE_API_URL=hamsa.url,
    )
    for single_workspace_only in ("SLACK_BOT_TOKEN", "HAMSA_API_KEY"):
        del env[single_workspace_only]
    return AppProcess(APP_COMMAND, env, port)
