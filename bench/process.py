"""The app under test, in its own process, started the way it is deployed (``python -m bot serve``)."""

from __future__ import annotations

from bench.stand_ins import LINK_DOMAIN, BenchSlack
from bot.sandbox import processes
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.processes import AppProcess
from bot.store.secrets import generate_key

BARE_APP_COMMAND = ("-m", "bench.bare_app")


def app_process(hamsa: FakeHamsa, slack: BenchSlack, **extra: str) -> AppProcess:
    """The real app (``python -m bot serve``) configured against the stand-ins, logging only warnings."""
    return processes.app_process(hamsa, slack, HAMSA_LINK_DOMAINS=LINK_DOMAIN, LOG_LEVEL="WARNING", **extra)


def bare_app_process(hamsa: FakeHamsa, slack: BenchSlack) -> AppProcess:
    """The bare Bolt app (``python -m bench.bare_app``) on the same settings."""
    return processes.app_process(hamsa, slack, BARE_APP_COMMAND, HAMSA_LINK_DOMAINS=LINK_DOMAIN, LOG_LEVEL="WARNING")


def multi_workspace_process(hamsa: FakeHamsa, slack: BenchSlack) -> AppProcess:
    """The real app installable by any workspace: OAuth credentials and a fresh key, no bot token or Hamsa key.

    It starts with an empty store (SQLite in its own directory); a workspace must install it and connect Hamsa.
    """
    return app_process(
        hamsa,
        slack,
        SLACK_BOT_TOKEN="",
        HAMSA_API_KEY="",
        SLACK_CLIENT_ID=slack.client_id,
        SLACK_CLIENT_SECRET=slack.client_secret,
        ENCRYPTION_KEYS=generate_key(),
        HAMSA_UAE_API_URL=hamsa.url,
    )
