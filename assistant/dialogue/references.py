"""Resolve "the second one", "compare 1 and 3", "that", "the Sony ones" to product ids the bot has shown."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from assistant.dialogue.render import weight_g

_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8,
    "9th": 9, "10th": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}
_NUMBER = r"(?:\d{1,2}|one|two|three|four|five)"
_ORDINAL = re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d{1,2}(?:st|nd|rd|th))\b")
_LAST = re.compile(r"\b(last|final|bottom) (?:one|item|option|pick)\b|\bthe last\b")
_FIRST_N = re.compile(rf"\b(?:first|top) ({_NUMBER})\b")
_NUMBERED = re.compile(rf"(?:#|\bnumber |\bno\. ?|\boption |\bitem |\bproduct |\bpick )({_NUMBER})\b")
_PAIR = re.compile(r"\b(\d{1,2})\s*(?:and|&|vs\.?|versus|with|,|or)\s*(\d{1,2})\b(?!\s*(?:dollars|bucks|usd|%))")
_ALL = re.compile(r"\b(all of them|all three|all 3|them all|every one)\b")
_BOTH = re.compile(r"\b(both|the two|these two|those two|them)\b")
_FOCUS = re.compile(r"\b(it|that|this|that one|this one|those|these|the one)\b")


# "the cheaper one", "the best rated", "the lightest": the product a comparison word picks, how it orders them, and
# the word for the one it picks.
_EXTREMES = [
    (re.compile(r"\b(?:cheap(?:er|est)|less expensive|least expensive|lowest priced)\b"), lambda p: p["final_price"],
     "cheapest"),
    (re.compile(r"\b(?:more expensive|most expensive|pricier|priciest)\b"), lambda p: -p["final_price"],
     "most expensive"),
    (re.compile(r"\b(?:(?:better|best|higher|highest|top)[- ]rated|(?:better|best) review(?:s|ed))\b"),
     lambda p: (-(p.get("rating") or 0), -p.get("review_count", 0)), "best rated"),  # ties: more reviews
    (re.compile(r"\b(?:lighter|lightest)\b"), weight_g, "lightest"),
]
# Said of a product ("add the cheaper one"), not of a new search ("something cheaper", "cheaper ones").
_PICKS_ONE = re.compile(r"\bthe (?:\w+ ){0,2}?(?:one|item|option|pick|pair)\b|\bthe (?:cheap|less|least|more|most|"
                        r"pric|better|best|higher|highest|top|light)\w*(?:[- ]rated)?\s*[?.!]?$")


_SUPERLATIVE = re.compile(r"\b(?:cheapest|least expensive|lowest priced|most expensive|priciest|"
                          r"(?:best|highest|top)[- ]rated|best review(?:s|ed)|lightest)\b")


def asks_superlative(text: str) -> bool:
    """Whether the message asks which product is the cheapest, dearest, best rated or lightest: a question about
    the products on the table, where a comparative may instead qualify a request ("like the first but lighter")."""
    return bool(_SUPERLATIVE.search(" ".join(text.lower().split())))


def asks_extreme(text: str) -> bool:
    """Whether the message asks for the cheapest, dearest, best rated or lightest of some products."""
    text = " ".join(text.lower().split())
    return any(pattern.search(text) for pattern, _, _ in _EXTREMES)


def pick_extreme(text: str, entities: Sequence[dict], products: Sequence[dict]) -> str | None:
    """The product among `products` that "the cheaper one", "the best rated one" or "the lightest" points at (None
    when the message says no such thing, names a position itself ("is the first one cheaper?"), or the products do
    not say: no weights to compare)."""
    text = " ".join(text.lower().split())
    if len(products) < 2 or not _PICKS_ONE.search(text) or _positions(text, entities):
        return None
    picked = extreme(text, products)
    return picked[0] if picked else None


def extreme(text: str, products: Sequence[dict]) -> tuple[str, str] | None:
    """The id of the product the comparison word in `text` ranks first ("which one is lighter?") and the word for
    it ("lightest"), or None when it has none or the products do not say."""
    text = " ".join(text.lower().split())
    for pattern, key, word in _EXTREMES:
        if pattern.search(text):
            ranked = [(key(p), i, p["id"]) for i, p in enumerate(products) if key(p) is not None]
            return (min(ranked)[2], word) if len(ranked) >= 2 else None
    return None


@dataclass(frozen=True)
class Resolution:
    product_ids: list[str]
    how: str  # "ordinal", "name", "focus", "all", "none": lets the action phrase its reply


def _to_int(token: str) -> int:
    return int(token) if token.isdigit() else _ORDINAL_WORDS[token]


def _positions(text: str, entities: Sequence[dict]) -> list[int]:
    """1-based positions named in the message, in the order they appear, from entities and the text itself."""
    found: list[tuple[int, int]] = []
    for match in _FIRST_N.finditer(text):
        found.extend((match.start(), k) for k in range(1, _to_int(match.group(1)) + 1))
    covered = [m.span() for m in _FIRST_N.finditer(text)]
    for match in _PAIR.finditer(text):
        found += [(match.start(1), int(match.group(1))), (match.start(2), int(match.group(2)))]
    for pattern in (_ORDINAL, _NUMBERED):
        for match in pattern.finditer(text):
            if not any(a <= match.start() < b for a, b in covered):
                token = match.group(1)
                digits = token[:-2] if token[:-2].isdigit() else token
                found.append((match.start(), _to_int(digits if digits.isdigit() else token)))
    for entity in entities:
        if entity.get("entity") == "ordinal":
            value = str(entity.get("value", "")).lower().strip()
            value = value[:-2] if value[:-2].isdigit() else value
            if value.isdigit() or value in _ORDINAL_WORDS:
                found.append((int(entity.get("start") or 0), _to_int(value)))
            elif value == "last":
                found.append((int(entity.get("start") or 0), -1))
    for match in _LAST.finditer(text):
        found.append((match.start(), -1))
    positions: list[int] = []
    for _, position in sorted(found):
        if position not in positions:
            positions.append(position)
    return positions


def _by_name(text: str, entities: Sequence[dict], shown: Sequence[dict]) -> list[str]:
    """Shown products whose title or brand the shopper named ("the Sony ones", "the Ridge Runner")."""
    names = [str(e["value"]) for e in entities if e.get("entity") in ("product", "brand") and e.get("value")]
    ids = []
    for product in shown:
        brand, title = product.get("brand", "").lower(), product.get("title", "").lower()
        named = any(n.lower() == brand or fuzz.partial_ratio(n.lower(), title) >= 90 for n in names)
        in_text = bool(brand) and re.search(rf"\b{re.escape(brand)}\b", text) is not None
        if named or in_text:
            ids.append(product["id"])
    return ids


_TITLE_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# A question about one product, not a request for others like it ("do you have other jackets like the Drizzle?").
_ASKS = re.compile(r"\?|^(?:is|are|does|do|can|will|would|how|what|which|has|have|should)\b")
_WANTS_OTHERS = re.compile(r"\b(?:other|others|another|similar|alternatives?|else|instead|cheaper|show|find)\b")


def title_words(text: str) -> list[str]:
    """A title's or a message's words as titles are matched: lower-case runs of letters and digits, a possessive
    kept on ("men's")."""
    return _TITLE_WORD.findall(text.lower())


def names_by_title(text: str, title: str, rare: set[str]) -> bool:
    """Whether the message names the product by its own name: words in a row from its title, two of them `rare`
    (its model name, not its brand or kind: "the Basecamp 32L", "Vans Plaza Vintage"). Neither "hardshell rain
    jackets under $100" nor "vans high-top sneakers" names one product."""
    own = set(title_words(title))
    run: list[str] = []
    for word in [*title_words(text), ""]:
        if word in own:
            run.append(word)
            continue
        if len(rare & set(run)) >= 2:
            return True
        run = []
    return False


