"""How one place shows a call: the same description renders it the first time and every time it changes.

A :class:`Look` is what differs between the places a summary appears (a private answer with *Share in
channel*, an unfurl in a thread, a summary someone shared…). It is kept with a live preview, as JSON,
so that the preview can be drawn again, the same way, when the call moves on. Read leniently: a stored
look from an older version, or a damaged one, falls back to the plainest channel view.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from bot.policy import Place

_TS = re.compile(r"^\d{1,12}\.\d{1,8}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


@dataclass(frozen=True, slots=True)
class Look:
    place: Place = Place.CHANNEL  # who sees it: one person, a channel, a channel shared with other organisations
    condensed: bool = False  # one line among several (a message linking several calls)
    logs_thread_ts: str | None = None  # the thread Show logs posts into, when the click can't tell
    shared_by: str | None = None  # who shared it into the channel (a user ID)
    share_button: bool = False  # a private answer's Share in channel
    post_in_thread_ts: str | None = None  # a private preview's Post in thread, for this thread

    def to_json(self) -> dict[str, Any]:
        """Only what differs from the plain channel view; the place as its word."""
        values = {key: value for key, value in asdict(self).items() if value not in (None, False)}
        values["place"] = self.place.value
        return values

    @classmethod
    def from_json(cls, data: Any) -> Look:
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        place = data.get("place")
        if place in {p.value for p in Place}:
            values["place"] = Place(place)
        for name in ("condensed", "share_button"):
            if isinstance(data.get(name), bool):
                values[name] = data[name]
        for name in ("logs_thread_ts", "post_in_thread_ts"):
            if isinstance(data.get(name), str) and _TS.match(data[name]):
                values[name] = data[name]
        if isinstance(data.get("shared_by"), str) and _USER.match(data["shared_by"]):
            values["shared_by"] = data["shared_by"]
        return cls(**values)
