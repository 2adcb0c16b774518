"""The ``hamsa-bot`` command: serve, demo, preview and check."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import __version__
from bot.observability import configure_logging
from bot.settings import Settings


def _settings() -> Settings | None:
    try:
        return Settings()
    except ValidationError as error:
        names = ", ".join(str(e["loc"][0]).upper() for e in error.errors() if e.get("loc"))
        print(f"hamsa-bot: invalid setting(s): {names}. See the settings table in README.md.", file=sys.stderr)
        return None


def _secrets(settings: Settings) -> list[str]:
    return settings.secret_values()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    missing = settings.missing_for_serve()
    if missing:
        print(
            f"hamsa-bot: missing required setting(s): {', '.join(missing)}. "
            "Set them in the environment or in a .env file (see README.md).",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1 and not settings.redis_url:
        print("hamsa-bot: --workers needs REDIS_URL: workers share their state there.", file=sys.stderr)
        return 2
    from bot.identity import TokenRefused
    from bot.server import serve
    from bot.state.resilient import RedisUnavailable
    from bot.store.database import DatabaseUnavailable, DatabaseUrlProblem
    from bot.store.secrets import KeyProblem
    from bot.supervisor import run_workers

    configure_logging(settings.log_level, _secrets(settings))
    try:
        if args.workers > 1:
            return asyncio.run(run_workers(settings, args.workers))
        asyncio.run(serve(settings))
    except (KeyProblem, DatabaseUrlProblem) as invalid:  # a setting that can never work as it is
        print(f"hamsa-bot: {invalid}", file=sys.stderr)
        return 2
    except (TokenRefused, DatabaseUnavailable, RedisUnavailable) as refused:
        print(f"hamsa-bot: {refused}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(verbose=args.verbose))


def cmd_preview(settings: Settings, args: argparse.Namespace) -> int:
    from bot.preview import preview

    configure_logging("WARNING", _secrets(settings))
    output, code = asyncio.run(preview(settings, args.reference, sample=args.sample, logs=args.logs))
    if args.json:
        print(json.dumps({"blocks": output.blocks}, indent=2, ensure_ascii=False))
    else:
        print(output.text)
    return code


def cmd_check(settings: Settings, _: argparse.Namespace) -> int:
    from bot.check import run_check

    configure_logging("WARNING", _secrets(settings))
    return asyncio.run(run_check(settings))


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store.admin import upgrade_database

    configure_logging("WARNING", _secrets(settings))
    return asyncio.run(upgrade_database(settings))


def cmd_keys(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store.admin import generate_key_command, rotate_keys

    if args.action == "generate":
        return generate_key_command()
    configure_logging("WARNING", _secrets(settings))
    return asyncio.run(rotate_keys(settings))


def _workers(value: str) -> int:
    count = int(value)
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError("from 1 to 64")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hamsa-bot", description="Hamsa for Slack: preview Hamsa calls in Slack.")
    parser.add_argument("--version", action="version", version=f"hamsa-bot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the Slack app (HTTP on $HOST:$PORT, or Socket Mode with SLACK_APP_TOKEN)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="run N server processes on this machine, sharing the port (needs REDIS_URL)",
    )
    demo = sub.add_parser("demo", help="offline end-to-end demo against built-in stand-ins for Slack and Hamsa")
    demo.add_argument("--verbose", action="store_true", help="also show the app's log lines")
    preview = sub.add_parser("preview", help="print the summary of one conversation")
    preview.add_argument("reference", help="conversation ID or link")
    preview.add_argument("--json", action="store_true", help="print Block Kit JSON instead of text")
    preview.add_argument("--sample", action="store_true", help="use the built-in sample conversations, not Hamsa")
    preview.add_argument("--logs", action="store_true", help="print the first logs page instead of the summary")
    sub.add_parser("check", help="check the settings: Slack token, signing secret, Hamsa key")
    db = sub.add_parser("db", help="the database (DATABASE_URL)")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply every migration not yet applied")
    keys = sub.add_parser("keys", help="the keys that encrypt stored secrets (ENCRYPTION_KEYS)")
    keys.add_argument(
        "action",
        choices=["generate", "rotate"],
        help="generate: print a new key; rotate: re-encrypt every stored secret with the first key",
    )
    return parser


COMMANDS = {
    "serve": cmd_serve,
    "demo": cmd_demo,
    "preview": cmd_preview,
    "check": cmd_check,
    "db": cmd_db,
    "keys": cmd_keys,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = _settings()
    if settings is None:
        return 2
    return COMMANDS[args.command](settings, args)
