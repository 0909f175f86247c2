"""The shouting signal that hands a frustrated shopper to a person (assistant/nlu/frustration.py)."""
from __future__ import annotations

import pytest

from assistant.nlu.frustration import shouting


@pytest.mark.parametrize("text", ["THIS IS USELESS!!!", "WHERE IS MY ORDER!", "I NEED HELP NOW!",
                                  "WHY WON'T YOU LISTEN?!"])
def test_capitals_with_an_exclamation_are_shouting(text):
    assert shouting(text)


@pytest.mark.parametrize("text", ["WHERE IS MY ORDER", "red shoes size XL!", "Hi there!", "NIKE!", "OK OK!",
                                  "🔥🔥🔥!!!", "", "12345 67890 !!!", "Size XXL Jeans In Blue!"])
def test_capitals_alone_a_short_burst_or_title_case_are_not(text):
    assert not shouting(text)
