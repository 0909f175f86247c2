"""A structured product query from one shopper message (plus the NLU's entities), and follow-up refinements.

Entities from the NLU are trusted where present but normalised to catalog values; whatever the NLU missed is
recovered from the raw text (`Vocabulary.find_mentions`, `parse_price`). Words that are neither a catalog value
nor a known filler word are kept as free text for full-text search.
"""
from __future__ import annotations

import dataclasses
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from assistant.search.prices import PriceRange, parse_price
from assistant.search.vocab import COMMON_WORDS, Mention, Vocabulary
from assistant.store.cart import parse_quantity

SORTS = ("relevance", "price_asc", "price_desc", "rating")
HIGHLY_RATED = 4.0

ENTITY_KINDS = {"brand": "brand", "category": "category", "product_type": "category", "color": "color",
                "colour": "color", "size": "size"}
PRICE_ENTITIES = ("price", "budget", "price_range")


@dataclass
class SearchQuery:
    """Every field but `text`, `hint` and `sort` is a hard filter; `text` only ranks (see engine.search). `hint`
    holds words that named the category more narrowly than its name ("espresso machine" for coffee makers): they
    rank when there is no other text, and are never reported as words that matched nothing."""

    category: str | None = None
    brands: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    size: str | None = None
    price: PriceRange | None = None
    min_rating: float | None = None
    on_sale: bool = False
    text: str = ""
    sort: str = "relevance"
    exclude_brands: list[str] = field(default_factory=list)
    offset: int = 0
    hint: str = ""
    people: int | None = None  # fits this many ("a tent for 4"): a capacity of PEOPLE_ROOM more at most
    max_weight_g: float | None = None  # "something lighter": below the typical weight of what was shown
    gender: str | None = None  # "women" or "men": the other's styles are left out, unisex products stay

    def describe(self) -> str:
        """The query in words, e.g. 'black Nike running shoes, size 10, under $80'; '' when it asks for nothing."""
        noun = " ".join(p for p in (" or ".join(self.colors), " or ".join(self.brands),
                                    f"{self.gender}'s" if self.gender else "", self.category or "products") if p)
        if self.text or self.hint:
            noun += f' matching "{self.text or self.hint}"'
        details = [f"for {self.people} {'person' if self.people == 1 else 'people'}" if self.people else "",
                   f"size {self.size}" if self.size else "", _price_words(self.price),
                   f"rated {self.min_rating:g}+ stars" if self.min_rating else "",
                   "on sale" if self.on_sale else "",
                   f"lighter than {weight_words(self.max_weight_g)}" if self.max_weight_g else "",
                   "not " + " or ".join(self.exclude_brands) if self.exclude_brands else ""]
        if noun == "products" and not any(details):
            return ""
        return ", ".join([noun] + [d for d in details if d])


def weight_words(grams: float) -> str:
    return f"{grams / 1000:.2f} kg" if grams >= 1000 else f"{grams:.0f} g"


def money(amount: float) -> str:
    return f"${amount:,.0f}" if amount == int(amount) else f"${amount:,.2f}"


def _price_words(price: PriceRange | None) -> str:
    if price is None or (price.min is None and price.max is None):
        return ""
    if price.min is None:
        return f"under {money(price.max)}"
    if price.max is None:
        return f"over {money(price.min)}"
    return f"between {money(price.min)} and {money(price.max)}"


# ---- cues -------------------------------------------------------------------------------------------------
_ON_SALE = re.compile(r"\b(?:on\s+sale|sale|discount(?:ed|s)?|deals?|clearance|reduced|marked\s+down|markdowns?|"
                      r"bargains?|promos?|promotions?)\b|%\s*off\b|\bpercent\s+off\b")
