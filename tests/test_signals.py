"""Signals from the raw text (assistant/nlu/signals.py): shouting, and messages over the length limit."""
from __future__ import annotations

import pytest

from assistant.nlu.signals import MAX_MESSAGE_CHARS, shouting, too_long


@pytest.mark.parametrize("text", ["THIS IS USELESS!!!", "WHERE IS MY ORDER!", "I NEED HELP NOW!",
                                  "WHY WON'T YOU LISTEN?!"])
def test_capitals_with_an_exclamation_are_shouting(text):
    assert shouting(text)


@pytest.mark.parametrize("text", ["WHERE IS MY ORDER", "red shoes size XL!", "Hi there!", "NIKE!", "OK OK!",
                                  "🔥🔥🔥!!!", "", "12345 67890 !!!", "Size XXL Jeans In Blue!"])
def test_capitals_alone_a_short_burst_or_title_case_are_not(text):
    assert not shouting(text)


def test_the_length_limit():
    assert not too_long("a" * MAX_MESSAGE_CHARS) and too_long("a" * (MAX_MESSAGE_CHARS + 1))
    assert not too_long("") and not too_long(None)
