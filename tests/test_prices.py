"""parse_price: the ways shoppers state a budget, and properties that must hold for any text."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.search.prices import MAX_AMOUNT, PriceRange, parse_price


@pytest.mark.parametrize("text, expected", [
    ("under 50 bucks", (None, 50)),
    ("under $50", (None, 50)),
    ("less than a hundred", (None, 100)),
    ("below 80", (None, 80)),
    ("$20-40", (20, 40)),
    ("$20 - $40", (20, 40)),
    ("20 to 40 dollars", (20, 40)),
    ("between 20 and 40 dollars", (20, 40)),
    ("between 20 and 40", (20, 40)),
    ("from 20 to 40", (20, 40)),
    ("over 100", (100, None)),
    ("more than $75", (75, None)),
    ("at least 30", (30, None)),
    ("at most 60", (None, 60)),
    ("max 60", (None, 60)),
    ("60 max", (None, 60)),
    ("no more than 60", (None, 60)),
    ("around 50", (40, 60)),
    ("50ish", (40, 60)),
    ("50 dollars", (None, 50)),
    ("shoes for 50 bucks please", (None, 50)),
    ("a hundred dollars", (None, 100)),
    ("under one fifty", (None, 150)),
    ("twenty dollars", (None, 20)),
    ("forty five dollars", (None, 45)),
    ("thirty-five bucks", (None, 35)),
    ("under two hundred", (None, 200)),
    ("two hundred and fifty dollars", (None, 250)),
    ("twelve hundred dollars", (None, 1200)),
    ("under a grand", (None, 1000)),
    ("between one hundred and two hundred dollars", (100, 200)),
    ("two to three hundred dollars", (200, 300)),
    ("1,200 dollars", (None, 1200)),
    ("$1.5k", (None, 1500)),
    ("under 2k", (None, 2000)),
    ("50 USD", (None, 50)),
    ("$19.99", (None, 19.99)),
    ("between 40 and 20 dollars", (20, 40)),
    ("over 20 and under 50", (20, 50)),
    ("$100+", (100, None)),
    ("$50 and up", (50, None)),
    ("$50 or less", (None, 50)),
    ("size 10 under 80", (None, 80)),
    ("2 person tent under 200", (None, 200)),
    ("under 50.", (None, 50)),
])
def test_stated_budgets(text: str, expected: tuple) -> None:
    assert parse_price(text) == PriceRange(*expected)


@pytest.mark.parametrize("text", [
    "cheap", "running shoes", "size 10", "what about size 11", "4+ stars", "rated 4 or more", "over 4.5 stars",
    "under 30 liters", "2 person tent", "20% off", "$50 off", "under 50€", "under €50", "c$50", "under -50",
    "-5 dollars", "between -20 and 40 dollars", "under $0", "under $20000000", "eleven million dollars", "one",
    "a grand canyon print", "", "   ",
])
def test_not_a_budget(text: str) -> None:
    assert parse_price(text) is None


def test_ten_million_is_the_ceiling() -> None:
    assert parse_price("ten million dollars") == PriceRange(None, MAX_AMOUNT)


def test_contains_is_inclusive() -> None:
    assert PriceRange(20, 40).contains(20) and PriceRange(20, 40).contains(40)
    assert not PriceRange(None, 40).contains(40.01)


def _check(price: PriceRange | None) -> None:
    if price is not None:
        values = [v for v in (price.min, price.max) if v is not None]
        assert values and all(0 <= v <= MAX_AMOUNT for v in values)
        if price.min is not None and price.max is not None:
            assert price.min <= price.max


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_never_raises_on_any_text(text: str) -> None:
    _check(parse_price(text))


_FRAGMENTS = ["under", "over", "between", "and", "to", "-", "$", "dollars", "k", "a", "hundred", "thousand", "grand",
              "one", "fifty", "twenty", "five", "around", "no more than", "at least", "size", "stars", "+", "€",
              "or more", "ish", ",", ".", "1,000", "minus", "~", "<", ">"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.integers(-10**12, 10**12).map(str),
                          st.floats(allow_nan=True, allow_infinity=True).map(str)), max_size=12))
def test_never_raises_on_price_like_text(parts: list[str]) -> None:
    _check(parse_price(" ".join(parts)))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 100_000))
def test_under_n_dollars(n: int) -> None:
    assert parse_price(f"under ${n}") == PriceRange(None, n)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 100_000), st.integers(1, 100_000))
def test_between_a_and_b_dollars(a: int, b: int) -> None:
    assert parse_price(f"between {a} and {b} dollars") == PriceRange(min(a, b), max(a, b))


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _spell(n: int, final: bool = True) -> str:
    """English words for 1..999,999 as people write them ('two hundred and five', 'forty-two'). The 'and' goes
    only into the last group: 'one hundred and two thousand' reads as a range's two ends ('between one hundred
    and two thousand'), which is how the parser takes it."""
    if n >= 1000:
        rest = n % 1000
        return f"{_spell(n // 1000, final=False)} thousand" + (f" {_spell(rest)}" if rest else "")
    if n >= 100:
        rest = n % 100
        return f"{_ONES[n // 100]} hundred" + (f"{' and' if final else ''} {_spell(rest)}" if rest else "")
    if n >= 20:
        return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    return _ONES[n]


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 999_999))
def test_spelled_out_amounts(n: int) -> None:
    assert parse_price(f"under {_spell(n)} dollars") == PriceRange(None, n)


@pytest.mark.parametrize("text", ["JBL Echo Max 6 Wireless Speaker", "Garmin Pace Max 8", "NIKE AIR MAX 90"])
def test_max_inside_a_product_name_is_not_a_budget(text: str):
    assert parse_price(text) is None


def test_a_product_name_with_max_keeps_the_real_budget():
    assert parse_price("Garmin Pace Max 8 under $300") == PriceRange(None, 300)
    assert parse_price("running shoes max 80") == PriceRange(None, 80)
