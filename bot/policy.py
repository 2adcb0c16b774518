"""A workspace's policy: what its people see, decided in one place.

The environment's settings are the defaults (and all there is in single-workspace mode until someone
changes a setting in App Home); what a workspace stored overrides them. Stored values are read
leniently: one unreadable value falls back to its default instead of failing every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bot.settings import Settings

MAX_EXTRA_DOMAINS = 10
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def valid_host(value: str) -> bool:
    return bool(_HOST.match(value))


def parse_domains(raw: str) -> tuple[tuple[str, ...], list[str]]:
    """Host names typed by a person (comma or space separated): the valid ones, and what was not one."""
    parts = [part.strip().lower().rstrip(".") for part in re.split(r"[,\s]+", raw or "") if part.strip()]
    hosts = [p.removeprefix("https://").removeprefix("http://").split("/")[0] for p in parts]
    good = tuple(dict.fromkeys(h for h in hosts if valid_host(h)))
    bad = [p for p, h in zip(parts, hosts, strict=True) if not valid_host(h)]
    return good, bad


@dataclass(frozen=True, slots=True)
class Policy:
    link_domains: tuple[str, ...]
    extra_link_domains: tuple[str, ...]
    show_full_caller_number: bool

    @classmethod
    def defaults(cls, settings: Settings) -> Policy:
        return cls(
            link_domains=tuple(settings.hamsa_link_domains),
            extra_link_domains=(),
            show_full_caller_number=settings.show_full_caller_number,
        )

    @classmethod
    def of(cls, settings: Settings, stored: dict[str, Any] | None) -> Policy:
        """The defaults, overridden by what the workspace stored."""
        policy = cls.defaults(settings)
        if not stored:
            return policy
        extra = stored.get("extra_link_domains")
        if isinstance(extra, list):
            policy = policy.with_extra_domains(tuple(d for d in extra if isinstance(d, str) and valid_host(d)))
        full = stored.get("show_full_caller_number")
        if isinstance(full, bool):
            policy = replace(policy, show_full_caller_number=full)
        return policy

    def with_extra_domains(self, extra: tuple[str, ...]) -> Policy:
        extra = extra[:MAX_EXTRA_DOMAINS]
        base = tuple(d for d in self.link_domains if d not in self.extra_link_domains)
        return replace(self, link_domains=tuple(dict.fromkeys(base + extra)), extra_link_domains=extra)
