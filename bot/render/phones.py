"""Phone numbers in text a channel can see: each shows only its last four digits.

Numbers are found with ``phonenumbers`` (Google's libphonenumber), which knows every region's numbering
plan: in a UAE call ``050 123 4567``, ``00971501234567`` and ``+971 50 123 4567`` are one number, while
order numbers, amounts, dates and times are not phone numbers at all. Numbers written without a country
code are read in the region of the caller's number (else the agent's, else ``DEFAULT_REGION``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, MatchType, PhoneNumber, PhoneNumberMatcher

from bot.hamsa.models import Conversation

HIDDEN = "••••"
# Hamsa's agents mostly answer Gulf numbers (it runs a UAE region); without any number to go by, a call
# is read as a UAE one. International numbers (+…, 00…) are found whatever the region.
DEFAULT_REGION = "AE"
_UNKNOWN_REGION = "ZZ"
# Longer than any written phone number (15 digits with spaces, brackets and dashes).
_LONGEST_NUMBER = 64
_NON_DIGITS = re.compile(r"\D")
# The shortest national number libphonenumber knows has two digits: text with fewer holds no number,
# and most text (titles, names, most sentences) is passed back at once instead of through the matcher.
_TWO_DIGITS = re.compile(r"\d\D*\d")
_SAME_NUMBER = (MatchType.EXACT_MATCH, MatchType.NSN_MATCH)


def last_four(digits: str) -> str:
    """``"•••• 4567"``; a number of four digits or fewer shows none of them."""
    return HIDDEN if len(digits) <= 4 else f"{HIDDEN} {digits[-4:]}"


def parse_number(number: str | None) -> PhoneNumber | None:
    """A stored number (E.164, sometimes without its ``+`` or with ``00``), or None when it is none."""
    text = (number or "").strip()
    if not text.startswith("+"):
        text = "+" + text.removeprefix("00")
    try:
        return phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None


def _region(number: PhoneNumber | None) -> str | None:
    """The number's region; for one outside any known range, the main region of its country code."""
    if number is None or number.country_code is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    region = region or phonenumbers.region_code_for_country_code(number.country_code)
    return None if region == _UNKNOWN_REGION else region


@dataclass(frozen=True, slots=True)
class PhoneMask:
    """Replaces every phone number in a text by its last four digits; one per conversation and message."""

    region: str
    caller: PhoneNumber | None = None
    caller_as_stored: re.Pattern[str] | None = None
    caller_masked: str = HIDDEN

    @classmethod
    def for_conversation(cls, conversation: Conversation) -> PhoneMask:
        params = conversation.call_params
        return _mask_for(
            _bounded(params.user_number if params else None), _bounded(params.machine_number if params else None)
        )

    def __call__(self, text: str) -> str:
        """``text`` with each phone number replaced by ``•••• 4567``."""
        if self.caller_as_stored is not None:
            text = self.caller_as_stored.sub(self.caller_masked, text)
        if _TWO_DIGITS.search(text) is None:
            return text
        # VALID, not POSSIBLE: a possible number is any run of the right length ("order 123456789").
        text = self._replace(text, Leniency.VALID)
        if self.caller is not None:
            text = self._replace(text, Leniency.POSSIBLE, only=self.caller)
        return text

    def _replace(self, text: str, leniency: int, *, only: PhoneNumber | None = None) -> str:
        pieces: list[str] = []
        end = 0
        for match in PhoneNumberMatcher(text, self.region, leniency=leniency):
            if only is not None and phonenumbers.is_number_match(match.number, only) not in _SAME_NUMBER:
                continue
            pieces.append(text[end : match.start])
            pieces.append(last_four(phonenumbers.national_significant_number(match.number)))
            end = match.end
        if not pieces:
            return text
        pieces.append(text[end:])
        return "".join(pieces)


def _bounded(number: str | None) -> str | None:
    """A stored number, or None for text far too long to be one (it would be kept as a cache key)."""
    return number if number is not None and len(number) <= _LONGEST_NUMBER else None


# Every render of a message builds its mask, and reading numbers costs more than the rest of a summary:
# masks are kept per pair of numbers (a few hundred bytes each).
@functools.lru_cache(maxsize=1024)
def _mask_for(stored: str | None, agent_number: str | None) -> PhoneMask:
    caller = parse_number(stored)
    region = _region(caller) or _region(parse_number(agent_number)) or DEFAULT_REGION
    # phonenumbers finds every valid number; the caller's number is also hidden where it is only a
    # possible one (a range newer than the library's data), or, as stored, where it is not even that.
    digits = _NON_DIGITS.sub("", stored or "")
    unknown_caller = as_stored = None
    if caller is not None and phonenumbers.is_possible_number(caller):
        unknown_caller = None if phonenumbers.is_valid_number(caller) else caller
    elif stored and len(digits) > 4:
        as_stored = re.compile(r"(?<!\d)" + re.escape(stored.strip()) + r"(?!\d)")
    return PhoneMask(region, unknown_caller, as_stored, last_four(digits))
