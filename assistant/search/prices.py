"""Budgets from what shoppers type: "under 50 bucks", "$20-40", "between twenty and forty dollars", "around 1.5k".

The text is rewritten in steps (number words to digits, units and ratings masked, currency and comparison
phrases reduced to a few markers) so that the final matching needs only three small patterns: a range, a
comparison and a bare dollar amount. Amounts in other currencies are ignored, not converted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_AMOUNT = 10_000_000.0
AROUND_BAND = 0.2

_MAX, _MIN, _NEAR = "_max_", "_min_", "_near_"


@dataclass(frozen=True)
class PriceRange:
    """Inclusive bounds on the price the shopper pays; None means open on that side."""

    min: float | None = None
    max: float | None = None

    def contains(self, price: float) -> bool:
        return (self.min is None or price >= self.min) and (self.max is None or price <= self.max)


# ---- number words ---------------------------------------------------------------------------------------
_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_TENS["fourty"] = 40
_SCALES = {"thousand": 1000, "grand": 1000, "million": 1_000_000}
_BIG = set(_SCALES) | {"hundred"}
_UNDER_HUNDRED = set(_SMALL) | set(_TENS)
_NUMBER_STARTS = _UNDER_HUNDRED | {"hundred", "a"}  # "grand" alone is an adjective, not 1000


class _NumberReader:
    """Reads one spoken number from a run of words: "two hundred and fifty", "forty-five", "one fifty"."""

    def __init__(self, words: list[str], start: int) -> None:
        self.words, self.pos = words, start
        self.total = self.group = 0
        self.last = ""  # kind of the previous word: small, tens, hundred, scale

    def read(self) -> int | None:
        if self.words[self.pos] == "a":
            if self.pos + 1 >= len(self.words) or self.words[self.pos + 1] not in _BIG:
                return None
            self.group, self.last, self.pos = 1, "small", self.pos + 1
        while self.pos < len(self.words) and self._step(self.words[self.pos]):
            self.pos += 1
        return self.total + self.group if self.last else None

    def _step(self, word: str) -> bool:
        if word == "and":
            return self._and_continues()
        if word in _TENS:
            return self._add(_TENS[word], "tens")
        if word in _SMALL:
            return self._add(_SMALL[word], "small")
        if word == "hundred":
            if self.group >= 100 or self.last == "hundred":
                return False
            self.group, self.last = (self.group or 1) * 100, "hundred"
            return True
        if word in _SCALES:
            self.total += (self.group or 1) * _SCALES[word]
            self.group, self.last = 0, "scale"
            return True
        return False

    def _add(self, value: int, kind: str) -> bool:
        below_hundred = self.group % 100
        if not below_hundred and self.last not in ("small", "tens"):
            self.group += value
        elif self.last == "tens" and kind == "small" and value < 10:
            self.group += value  # forty five
        elif self.last == "small" and self.group < 10 and not self.total and value >= 10:
            self.group = self.group * 100 + value  # "one fifty" said for 150
        else:
            return False
        self.last = kind
        return True

    def _and_continues(self) -> bool:
        """'hundred and fifty' continues a number; 'one hundred and two hundred' starts a second one."""
        if self.last not in ("hundred", "scale"):
            return False
        ahead = self.pos + 1
        while ahead < len(self.words) and self.words[ahead] in _UNDER_HUNDRED:
            ahead += 1
        return ahead > self.pos + 1 and (ahead == len(self.words) or self.words[ahead] not in _BIG)


def _adjacent_runs(text: str) -> list[list[re.Match]]:
    """Words separated only by spaces or a hyphen: 'forty-five' is one number, 'twenty, five' two."""
    runs: list[list[re.Match]] = []
    for word in re.finditer(r"[a-z]+", text):
        if runs and re.fullmatch(r"\s+|\s*-\s*", text[runs[-1][-1].end():word.start()]):
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


_WORDS_UNDER_HUNDRED = "|".join(sorted(_UNDER_HUNDRED, key=len, reverse=True))
_SHARED_SCALE = re.compile(  # "two to three hundred": group 1 is the end that lacks its scale
    rf"\b({'|'.join(list(_SMALL)[1:])})(\s*(?:-|\bto\b|\band\b)\s*(?:(?:{_WORDS_UNDER_HUNDRED})[\s-]+)?"
    rf"(?:{_WORDS_UNDER_HUNDRED})\s+(hundred|thousand|grand)\b)")


def _lone_one(words: list[str], start: int, end: int) -> bool:
    """'the one under 50' is a product, not $1; 'one dollar' is."""
    following = words[end] if end < len(words) else ""
    return words[start] == "one" and end == start + 1 and following not in ("dollar", "dollars", "buck", "bucks")


def _spoken_numbers_to_digits(text: str) -> str:
    """Digits for spoken amounts; in 'two to three hundred' the scale applies to both ends."""
    text = _SHARED_SCALE.sub(lambda m: f"{m.group(1)} {m.group(3)}{m.group(2)}", text)
    out, cursor = [], 0
    for run in _adjacent_runs(text):
        words, i = [w.group() for w in run], 0
        while i < len(words):
            reader = _NumberReader(words, i)
            value = reader.read() if words[i] in _NUMBER_STARTS else None
            if value is None or _lone_one(words, i, reader.pos):
                i += 1
                continue
            out.append(text[cursor:run[i].start()] + str(value))
            cursor, i = run[reader.pos - 1].end(), reader.pos
    return "".join(out) + text[cursor:]


# ---- digit forms ----------------------------------------------------------------------------------------
_NUM = r"(?<![0-9])(?<![0-9]\.)[0-9]{1,9}(?:\.[0-9]{1,2})?(?!\.?[0-9])"


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.2f}"


def _digit_forms(text: str) -> str:
    text = re.sub(r"(?<![0-9])([0-9]{1,3}(?:,[0-9]{3})+)(?![0-9])", lambda m: m.group(1).replace(",", ""), text)
    return re.sub(rf"({_NUM})\s*(k|grand|thousand|hundred)\b", _scaled, text)


def _scaled(match: re.Match) -> str:
    """'1.5k' and '2 grand' are money talk, so they get a dollar sign; '2 hundred' is just a number."""
    value = float(match.group(1)) * (100 if match.group(2) == "hundred" else 1000)
    return ("$" if match.group(2) in ("k", "grand") else "") + _fmt(value)


# ---- numbers that are not prices ------------------------------------------------------------------------
_UNITS = (r"%|percent|off|stars?|l|ltrs?|liters?|litres?|ml|oz|ounces?|g|grams?|kg|lbs?|pounds?|mm|cm|km|"
          r"meters?|metres?|miles?|inch(?:es)?|ft|feet|foot|h|hrs?|hours?|mins?|minutes?|days?|weeks?|"
          r"months?|years?|yrs?|mah|gb|tb|w|watts?|cups?|pieces?|pcs|packs?|pairs?|people|persons?|"
          r"degrees?|°|f|c|mph|x|reviews?|items?|eur|euros?|gbp|quid|yen|cad|aud|€|£|¥")
# "Echo Max 6", "Pace Max 8": a capitalised Max after a capitalised word is part of a product name, not a cap
_NAMED_MAX = re.compile(r"(\b[A-Z][\w'-]*\s+(?:Max|MAX)\s+)[0-9]+(?:\.[0-9]+)?")
_NOT_PRICE = [
    re.compile(rf"{_NUM}\s*\+?\s*(?:-\s*)?(?:{_UNITS})(?![a-z])"),
    re.compile(rf"[€£¥]\s*{_NUM}|\b(?:c|ca|au|nz)\$\s*{_NUM}|\b(?:cad|aud|eur|gbp)\s*{_NUM}"),
    re.compile(rf"\b(?:rated|rating|ratings|reviews?)\s+(?:of\s+|at\s+least\s+|above\s+|over\s+)?{_NUM}\+?"),
    re.compile(rf"{_NUM}\s*(?:/|out\s+of)\s*(?:5|five)\b"),
    re.compile(rf"\b(?:size|sizes|sz|us)\s*{_NUM}(?:\s*(?:-|to|or|and)\s*{_NUM})?"),
]


def _mask_non_prices(text: str) -> str:
    for pattern in _NOT_PRICE:
        text = pattern.sub(" # ", text)
    return text


# ---- currency and comparison words ----------------------------------------------------------------------
def _phrases(marker: str, phrases: str) -> list[tuple[str, str]]:
    return [(p.strip(), marker) for p in phrases.split("|")]


_CUES = sorted(
    _phrases(_MAX, "no more than|not more than|no higher than|no greater than|no pricier than|not over|not above|"
                   "not exceeding|less than|lower than|cheaper than|under|below|beneath|at most|at the most|"
                   "maximum of|maximum|max|up to|upto|within|budget of|budget is|budget|or less|or lower|"
                   "or under|or below|or cheaper|and under|and below|and less|tops|<=|<|≤")
    + _phrases(_MIN, "no less than|not less than|no lower than|not under|not below|more than|greater than|"
                     "higher than|pricier than|over|above|at least|at the least|minimum of|minimum|min|"
                     "starting at|starting from|starts at|upwards of|upward of|north of|or more|or higher|"
                     "or above|or over|or greater|and up|and above|and over|and higher|plus|>=|>|≥|+")
    + _phrases(_NEAR, "around|about|approximately|approx|roughly|circa|close to|something like|in the region of|"
                      "or so|give or take|~"),
    key=lambda pair: -len(pair[0]))
_CUE_RE = re.compile("|".join(
    (rf"\b{re.escape(p)}\b" if p[0].isalpha() and p[-1].isalpha() else re.escape(p)) for p, _ in _CUES))
_CUE_MARKER = dict(_CUES)


def _markers(text: str) -> str:
    text = re.sub(r"\bus\s?\$|\b(?:usd|dollars?|bucks?)\b", " $ ", text)
    text = re.sub(r"(?<=[0-9])\s*-?\s*ish\b", f" {_NEAR} ", text)
    text = _CUE_RE.sub(lambda m: f" {_CUE_MARKER[m.group()]} ", text)
    return re.sub(r"\s+", " ", text)


_NEGATIVE = re.compile(rf"(?:^|{_MAX}|{_MIN}|{_NEAR}|(?<![0-9])(?<![0-9] )\$|\bbetween|\bfrom|\bto|\band)"
                       rf"\s*(?:-|\bminus\b)\s*\$?\s*[0-9]")


# ---- matching -------------------------------------------------------------------------------------------
def _amount(tag: str) -> str:
    return rf"(?P<pre{tag}>\$\s*)?(?P<n{tag}>{_NUM})(?:\s*(?P<post{tag}>\$))?"


_RANGE = re.compile(rf"(?:\b(?P<lead>between|from)\s+)?{_amount('1')}\s*(?P<conn>-|\bto\b|\band\b|\bthrough\b|\bthru\b)"
                    rf"\s*{_amount('2')}")
_PREFIXED = re.compile(rf"(?P<cue>{_MAX}|{_MIN}|{_NEAR})\s*{_amount('1')}")
_SUFFIXED = re.compile(rf"{_amount('1')}\s*(?P<cue>{_MAX}|{_MIN}|{_NEAR})")
_BARE = re.compile(_amount("1"))


def _has_currency(match: re.Match, *tags: str) -> bool:
    return any(match.group(f"pre{t}") or match.group(f"post{t}") for t in tags)


def _find_range(text: str) -> PriceRange | None:
    for m in _RANGE.finditer(text):
        lead, conn = m.group("lead"), m.group("conn")
        if conn == "and" and lead != "between":
            continue
        if lead or _has_currency(m, "1", "2"):
            low, high = sorted((float(m.group("n1")), float(m.group("n2"))))
            return PriceRange(low, high)
    return None


def _find_bounds(text: str) -> PriceRange | None:
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str, float]] = []
    for pattern in (_PREFIXED, _SUFFIXED):
        for m in pattern.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e in taken):
                taken.append(m.span())
                found.append((m.start(), m.group("cue"), float(m.group("n1"))))
    for m in _BARE.finditer(text):
        if _has_currency(m, "1") and not any(s < m.end() and m.start() < e for s, e in taken):
            found.append((m.start(), "bare", float(m.group("n1"))))
    return _combine([(cue, value) for _, cue, value in sorted(found)])


def _combine(found: list[tuple[str, float]]) -> PriceRange | None:
    """The last stated bound of each kind wins ('under 50... no, under 80'); 'around' fills missing sides."""
    last = {cue: value for cue, value in found}
    low, high = last.get(_MIN), last.get(_MAX, last.get("bare"))
    if _NEAR in last:
        low = low if low is not None else round(last[_NEAR] * (1 - AROUND_BAND), 2)
        high = high if high is not None else round(last[_NEAR] * (1 + AROUND_BAND), 2)
    if low is None and high is None:
        return None
    if low is not None and high is not None and low > high:
        low, high = high, low
    return PriceRange(low, high)


def _valid(price: PriceRange | None) -> PriceRange | None:
    if price is None:
        return None
    values = [v for v in (price.min, price.max) if v is not None]
    if any(v < 0 or v > MAX_AMOUNT for v in values) or price.max == 0:
        return None
    return price


def parse_price(text: str) -> PriceRange | None:
    """The budget stated in `text`, or None when there is none (or it is negative, absurd or not in dollars).

    Bare numbers without a currency sign or a comparison ("size 10", "4 stars", "2 person tent") are never
    read as prices; "cheap" is not a price either (the query asks for a price sort instead).
    """
    text = _NAMED_MAX.sub(r"\1#", text[:1000])  # bounded work: no budget comes that late
    text = text.lower().replace("–", "-").replace("—", "-")
    text = _markers(_mask_non_prices(_spoken_numbers_to_digits(_digit_forms(text))))
    if _NEGATIVE.search(text):
        return None
    return _valid(_find_range(text) or _find_bounds(text))
