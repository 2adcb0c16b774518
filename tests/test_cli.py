"""The `hamsa-bot` command as an admin or support engineer runs it: check, serve, preview and keys."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.check import OK, PROBLEM, run_check
from bot.cli import main
from bot.demo import logging_state_kept
from bot.messages import NOT_A_REFERENCE, SLACK_TOKEN_REFUSED
from bot.render.summary import PLAY_RECORDING
from bot.render.terminal import BUILDER_URL, mrkdwn_to_text
from bot.sandbox.blockkit import block_kit_problems
from bot.sandbox.fake_hamsa import FakeHamsa, GatedHamsa
from bot.sandbox.fake_slack import SANDBOX_TEAM, FakeSlack
from bot.sandbox.lifecycle import free_port
from bot.sandbox.samples import DOCUMENTED_ID, SAMPLES, documented_example
from bot.sandbox.slack_requests import SlackSender, link_shared_event
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, INSTALLER, SIGNING_SECRET, sandbox_settings, start_stack
from bot.server import HEALTH_PATH
from bot.settings import Settings
from bot.store.secrets import generate_key
from bot.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED = documented_example()
WRONG_TOKEN = "xoxb-not-the-right-token-4711"
WRONG_KEY = "not-the-right-hamsa-key-4711"
REQUEST_LINE = re.compile(r"slack request kind=command:/hamsa ref=H-[0-9A-F]{6} status=200 latency_ms=\d+\.\d")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
async def hamsa() -> AsyncIterator[FakeHamsa]:
    async with FakeHamsa(api_key=HAMSA_KEY) as server:
        yield server


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the defaults: no setting from the environment, and no .env file in the working directory."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """The command configures logging; put it back for the tests that follow."""
    with logging_state_kept():
        yield


def command_env(**settings: str) -> dict[str, str]:
    """A clean environment: the package importable from the checkout, and only ``settings``."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", **settings}


# ---- check --------------------------------------------------------------------------------------


async def test_check_names_every_wrong_setting_and_fails(
    slack: FakeSlack, hamsa: FakeHamsa, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.model_construct(
        slack_bot_token=SecretStr(WRONG_TOKEN),
        slack_api_url=slack.api_url,
        hamsa_api_key=SecretStr(WRONG_KEY),
        hamsa_api_url=hamsa.url,
        hamsa_link_domains=("not a host",),
    )
    lines: list[str] = []

    assert await run_check(settings, out=lines) == 1

    problems = [line for line in lines if line.startswith(PROBLEM)]
    named = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "HAMSA_API_KEY", "HAMSA_LINK_DOMAINS"]
    assert [next(p for p in problems if name in p) for name in named] == problems
    assert "invalid_auth" in problems[0]  # Slack's own answer, so the admin can look it up
    assert "not a host" in problems[3]
    printed = capsys.readouterr()
    assert f"{len(named)} problem(s) found." in printed.out
    for secret in (WRONG_TOKEN, WRONG_KEY):
        assert secret not in printed.out + printed.err


async def test_check_passes_with_right_settings_and_prints_no_secret(
    slack: FakeSlack, hamsa: FakeHamsa, capsys: pytest.CaptureFixture[str]
) -> None:
    lines: list[str] = []

    assert await run_check(sandbox_settings(hamsa, slack), out=lines) == 0

    assert lines and all(line.startswith(OK) for line in lines)
    assert [call.method for call in slack.calls] == ["auth.test"]
    printed = capsys.readouterr()
    assert "All settings look right." in printed.out
    for secret in (BOT_TOKEN, SIGNING_SECRET, HAMSA_KEY):
        assert secret not in printed.out + printed.err