_STAR_WORDS = {"one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0}
_STAR_NUMBER = rf"(\d(?:\.\d)?|{'|'.join(_STAR_WORDS)})"
_RATING = (re.compile(rf"\b{_STAR_NUMBER}\s*\+?\s*(?:-\s*)?stars?\b"),
           re.compile(rf"\brated\s+(?:at\s+least\s+|over\s+|above\s+)?{_STAR_NUMBER}\b"),
           re.compile(rf"\brating\s+(?:of\s+|over\s+|above\s+|at\s+least\s+)?{_STAR_NUMBER}\b"),
           re.compile(rf"\b{_STAR_NUMBER}\s*(?:/|out\s+of)\s*(?:5|five)\b"))
_HIGHLY_RATED = re.compile(r"\b(?:highly|well|good|great)[\s-]+(?:rated|reviewed)\b|"
                           r"\b(?:good|great|high|positive)\s+(?:reviews|ratings?)\b")
_SORT_CUES = (  # strongest first: "cheapest" beats "best", which beats "budget"
    ("price_asc", re.compile(r"\b(?:cheapest|least\s+expensive|lowest[\s-]+(?:price|priced|cost)|low\s+to\s+high)\b")),
    ("price_desc", re.compile(r"\b(?:most\s+expensive|priciest|highest[\s-]+(?:price|priced)|high\s+to\s+low|"
                              r"premium|high[\s-]+end|luxury|top\s+of\s+the\s+line)\b")),
    ("rating", re.compile(r"\b(?:best|top[\s-]+rated|highest[\s-]+rated|best[\s-]+rated|best[\s-]+reviewed|"
                          r"most\s+popular|top\s+picks?)\b")),
    ("price_asc", re.compile(r"\b(?:cheap|affordable|inexpensive|low[\s-]+cost|economical|"
                             r"budget(?!\s+(?:of|is|around|under|\$|\d)))\b")),
)
_NEGATION = re.compile(r"(?:\bnot|\bno|\bexcept(?:\s+for)?|\bexcluding|\bwithout|\bother\s+than|\banything\s+but|"
                       r"\bbut\s+not|\bbesides|\bapart\s+from|\binstead\s+of|\brather\s+than|\bdon'?t\s+(?:want|like)|"
                       r"\bnothing\s+(?:from|by)|\bno\s+more|\bhate)\s+(?:(?:any|the|from|by|a|an)\s+)?$")
_LIST_JOIN = re.compile(r"\s*(?:,|/|\bor\b|\band\b|\bnor\b|,\s*or\b|,\s*and\b)\s*")

_FILLER = COMMON_WORDS | frozenset("""
show find search searching looking want wanted need needs buy get got give me something anything some any please
thanks thank hi hey hello options option products product stuff ones pair pairs brand brands kind type types
dollars dollar bucks buck usd cents price prices priced cost costs range spend spending budget cheap cheaper
cheapest affordable inexpensive expensive pricier priciest premium luxury economical bargain bargains deal deals
sale sales discount discounts discounted clearance reduced marked markdown promo promos promotion promotions percent
stars star rated rating ratings reviewed review reviews popular best top highest lowest highly well good great
nice cool awesome between under over below above beneath less least most max maximum min minimum around about
approximately approx roughly circa than upto within exceeding ish tops plus up at no not only just also too
instead rather except excluding besides apart hate dont size sizes sz colour color colours colors shade
zero two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty sixty seventy eighty
ninety hundred thousand grand what which how about maybe really very other else ok okay alright sure hmm umm
well so yeah yes yep sell sells carry carries stock stocks come comes coming everything everyone
nevermind never mind actually anyway anyways wait oops sorry add put cart
sister sisters brother brothers mom mum mother dad father wife husband son daughter friend friends
boyfriend girlfriend grandma grandpa grandmother grandfather niece nephew aunt uncle cousin boss who loves loved
like likes liked enjoy enjoyed adore adores fan fans she he does doing into
love enjoys wears whats thats theres heres hows enough lighter weigh weighs
""".split())

_LIGHTER = re.compile(r"\b(?:lighter|less heavy|weighs? less|not as heavy)\b")
_CHEAPER = re.compile(r"\b(?:cheaper|less\s+expensive|lower[\s-]+priced|lower\s+price|more\s+affordable|for\s+less)\b")
_PRICIER = re.compile(r"\b(?:more\s+expensive|pricier|higher[\s-]+end|higher[\s-]+priced|fancier|more\s+premium)\b")
_ADDITIVE = re.compile(r"\b(?:also|too|as\s+well|additionally)\b|^\s*(?:or|and|plus)\b")
_CLEAR = re.compile(r"\b(?:any|all|every)\s+(brand|colou?r|size|price|rating)s?\b|"
                    r"\b(?:drop|remove|forget|ignore|clear|without|no)\s+(?:the\s+|my\s+|a\s+)?"
                    r"(brand|colou?r|size|price|budget|rating|sale)s?\b")
_CLEARED_FIELDS = {"brand": {"brands": [], "exclude_brands": []}, "color": {"colors": []},
                   "colour": {"colors": []}, "size": {"size": None}, "price": {"price": None},
                   "budget": {"price": None}, "rating": {"min_rating": None}, "sale": {"on_sale": False}}


def _min_rating(lowered: str) -> float | None:
    for pattern in _RATING:
        match = pattern.search(lowered)
        if match:
            value = _STAR_WORDS.get(match.group(1)) or float(match.group(1))
            return value if 1 <= value <= 5 else None
    return HIGHLY_RATED if _HIGHLY_RATED.search(lowered) else None


def _sort(lowered: str) -> str:
    return next((sort for sort, cue in _SORT_CUES if cue.search(lowered)), "relevance")


# ---- mentions ---------------------------------------------------------------------------------------------
def _entity_mentions(entities: Iterable[dict], vocab: Vocabulary) -> list[Mention]:
    found = []
    for entity in entities:
        kind = ENTITY_KINDS.get(str(entity.get("entity", "")))
        value = vocab.normalise(kind, str(entity.get("value", ""))) if kind else None
        if value:
            start, end = entity.get("start"), entity.get("end")
            spanned = isinstance(start, int) and isinstance(end, int)
            found.append(Mention(kind, value, start if spanned else -1, end if spanned else -1, from_nlu=True))
    return found


def _mentions(text: str, entities: Iterable[dict], vocab: Vocabulary) -> list[Mention]:
    """Entity values first (they win for single-valued fields and on overlap), then what the text adds."""
    from_entities = _entity_mentions(entities, vocab)
    spans = [(m.start, m.end) for m in from_entities if m.start >= 0]
    from_text = [m for m in vocab.find_mentions(text).items
                 if not any(s < m.end and m.start < e for s, e in spans)]
    return from_entities + from_text


def _negated(text: str, mentions: Sequence[Mention]) -> list[bool]:
    """'not Nike', 'anything but Nike or Adidas': a negation carries over a list joined by 'or', 'and', ','."""
    lowered, flags = text.lower(), []
    for i, m in enumerate(mentions):
        previous = mentions[i - 1] if i else None
        carried = (previous is not None and flags[-1] and 0 <= previous.end <= m.start
                   and _LIST_JOIN.fullmatch(lowered[previous.end:m.start]) is not None)
        flags.append(m.start >= 0 and (carried or _NEGATION.search(lowered[:m.start]) is not None))
    return flags


def _split(text: str, mentions: list[Mention], kind: str) -> tuple[list[str], list[str]]:
    """(wanted, unwanted) values of one kind."""
    of_kind = sorted((m for m in mentions if m.kind == kind), key=lambda m: (m.start < 0, m.start))
    flags = _negated(text, of_kind)
    unwanted = list(dict.fromkeys(m.value for m, no in zip(of_kind, flags) if no))
    wanted = [v for v in dict.fromkeys(m.value for m, no in zip(of_kind, flags) if not no) if v not in unwanted]
    return wanted, unwanted


def _asked_size(mentions: list[Mention]) -> str | None:
    """The size the message asks for: the last one named. Sizes named before it are context ("I'm between a 10
    and an 11, do you have a 10.5?"); sizes the NLU tagged outrank those found in the text, and a size without a
    place in the text counts only when none has one."""
    found = [m for m in mentions if m.kind == "size"]
    sizes = [m for m in found if m.from_nlu] or found
    placed = sorted((m for m in sizes if m.start >= 0), key=lambda m: m.start)
    return (placed or sizes)[-1].value if sizes else None


def _main_category(text: str, mentions: list[Mention]) -> str | None:
    """The one category a query filters on: the NLU's entity first, else a phrase of several words over a single
    word ("Columbia Tundra Thermo Men's Down Vest" is a down vest, not a thermos), else the first named ("a tent
    that fits in a backpack" is a tent)."""
    found = [m for m in mentions if m.kind == "category"]
    if not found or found[0].from_nlu:
        return found[0].value if found else None
    return max(found, key=lambda m: (m.start >= 0 and " " in text[m.start:m.end].strip(), -m.start)).value


def _narrower_words(text: str, mentions: list[Mention], category: str | None, vocab: Vocabulary) -> str:
    """The words that named `category` when they say more than its name: "santoku knife" narrows kitchen knives,
    "boots" (already in "hiking boots") or a typo of the name does not."""
    typed = [text[m.start:m.end] for m in mentions if m.kind == "category" and m.value == category and m.start >= 0]
    return " ".join(t.lower() for t in typed if vocab.narrows(t, category or ""))


def _leftover_text(text: str, mentions: list[Mention]) -> str:
    """Words no filter used: catalog values, prices, cue and filler words are dropped; a number stays only
    when it qualifies a kept word ('4 person') or is part of a name ('Outpost 3')."""
    tokens = [t for t in re.finditer(r"[^\W_]+(?:['’][^\W_]+)*", text)
              if not any(m.start < t.end() and t.start() < m.end for m in mentions if m.start >= 0)]
    words = [re.sub(r"['’]", "", t.group().lower()) for t in tokens]
    kept = [w.isalpha() and len(w) > 1 and w not in _FILLER for w in words]
    return " ".join(w for i, w in enumerate(words)
                    if kept[i] or (w.isdigit() and ((i + 1 < len(words) and kept[i + 1]) or (i and kept[i - 1]))))


def _entity_price(entities: Iterable[dict], text: str, masked: str) -> PriceRange | None:
    """The first price entity that reads as a price; none inside a model name (`masked` differs from `text`
    there: see Vocabulary.without_model_numbers)."""
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if isinstance(start, int) and isinstance(end, int) and masked[start:end] != text[start:end]:
            continue
        if entity.get("entity") in PRICE_ENTITIES:
            value = str(entity.get("value", ""))
            price = parse_price(value) or parse_price(f"under ${value}")
            if price:
                return price
    return None


PEOPLE_ROOM = 2  # "a tent for 4" finds 4- to 6-person tents, not the 8-person one a rating sort puts first
_COUNT = r"(\d{1,2}|one|two|three|four|five|six|seven|eight)"
_PEOPLE = re.compile(rf"\b{_COUNT}[\s-]*(?:persons?|people|man(?=\s+tents?\b))\b|\bsleeps\s+{_COUNT}\b"
                     rf"|\bfamily of {_COUNT}\b")  # "2 man tent", not "size 10 man's shoes"


def _people(lowered: str) -> Mention | None:
    """How many people it must fit ("a 4-person tent", "tents for 4 people", "sleeps three"), as a mention of
    its span, so those words leave the free text."""
    match = _PEOPLE.search(lowered)
    if match is None:
        return None
    count = parse_quantity(next(g for g in match.groups() if g))
    return Mention("people", str(count), match.start(), match.end())


_FOR_WOMEN = re.compile(r"\b(?:women|womens|women's|woman|woman's|ladies|lady's|female)\b")
_FOR_MEN = re.compile(r"\b(?:men|mens|men's|male|guys?)\b")


def _gender(lowered: str) -> str | None:
    """Whose styles the shopper wants ("hiking boots for women"); None when the message says both or neither."""
    women, men = _FOR_WOMEN.search(lowered) is not None, _FOR_MEN.search(lowered) is not None
    return "women" if women and not men else "men" if men and not women else None


def build_query(text: str, entities: list[dict], vocab: Vocabulary) -> SearchQuery:
    """The query one message asks for."""
    lowered = text.lower()
    masked = vocab.without_model_numbers(text)
    people = _people(lowered)
    mentions = _mentions(text, entities, vocab) + ([people] if people else [])
    category = _main_category(text, mentions)
    brands, excluded = _split(text, mentions, "brand")
    colors, _ = _split(text, mentions, "color")
    return SearchQuery(
        category=category, brands=brands, colors=colors, size=_asked_size(mentions),
        price=parse_price(masked) or _entity_price(entities, text, masked), min_rating=_min_rating(lowered),
        on_sale=_ON_SALE.search(lowered) is not None, text=_leftover_text(text, mentions), sort=_sort(lowered),
        exclude_brands=excluded, hint=_narrower_words(text, mentions, category, vocab),
        people=int(people.value) if people and int(people.value) > 0 else None, gender=_gender(lowered))


# ---- follow-ups -------------------------------------------------------------------------------------------
def refine(previous: SearchQuery, text: str, entities: list[dict], vocab: Vocabulary, *,
           shown_prices: Sequence[float] = (), shown_weights: Sequence[float] = ()) -> SearchQuery:
    """The previous query changed by a follow-up ('cheaper', 'in black', 'only Nike', 'what about size 11').

    What the follow-up states replaces the old value; what it doesn't mention is kept. Switching category
    drops the size and the free text, which belonged to the old category. 'Cheaper' and 'more expensive'
    move the budget just past the prices already shown, or only change the sort when nothing was shown;
    'lighter' keeps to products under the typical weight shown.
    """
    new = build_query(text, entities, vocab)
    lowered = text.lower()
    merged = dataclasses.replace(previous, offset=0)
    if new.category and new.category != previous.category:
        merged = dataclasses.replace(merged, category=new.category, size=None, people=None, text="", hint=new.hint)
    elif new.hint:
        merged = dataclasses.replace(merged, hint=new.hint)
    additive = _ADDITIVE.search(lowered) is not None
    exclude = list(dict.fromkeys([b for b in merged.exclude_brands if b not in new.brands] + new.exclude_brands))
    brands = _union(merged.brands, new.brands) if additive else (new.brands or merged.brands)
    merged = dataclasses.replace(
        merged,
        brands=[b for b in brands if b not in exclude], exclude_brands=exclude,
        colors=(_union(merged.colors, new.colors) if additive else new.colors) or merged.colors,
        size=new.size or merged.size, people=new.people or merged.people, price=_merge_price(merged.price, new.price),
        gender=new.gender or merged.gender,
        min_rating=new.min_rating or merged.min_rating, on_sale=new.on_sale or merged.on_sale,
        sort=new.sort if new.sort != "relevance" else merged.sort,
        text=new.text if _switches_thing(lowered, merged, new) else
        " ".join(dict.fromkeys((merged.text + " " + new.text).split())))
    if new.price is None:
        merged = _relative_price(merged, lowered, shown_prices)
    if _LIGHTER.search(lowered) and shown_weights:
        merged = dataclasses.replace(merged, max_weight_g=statistics.median(shown_weights) - 1)
    for match in _CLEAR.finditer(lowered):
        merged = dataclasses.replace(merged, **_CLEARED_FIELDS[match.group(1) or match.group(2)])
    return merged


_SWITCH = re.compile(r"\b(?:what|how)\s+about\b|\binstead\b")


def _switches_thing(lowered: str, previous: SearchQuery, new: SearchQuery) -> bool:
    """"what about helmets?" after "bikes": with no kind of product on either side, the words name another thing
    to look for, not more words for the same one ("bikes helmets")."""
    return bool(new.text) and not previous.category and not new.category and _SWITCH.search(lowered) is not None


def _union(old: list[str], new: list[str]) -> list[str]:
    return list(dict.fromkeys(old + new))


def _merge_price(old: PriceRange | None, new: PriceRange | None) -> PriceRange | None:
    """'under 50' after 'over 20' keeps the 20; a bound that now contradicts the new one goes."""
    if new is None or old is None or (new.min is not None and new.max is not None):
        return new or old
    if new.max is not None:
        return PriceRange(old.min if old.min is not None and old.min <= new.max else None, new.max)
    return PriceRange(new.min, old.max if old.max is not None and old.max >= new.min else None)


def _open(price: PriceRange) -> PriceRange | None:
    return None if price.min is None and price.max is None else price


ROOM = 0.05  # a budget bound this close to the prices shown leaves no room to go further that way


def _relative_price(query: SearchQuery, lowered: str, shown_prices: Sequence[float]) -> SearchQuery:
    """"Cheaper"/"pricier" relative to the typical (median) price shown: relative to the extreme, a page that
    already holds the cheapest item would leave nothing cheaper to show."""
    current = query.price or PriceRange()
    typical = statistics.median(shown_prices) if shown_prices else None
    if _CHEAPER.search(lowered):
        if typical is None or typical <= 0.01:
            return dataclasses.replace(query, sort="price_asc", price=_open(PriceRange(None, current.max)))
        below = round(typical - 0.01, 2)
        # a floor at the cheapest price shown leaves nothing cheaper: it came from "more expensive", so it goes
        low = current.min if current.min is not None and current.min <= below and \
            current.min < min(shown_prices) * (1 - ROOM) else None
        return dataclasses.replace(query, price=PriceRange(low, below))
    if _PRICIER.search(lowered):
        if typical is None:
            return dataclasses.replace(query, sort="price_desc", price=_open(PriceRange(current.min, None)))
        above = round(typical + 0.01, 2)
        # a cap at the dearest price shown leaves nothing dearer: it came from "cheaper", so it goes
        high = current.max if current.max is not None and current.max >= above and \
            current.max > max(shown_prices) * (1 + ROOM) else None
        return dataclasses.replace(query, price=PriceRange(above, high))
    return query