def asks_about_one(text: str) -> bool:
    """Whether the message is a question about one product ("is the X canvas or leather?") rather than a request
    for others ("do you have anything else like the X?")."""
    lowered = " ".join(text.lower().split())
    return _ASKS.search(lowered) is not None and _WANTS_OTHERS.search(lowered) is None


def points_back(text: str) -> bool:
    """Whether the message points at something said before ("does it come in blue?", "the second one"): with no
    product on the table, such a message needs one named; one that points at nothing is a question of its own."""
    text = " ".join(text.lower().split())
    return any(p.search(text) for p in (_FOCUS, _BOTH, _ALL, _ORDINAL, _LAST, _NUMBERED))


_CART_TALK = re.compile(r"\b(cart|basket|bag|add|added|remove|delete|undo|items?|everything|all this|compare|"
                        r"comparison|versus|vs)\b")
# Entities that pick out products; a number ("300 points") or a policy topic says nothing about the shop.
_PRODUCT_ENTITIES = frozenset({"category", "brand", "color", "size", "ordinal", "product", "product_id", "spec"})


def about_the_shop(text: str, entities: Sequence[dict]) -> bool:
    """Whether the message names a product or speaks of the cart, or of editing or comparing what was picked ("undo
    the last add", "how much will all this cost", "remove the tent"): such a message is a shop request even when
    there is nothing to act on; one that does neither may be a store question the NLU read as a shop request. So
    may one that names a policy ("does a coffee maker fall under the electronics return window?"), whatever else it
    names: with nothing to act on, the knowledge is asked first."""
    if any(e.get("entity") == "policy_topic" for e in entities):
        return False
    if any(e.get("entity") in _PRODUCT_ENTITIES for e in entities):
        return True
    return _CART_TALK.search(" ".join(text.lower().split())) is not None


def resolve(text: str, entities: Sequence[dict], shown: Sequence[dict], focus: str | None) -> Resolution:
    """Which of the shown products (dicts with id, title, brand) the message refers to."""
    text = " ".join(text.lower().split())
    ids = [p["id"] for p in shown]
    positions = _positions(text, entities)
    if positions:
        picked = [ids[p - 1] if p > 0 else ids[-1] for p in positions if ids and (p == -1 or 1 <= p <= len(ids))]
        return Resolution(picked, "ordinal") if picked else Resolution([], "out_of_range")
    named = _by_name(text, entities, shown)
    if named:
        return Resolution(named, "name")
    if _ALL.search(text):
        return Resolution(ids, "all")
    if _BOTH.search(text) and len(ids) >= 2:
        return Resolution(ids[:2], "all")
    if focus and (_FOCUS.search(text) or not ids):
        return Resolution([focus], "focus")
    if _FOCUS.search(text) and ids:
        return Resolution(ids[:1], "focus")
    return Resolution([], "none")