async def test_check_says_whether_redis_answers_without_showing_its_password(
    slack: FakeSlack, hamsa: FakeHamsa, redis_url: tuple[str, str]
) -> None:
    url, prefix = redis_url
    lines: list[str] = []
    assert await run_check(sandbox_settings(hamsa, slack, redis_url=url, redis_prefix=prefix), out=lines) == 0
    assert f"{OK} REDIS_URL: Redis answers; replicas share their state there under `{prefix}:`." in lines

    lines.clear()
    nowhere = f"redis://:hunter2-redis-password@127.0.0.1:{free_port()}/0"
    assert await run_check(sandbox_settings(hamsa, slack, redis_url=nowhere, redis_prefix=prefix), out=lines) == 1
    (problem,) = [line for line in lines if line.startswith(PROBLEM)]
    assert "REDIS_URL: Redis does not answer" in problem and "REDIS_REQUIRED=false" in problem
    assert not any("hunter2" in line for line in lines)


# ---- serve --------------------------------------------------------------------------------------


def test_serve_without_the_required_settings_exits_2_naming_them(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=command_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    for name in ("SLACK_BOT_TOKEN", "HAMSA_API_KEY", "SLACK_SIGNING_SECRET"):
        assert name in result.stderr


def test_serve_stops_when_redis_does_not_answer_and_workers_need_redis(tmp_path: Path) -> None:
    settings = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HAMSA_API_KEY": HAMSA_KEY,
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
    }

    def serve(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "serve", *args],
            env=command_env(**settings, **more),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    unanswered = serve(REDIS_URL=f"redis://:hunter2-redis-password@127.0.0.1:{free_port()}/0")
    assert unanswered.returncode == 1
    assert "REDIS_URL: Redis does not answer" in unanswered.stderr
    assert "Traceback" not in unanswered.stderr and "hunter2" not in unanswered.stderr

    alone = serve("--workers", "2")
    assert alone.returncode == 2
    assert "--workers needs REDIS_URL" in alone.stderr


