"""The app in its own process, started the way it is deployed (``python -m bot serve``).

Tests that need real processes (a crash, several replicas) and the benchmarks both use it.
"""

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

from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.lifecycle import free_port
from bot.sandbox.stack import SIGNING_SECRET
from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent.parent
APP_COMMAND = ("-m", "bot", "serve")
HEALTH_PATH = "/healthz"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any app setting, the checkout importable, plus ``settings``."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(PYTHONPATH=str(REPO), **settings)
    return env


def app_process(
    hamsa: FakeHamsa, slack: FakeSlack, command: tuple[str, ...] = APP_COMMAND, /, **settings: str
) -> AppProcess:
    """``hamsa-bot serve`` on a free loopback port, pointed at the stand-ins, with ``settings`` on top."""
    port = free_port()
    env = clean_environment(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        HAMSA_API_KEY=hamsa.api_key,
        HAMSA_API_URL=hamsa.url,
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="INFO",
    )
    env.update(settings)
    return AppProcess(command, env, port)


class AppProcess:
    """One server process: started, polled on /healthz until it answers, stopped with SIGTERM."""

    def __init__(self, command: tuple[str, ...], env: dict[str, str], port: int) -> None:
        self.command = command
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.started_in: float = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        # An empty working directory: no stray .env file can change the settings under test.
        self._cwd = tempfile.TemporaryDirectory(prefix="hamsa-app-")
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

    async def logged(self, text: str, timeout: float = 10.0) -> None:
        """Returns once the process has written ``text`` to its log (it writes as it goes)."""
        async with asyncio.timeout(timeout):
            while text not in self._log.read_text("utf-8", "replace"):
                if self._process is None or self._process.poll() is not None:
                    raise AssertionError(f"the process ended before logging {text!r}:\n{self.output()}")
                await asyncio.sleep(0.01)

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

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash, with no chance to finish anything."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

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
