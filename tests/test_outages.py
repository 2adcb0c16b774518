"""The real PostgreSQL or Redis lost while the app runs, and back: through a proxy the test cuts.

The app is the real HTTP app; only the path to the service goes through :class:`TcpProxy`, which drops
every connection and refuses new ones, as a crashed server or a broken network does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.messages import STORE_UNAVAILABLE
from bot.sandbox import samples
from bot.sandbox.proxy import TcpProxy
from bot.sandbox.slack_requests import link_shared_event, new_ts
from bot.sandbox.stack import Stack, start_stack
from bot.server import HEALTH_PATH
from bot.store.workspaces import WorkspaceKey

LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"


def _host_and_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


@pytest.fixture(autouse=True)
def _health_asked_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.services.HEALTH_SECONDS", 0.0)


async def _health(stack: Stack) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(stack.server.url + HEALTH_PATH)
    return answer.status_code, answer.json()


async def _until(check: object, timeout: float = 10.0) -> None:
    """Waits for ``check()`` (a coroutine function) to be true: the app reconnects on its own schedule."""
    async with asyncio.timeout(timeout):
        while not await check():  # type: ignore[operator]
            await asyncio.sleep(0.05)


@pytest.fixture
async def proxied_postgres(postgres_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    async with TcpProxy(*_host_and_port(postgres_url, 5432)) as proxy:
        host, port = proxy.address.split(":")
        url = make_url(postgres_url).set(host=host, port=int(port)).render_as_string(hide_password=False)
        yield proxy, url


async def test_postgres_lost_says_not_ready_and_try_again_then_recovers_by_itself(
    proxied_postgres: tuple[TcpProxy, str], caplog: pytest.LogCaptureFixture
) -> None:
    proxy, url = proxied_postgres
    async with await start_stack(database_url=url) as stack:
        assert await _health(stack) == (200, {"ok": True, "database": "ok", "redis": "off"})
        await proxy.cut()
        status, said = await _health(stack)
        assert (status, said["database"]) == (503, "unreachable")

        stack.services.workspaces.forget_cached(WorkspaceKey.of(None, stack.slack.default_team.team_id))
        response_url = stack.slack.new_response_url()
        with caplog.at_level(logging.WARNING):
            assert (await stack.sender.command(samples.DOCUMENTED_ID, response_url)).status_code == 200
            (notice,) = await stack.slack.wait_for_responses(1, url=response_url, timeout=10)
        assert notice.body["text"].startswith(STORE_UNAVAILABLE)
        assert not [r for r in caplog.records if r.exc_info]  # a warning, not a traceback per request

        await proxy.restore()

        async def ready() -> bool:
            return (await _health(stack))[0] == 200

        await _until(ready)
        response_url = stack.slack.new_response_url()
        await stack.sender.command(samples.DOCUMENTED_ID, response_url)
        (reply,) = await stack.slack.wait_for_responses(1, url=response_url, timeout=10)
    assert reply.body["blocks"][0]["text"]["text"] == "Customer Support Call"


async def test_redis_lost_still_answers_on_this_process_and_reconnects(
    redis_url: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, prefix = redis_url
    async with TcpProxy(*_host_and_port(url, 6379)) as proxy:
        proxied = f"redis://{proxy.address}/0"
        async with await start_stack(redis_url=proxied, redis_prefix=prefix) as stack:
            assert (await _health(stack))[1]["redis"] == "ok"
            await proxy.cut()
            with caplog.at_level(logging.WARNING):
                for _ in range(3):
                    answer = await stack.sender.event(link_shared_event([LINK], message_ts=new_ts()))
                    assert answer.status_code == 200
                await stack.slack.wait_for_calls("chat.unfurl", 3, timeout=10)
            assert await _health(stack) == (200, {"ok": True, "database": "ok", "redis": "degraded"})
            assert len([r for r in caplog.records if "redis lost" in r.getMessage()]) == 1
            assert not [r for r in caplog.records if r.exc_info]

            await proxy.restore()

            async def back() -> bool:
                return (await _health(stack))[1]["redis"] == "ok"

            await _until(back)
            await stack.sender.event(link_shared_event([LINK], message_ts=new_ts()))
            await stack.slack.wait_for_calls("chat.unfurl", 4, timeout=10)


async def test_postgres_lost_before_bolt_finds_the_installation_is_told_too(
    proxied_postgres: tuple[TcpProxy, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Multi-workspace mode: Bolt looks the installation up before any listener runs."""
    proxy, url = proxied_postgres
    async with await start_stack(database_url=url, multi_workspace=True) as stack:
        await stack.install()
        await stack.connect_hamsa()
        await proxy.cut()
        stack.services.workspaces.installations.forget_cached()
        with caplog.at_level(logging.WARNING):
            command = await stack.sender.command(samples.DOCUMENTED_ID, stack.slack.new_response_url())
            event = await stack.sender.event(link_shared_event([LINK], message_ts=new_ts()))
        assert command.status_code == 200 and command.json()["text"].startswith(STORE_UNAVAILABLE)
        assert event.status_code == 503  # Slack delivers it again, once the database is back
        assert not [r for r in caplog.records if r.exc_info]
        await proxy.restore()
        response_url = stack.slack.new_response_url()

        async def answered() -> bool:
            return (await stack.sender.command(samples.DOCUMENTED_ID, response_url)).text == ""

        await _until(answered)
        (reply,) = await stack.slack.wait_for_responses(1, url=response_url, timeout=10)
    assert reply.body["blocks"][0]["text"]["text"] == "Customer Support Call"
