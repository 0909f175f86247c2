"""Is the shopper shouting? A cheap signal next to the trained `complain` intent: all caps and an exclamation.

Capitals alone are not enough (caps lock, or a model name like "XL"), so it takes three or more words, most of the
letters in upper case, and at least one "!".
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_WORDS = 3
UPPER_SHARE = 0.8


def shouting(text: str) -> bool:
    words = _WORD.findall(text or "")
    letters = [c for word in words for c in word]
    if len(words) < MIN_WORDS or "!" not in text:
        return False
    return sum(c.isupper() for c in letters) >= UPPER_SHARE * len(letters)
