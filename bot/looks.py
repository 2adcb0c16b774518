"""How one place shows a call: the same description renders it the first time and every time it changes.

A :class:`Look` is what differs between the places a summary appears (a private answer with *Share in
channel*, an unfurl in a thread, a summary someone shared…). It is kept with a live preview, as JSON,
so that the preview can be drawn again, the same way, when the call moves on. Read leniently: a stored
look from an older version, or a damaged one, falls back to the plainest channel view.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

_TS = re.compile(r"^\d{1,12}\.\d{1,8}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


@dataclass(frozen=True, slots=True)
class Look:
    condensed: bool = False  # one line among several (a message linking several calls)
    private: bool = False  # seen by one person only: full numbers, the recording's own link
    logs_thread_ts: str | None = None  # the thread Show logs posts into, when the click can't tell
    shared_by: str | None = None  # who shared it into the channel (a user ID)
    share_button: bool = False  # a private answer's Share in channel
    post_in_thread_ts: str | None = None  # a private preview's Post in thread, for this thread

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, False)}

    @classmethod
    def from_json(cls, data: Any) -> Look:
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        for field in fields(cls):
            value = data.get(field.name)
            if (
                (field.type == "bool" and isinstance(value, bool))
                or (
                    field.name in ("logs_thread_ts", "post_in_thread_ts")
                    and isinstance(value, str)
                    and _TS.match(value)
                )
                or (field.name == "shared_by" and isinstance(value, str) and _USER.match(value))
            ):
                values[field.name] = value
        return cls(**values)