class ServerLog:
    """The served app's stderr, read line by line as it comes."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream
        self.lines: list[str] = []

    async def wait_for(self, text: str, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(text in line for line in self.lines):
                raw = await self.stream.readline()
                if not raw:
                    raise AssertionError(f"the app exited before logging {text!r}:\n{''.join(self.lines)}")
                self.lines.append(raw.decode())

    async def read_rest(self) -> str:
        self.lines.append((await self.stream.read()).decode())
        return "".join(self.lines)


async def until_refused(url: str, attempts: int = 500) -> None:
    """Polls until the app refuses connections, which it does once it stops taking requests."""
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(attempts):
            try:
                await http.get(url)
            except httpx.ConnectError:
                return
            except httpx.TransportError:
                pass  # closing down mid-request
            await asyncio.sleep(0.01)
    raise AssertionError(f"{url} still answered after {attempts} tries")


async def test_serve_logs_each_request_and_on_sigterm_finishes_work_in_flight_then_exits_0(
    slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    async with GatedHamsa(api_key=HAMSA_KEY) as hamsa:
        env = command_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            HAMSA_API_KEY=HAMSA_KEY,
            HAMSA_API_URL=hamsa.url,
            HOST="127.0.0.1",
            PORT=str(port),
            LOG_LEVEL="INFO",
        )
        serve = (sys.executable, "-m", "bot", "serve")
        process = await asyncio.create_subprocess_exec(
            *serve, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        log = ServerLog(process.stderr)
        try:
            await log.wait_for(f"serving HTTP on 127.0.0.1:{port}")
            response_url = slack.new_response_url()
            async with httpx.AsyncClient() as http:
                health = await http.get(app_url + HEALTH_PATH)
            assert (health.status_code, health.json()) == (200, {"ok": True, "database": "ok", "redis": "off"})
            async with SlackSender(app_url, SIGNING_SECRET) as sender:
                assert (await sender.command(DOCUMENTED_ID, response_url)).status_code == 200
            async with asyncio.timeout(10):
                await hamsa.arrived.wait()

            process.send_signal(signal.SIGTERM)
            await log.wait_for("stopping: finishing work in flight")
            await until_refused(app_url + HEALTH_PATH)
            hamsa.release.set()  # only now, while the stopped app drains its work
            (reply,) = await slack.wait_for_responses(1, url=response_url)
            async with asyncio.timeout(30):
                exit_code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = await log.read_rest()

    assert exit_code == 0
    assert reply.body["blocks"][0]["text"]["text"] == DOCUMENTED["title"]
    assert re.search(r" bot\.server stopped$", output, re.MULTILINE)
    assert len(REQUEST_LINE.findall(output)) == 1
    for secret in (BOT_TOKEN, SIGNING_SECRET, HAMSA_KEY):
        assert secret not in output


async def test_serve_with_a_token_slack_refuses_stops_with_the_words_check_uses(
    slack: FakeSlack, hamsa: FakeHamsa, tmp_path: Path
) -> None:
    env = command_env(
        SLACK_BOT_TOKEN=WRONG_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        HAMSA_API_KEY=HAMSA_KEY,
        HAMSA_API_URL=hamsa.url,
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    serve = (sys.executable, "-m", "bot", "serve")
    process = await asyncio.create_subprocess_exec(
        *serve, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        async with asyncio.timeout(30):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    (call,) = slack.calls_to("auth.test")
    check_lines: list[str] = []
    await run_check(sandbox_settings(hamsa, slack, slack_bot_token=SecretStr(WRONG_TOKEN)), out=check_lines)

    words = SLACK_TOKEN_REFUSED.format(code="invalid_auth")
    assert call.answer == {"ok": False, "error": "invalid_auth"}
    assert process.returncode == 1
    assert stderr.decode().splitlines()[-1] == f"hamsa-bot: {words}"
    assert f"{PROBLEM} {words}" in check_lines
    assert WRONG_TOKEN not in stderr.decode()


# ---- preview ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_of_a_sample_prints_its_summary_and_a_block_kit_builder_link(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["preview", "--sample", DOCUMENTED_ID]) == 0

    out = capsys.readouterr().out
    for shown in (DOCUMENTED["title"], "Completed", "2m 05s", "Telephone", f"[{PLAY_RECORDING}]", BUILDER_URL):
        assert shown in out
    # The preview is what a channel sees: the recording's link is given only to whoever presses the button.
    assert DOCUMENTED["mediaUrl"] not in out


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_json_prints_block_kit_that_slack_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--sample", "--json", DOCUMENTED_ID]) == 0

    blocks = json.loads(capsys.readouterr().out)["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": DOCUMENTED["title"], "emoji": False}}
    assert block_kit_problems(blocks) == []


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_of_an_unknown_sample_fails_and_lists_the_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--sample", str(uuid.uuid4())]) != 0

    out = capsys.readouterr().out
    assert "No sample with that ID" in out
    assert all(sample_id in out for sample_id in SAMPLES)


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_of_something_that_is_no_reference_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--sample", "not-a-conversation"]) == 2
    assert mrkdwn_to_text(NOT_A_REFERENCE) in capsys.readouterr().out


# ---- multi-workspace mode: start-up refusals, check, key rotation -------------------------------

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "distinctive-client-secret-6c1d"
DB_PASSWORD = "distinctive-db-password-93af"


def multi_workspace_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """``hamsa-bot serve`` installable by any workspace, on a database in ``tmp_path`` unless told otherwise."""
    values = {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hamsa-bot.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        **settings,
    }
    return command_env(**{name: value for name, value in values.items() if value})


async def run_command(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def written_with(key: str, tmp_path: Path) -> str:
    """A database the app has written, its secrets sealed with ``key``."""
    url = f"sqlite:///{tmp_path / 'hamsa-bot.db'}"
    store = await Store.open(url, key, client_id=CLIENT_ID)
    await store.aclose()
    return url


@pytest.mark.parametrize(
    ("case", "exit_code", "words"),
    [
        ("no key", 2, "missing required setting(s): ENCRYPTION_KEYS."),
        ("malformed key", 2, "ENCRYPTION_KEYS: key number 2 is not a valid key"),
        ("wrong key", 2, "ENCRYPTION_KEYS cannot decrypt the stored secrets"),
        ("unsupported database", 2, "DATABASE_URL: only sqlite and postgresql databases are supported."),
        ("no database url", 2, "DATABASE_URL is not a database URL"),
        ("database unreachable", 1, "the database at DATABASE_URL (postgresql://hamsa:***@127.0.0.1:"),
        ("no such directory", 1, "can't be used: the directory "),
    ],
)
async def test_serve_refuses_to_start_on_a_wrong_key_or_database_naming_the_setting(
    case: str, exit_code: int, words: str, tmp_path: Path
) -> None:
    key = generate_key()
    settings = {
        "no key": {"ENCRYPTION_KEYS": ""},
        "malformed key": {"ENCRYPTION_KEYS": f"{key},not-a-key-{DB_PASSWORD}"},
        "wrong key": {"ENCRYPTION_KEYS": key},
        "unsupported database": {"ENCRYPTION_KEYS": key, "DATABASE_URL": f"mysql://hamsa:{DB_PASSWORD}@db/hamsa"},
        "no database url": {"ENCRYPTION_KEYS": key, "DATABASE_URL": "hamsa.db"},
        "database unreachable": {
            "ENCRYPTION_KEYS": key,
            "DATABASE_URL": f"postgresql://hamsa:{DB_PASSWORD}@127.0.0.1:{free_port()}/hamsa",
        },
        "no such directory": {"ENCRYPTION_KEYS": key, "DATABASE_URL": f"sqlite:///{tmp_path / 'gone' / 'bot.db'}"},
    }[case]
    if case == "wrong key":
        await written_with(generate_key(), tmp_path)

    result = await run_command("serve", env=multi_workspace_env(tmp_path, **settings), cwd=tmp_path)

    assert result.returncode == exit_code, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("hamsa-bot: ") and words in last, result.stderr
    assert "Traceback" not in result.stderr
    for secret in (key, DB_PASSWORD, CLIENT_SECRET, SIGNING_SECRET):
        assert secret not in result.stderr + result.stdout
    if case != "wrong key":
        assert not (tmp_path / "hamsa-bot.db").exists()


async def test_check_in_multi_workspace_mode_passes_without_a_bot_token_or_hamsa_key(
    slack: FakeSlack, hamsa: FakeHamsa, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = generate_key()
    settings = Settings.model_construct(
        slack_client_id=CLIENT_ID,
        slack_client_secret=SecretStr(CLIENT_SECRET),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=slack.api_url,
        hamsa_api_url=hamsa.url,
        public_url="https://hamsa-bot.example.com",
        database_url=await written_with(key, tmp_path),
        encryption_keys=SecretStr(f"{key},{generate_key()}"),
    )
    lines: list[str] = []

    assert await run_check(settings, out=lines) == 0

    assert all(line.startswith(OK) for line in lines), lines
    shown = "\n".join(lines)
    assert "https://hamsa-bot.example.com/slack/oauth_redirect" in shown
    assert "ENCRYPTION_KEYS decrypts the secrets stored in the database." in shown
    assert "SLACK_BOT_TOKEN" not in shown and "HAMSA_API_KEY" not in shown
    assert slack.calls == [] and hamsa.count() == 0
    printed = capsys.readouterr()
    for secret in (key, CLIENT_SECRET, SIGNING_SECRET):
        assert secret not in printed.out + printed.err


async def test_check_in_multi_workspace_mode_names_each_wrong_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = await written_with(generate_key(), tmp_path)
    written = (tmp_path / "hamsa-bot.db").read_bytes()
    wrong = Settings.model_construct(
        slack_client_id="not-a-client-id",
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        public_url="http://hamsa-bot.example.com",
        database_url=database_url,
        encryption_keys=SecretStr(generate_key()),
    )
    lines: list[str] = []

    assert await run_check(wrong, out=lines) == 1

    problems = [line for line in lines if line.startswith(PROBLEM)]
    named = [
        "SLACK_CLIENT_ID does not look like",
        "SLACK_CLIENT_SECRET is not set",
        "PUBLIC_URL must",
        "ENCRYPTION_KEYS",
    ]
    assert [next(p for p in problems if words in p) for words in named] == problems
    assert "cannot decrypt the stored secrets" in problems[3]
    # the check only reads: the database is as the app left it, and none is created where there was none
    assert (tmp_path / "hamsa-bot.db").read_bytes() == written
    nowhere = Settings.model_construct(database_url=f"sqlite:///{tmp_path / 'new.db'}", slack_client_id=CLIENT_ID)
    assert await run_check(nowhere) == 1
    assert not (tmp_path / "new.db").exists()
    gone = Settings.model_construct(database_url=f"sqlite:///{tmp_path / 'gone' / 'bot.db'}")
    lines = []
    assert await run_check(gone, out=lines) == 1
    assert f"{PROBLEM} the database at DATABASE_URL (sqlite:///{tmp_path / 'gone' / 'bot.db'}) can't be used: the " in (
        "\n".join(lines)
    )

    unreachable = Settings.model_construct(
        slack_client_id=CLIENT_ID,
        slack_client_secret=SecretStr(CLIENT_SECRET),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        database_url=f"postgresql://hamsa:{DB_PASSWORD}@127.0.0.1:{free_port()}/hamsa",
    )
    lines = []
    assert await run_check(unreachable, out=lines) == 1
    problems = [line for line in lines if line.startswith(PROBLEM)]
    assert len(problems) == 2
    assert problems[0].startswith(f"{PROBLEM} the database at DATABASE_URL (postgresql://hamsa:***@127.0.0.1:")
    assert problems[1].startswith(f"{PROBLEM} ENCRYPTION_KEYS is not set")
    printed = capsys.readouterr()
    assert DB_PASSWORD not in printed.out + printed.err


async def test_keys_rotate_on_what_the_app_wrote_then_the_app_answers_with_only_the_new_key(
    database_url: str, tmp_path: Path
) -> None:
    old, new = generate_key(), generate_key()
    slack, hamsa = FakeSlack(bot_token=BOT_TOKEN), FakeHamsa(api_key=HAMSA_KEY)
    first = await start_stack(
        slack=slack, hamsa=hamsa, multi_workspace=True, database_url=database_url, encryption_keys=SecretStr(old)
    )
    try:
        await first.install()
        assert (await first.connect_hamsa()).text == ""
    finally:
        await first.sender.aclose()
        await first.server.stop()

    with_new = {"DATABASE_URL": database_url}
    refused = await run_command(
        "serve", env=multi_workspace_env(tmp_path, ENCRYPTION_KEYS=new, **with_new), cwd=tmp_path
    )
    rotated = await run_command(
        "keys", "rotate", env=command_env(ENCRYPTION_KEYS=f"{new},{old}", **with_new), cwd=tmp_path
    )

    assert refused.returncode == 2 and "ENCRYPTION_KEYS cannot decrypt" in refused.stderr
    assert rotated.returncode == 0, rotated.stderr
    # the bot token in Slack's two tables, the Hamsa key, the webhook secret (made when the installer
    # saw the Home tab), and the key check
    assert "Re-encrypted 5 stored secret(s)" in rotated.stdout
    assert old not in rotated.stdout + rotated.stderr and new not in rotated.stdout + rotated.stderr

    async with await start_stack(
        slack=slack, hamsa=hamsa, multi_workspace=True, database_url=database_url, encryption_keys=SecretStr(new)
    ) as second:
        response_url = slack.new_response_url()
        await second.sender.command(DOCUMENTED_ID, response_url, team=SANDBOX_TEAM, user_id=INSTALLER)
        (reply,) = await slack.wait_for_responses(1, url=response_url)
        await second.sender.event(link_shared_event([f"https://dashboard.tryhamsa.com/conversations/{DOCUMENTED_ID}"]))
        (unfurl,) = await slack.wait_for_calls("chat.unfurl")
    assert reply.body["blocks"][0]["text"]["text"] == DOCUMENTED["title"]
    assert unfurl.team == SANDBOX_TEAM.key
