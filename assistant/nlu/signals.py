"""Signals read straight from the raw text, next to what the trained model predicts.

- Shouting: three or more words, most letters in capitals, and at least one "!". Capitals alone are not enough
  (caps lock, or a model name like "XL"). A frustration signal: the dialogue hands over to a person.
- Too long: past MAX_MESSAGE_CHARS the message is not classified at all; the shopper is asked to shorten it,
  instead of a 20,000-character paste being forced into some intent.
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_WORDS = 3
UPPER_SHARE = 0.8
MAX_MESSAGE_CHARS = 1000


def shouting(text: str) -> bool:
    words = _WORD.findall(text or "")
    letters = [c for word in words for c in word]
    if len(words) < MIN_WORDS or "!" not in text:
        return False
    return sum(c.isupper() for c in letters) >= UPPER_SHARE * len(letters)


def too_long(text: str) -> bool:
    return len(text or "") > MAX_MESSAGE_CHARS
