"""The app under test, in its own process, started the way it is deployed (``python -m bot serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp

from bench.stand_ins import LINK_DOMAIN, BenchSlack
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.lifecycle import free_port
from bot.sandbox.stack import SIGNING_SECRET
from bot.settings import Settings
from bot.store.secrets import generate_key

REPO = Path(__file__).resolve().parent.parent
APP_COMMAND = ("-m", "bot", "serve")
BARE_APP_COMMAND = ("-m", "bench.bare_app")
HEALTH_PATH = "/healthz"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def app_environment(hamsa: FakeHamsa, slack: BenchSlack, port: int, **extra: str) -> dict[str, str]:
    """The bench's own environment without any app setting, plus settings pointing at the stand-ins."""
    settings = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings}
    env.update(
        PYTHONPATH=str(REPO),
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


class AppProcess:
    """One server process: started, polled on /healthz until it answers, stopped with SIGTERM."""

    def __init__(self, command: tuple[str, ...], env: dict[str, str], port: int) -> None:
        self.command = command
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.started_in: float = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        # An empty working directory: no stray .env file can change the settings under test.
        self._cwd = tempfile.TemporaryDirectory(prefix="hamsa-bench-")
        self._log = Path(self._cwd.name) / "output.log"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("not started")
        return self._process.pid

    async def start(self) -> float:
        """Launch and wait for /healthz to answer 200; the seconds that took."""
        log = os.open(self._log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        launched = time.perf_counter()
        try:
            self._process = subprocess.Popen(
                [sys.executable, *self.command], env=self.env, cwd=self._cwd.name, stdout=log, stderr=subprocess.STDOUT
            )
        finally:
            os.close(log)
        async with aiohttp.ClientSession() as session:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"{' '.join(self.command)} exited at start:\n{self.output()}")
                if time.perf_counter() - launched > START_TIMEOUT:
                    raise RuntimeError(f"{' '.join(self.command)} did not answer {HEALTH_PATH}:\n{self.output()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(self.url + HEALTH_PATH) as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.005)
        self.started_in = time.perf_counter() - launched
        return self.started_in

    def output(self) -> str:
        return self._log.read_text("utf-8", "replace")[-4000:]

    def rss_bytes(self) -> int:
        """Resident memory (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User plus system CPU time used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        self._cwd.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


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
