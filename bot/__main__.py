"""``python -m bot`` is the ``hamsa-bot`` command."""

from bot.cli import main

raise SystemExit(main())
