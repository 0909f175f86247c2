"""Answer a question about one product ("is it waterproof?", "how heavy is it?") from its own data only."""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.dialogue.render import money, spec_label, spec_text, the
from assistant.knowledge.documents import capitalised
from assistant.knowledge.retrieval import without_name

# Words a shopper uses -> fragments of spec keys that answer them.
SPEC_WORDS: dict[str, tuple[str, ...]] = {
    "waterproof": ("waterproof", "water_resistance"), "water": ("waterproof", "water_resistance"),
    "rain": ("waterproof",), "heavy": ("weight",), "weight": ("weight",), "weigh": ("weight",),
    "light": ("weight",), "battery": ("battery",), "charge": ("battery",), "charging": ("battery",),
    "last": ("battery", "keeps"),
    "hot": ("keeps_hot",), "cold": ("keeps_cold",), "warm": ("temp_rating", "fill", "insulation", "keeps_hot"),
    "temperature": ("temp_rating",), "big": ("capacity", "packed_size"), "capacity": ("capacity",),
    "hold": ("capacity",), "fit": ("capacity", "compatible"), "people": ("capacity_persons",),
    "person": ("capacity_persons",), "dishwasher": ("dishwasher",), "thick": ("thickness",),
    "material": ("material", "steel", "fill"), "made": ("material", "steel"), "gps": ("gps",),
    "heart": ("heart_rate",), "noise": ("noise_cancelling",), "cancelling": ("noise_cancelling",),
    "wireless": ("wireless",), "bluetooth": ("wireless",), "drop": ("drop_protection",),
    "magsafe": ("magsafe",), "phone": ("compatible",), "iphone": ("compatible",), "blade": ("blade",),
    "cups": ("capacity_cups",), "programmable": ("programmable",), "skin": ("skin_type",),
    "fragrance": ("fragrance",), "spf": ("spf",), "sun": ("spf",), "drop_mm": ("drop_mm",),
    "cushion": ("cushioning",), "cushioning": ("cushioning",), "season": ("season",),
    "laptop": ("laptop",), "packable": ("packable",), "hydration": ("hydration",), "ankle": ("ankle",),
    "stuffed": ("fill", "insulation"), "filled": ("fill", "insulation"), "filling": ("fill", "insulation"),
    "feather": ("fill", "insulation"), "feathers": ("fill", "insulation"), "swim": ("water_resistance",),
    "swimming": ("water_resistance",), "pool": ("water_resistance",), "shower": ("water_resistance",),
}
# Yes/no specs that read as "the X is <label>".
_ADJECTIVES = frozenset({"waterproof", "insulated", "packable", "programmable", "wireless", "dishwasher_safe",
                         "fragrance_free", "noise_cancelling", "non_slip", "hydration_compatible"})
_WORDS = re.compile(r"[a-z]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# The shoppers' verdict, not a spec's rating ("what is it rated for?" asks the temperature rating).
_RATING = re.compile(r"\b(?:ratings?|rated(?!\s+(?:for|to|at|down))|stars?|reviews?|reviewers|reviewed|people say|"
                     r"customers say)\b")
# Asking whether it is worth having: the reviews answer that, not the price tag ("is it worth the price?").
_VERDICT = re.compile(r"\b(?:worth (?:it|the money|the price|buying|getting)|any good|good value)\b")
_FIT_WORDS = ("small", "large", "big", "true to size", "narrow", "wide")
# A review sentence about sizing names the fit or the size, not just "small" ("packs down small" is not a fit).
_SIZING = re.compile(r"\b(?:fits?|fitting|size[ds]?|sizing|runs?|ran)\b")
# Asking the price: "how much is it?", "what does it cost?"; not "how much does it weigh?" or "how much water?".
_PRICE = re.compile(r"\b(?:price[sd]?|costs?|expensive|cheap|pricey)\b|\bhow much(?: (?:is|are|for)\b|\s*[?.!]*$)")


@dataclass(frozen=True)
class ProductAnswer:
    text: str
    answered: bool  # False when the product's data doesn't say: the reply admits it instead of guessing


def _spec_hits(product: dict, words: list[str]) -> list[str]:
    """The specs a question asks about: through SPEC_WORDS ("heavy" -> weight), or by naming the spec itself
    ("do the jeans stretch?" -> stretch, "what is the upper made of?" -> upper)."""
    specs = product.get("specs") or {}
    fragments = [f for w in words for f in SPEC_WORDS.get(w, ())]
    named = {w for w in words if len(w) > 3}
    return [k for k in specs if any(f in k for f in fragments) or named & set(k.split("_"))]


def _review_mentions(product: dict, phrases: tuple[str, ...]) -> list[str]:
    """The review sentences that talk about fit, quoted as written."""
    sentences = (s.strip() for r in product.get("reviews", []) for s in _SENTENCE_END.split(r["text"]))
    found = [s for s in sentences if any(p in s.lower() for p in phrases) and _SIZING.search(s.lower())]
    return list(dict.fromkeys(found))  # two reviewers writing the same sentence are quoted once


def _rating_answer(product: dict, name: str) -> str:
    """The average rating and a line from up to two reviews, the best and the worst, so both sides are heard."""
    if not product.get("rating"):
        return f"{capitalised(name)} has no reviews yet."
    text = f"{capitalised(name)} is rated {product['rating']:.1f} out of 5 from {product.get('review_count', 0)} reviews."
    reviews = sorted(product.get("reviews") or [], key=lambda r: -r["rating"])
    picked = [reviews[0], reviews[-1]] if len(reviews) > 1 and reviews[0]["rating"] != reviews[-1]["rating"] \
        else reviews[:1]
    quotes = [f'"{_SENTENCE_END.split(r["text"].strip())[0]}" ({r["rating"]}/5)' for r in picked]
    return text + (" Reviewers say: " + " / ".join(quotes) if quotes else "")


def _asking_part(question: str) -> str:
    """The sentences that ask, when the message also tells a story: "My last cheap knife snapped at the handle.
    Does the steel run all the way through?" asks about the steel, not the price. The kind of question is read
    from this part; the words that name a spec come from the whole message ("for swimming. is it ok?")."""
    asked = [s for s in _SENTENCE_END.split(question.strip()) if s.endswith("?")]
    return " ".join(asked) if asked else question


def answer(product: dict, question: str) -> ProductAnswer:
    question = without_name(question, product["title"])
    words = _WORDS.findall(question.lower())
    q = _asking_part(question.lower())
    name = the(product["title"])
    cap = capitalised(name)
    if _PRICE.search(q) and not _VERDICT.search(q):
        return ProductAnswer(f"{cap} costs {money(product['final_price'])}"
                             + (f", on sale from {money(product['price'])}." if product.get("sale_price") else "."),
                             True)
    asks_sizes = re.search(r"\bsizes?\b", q) and not re.search(r"\b(run|runs|fit|fits)\b", q)
    asks_colors = re.search(r"\bcolou?rs?\b", q) or (re.search(r"\bcomes? in\b", q) and not asks_sizes)
    if asks_sizes or (asks_colors and product.get("colors")):
        sizes, colors = product.get("sizes") or [], product.get("colors") or []
        said = []
        if asks_colors and colors:
            said.append(f"{cap} comes in {', '.join(colors)}.")
        if asks_sizes:
            said.append(f"{cap} comes in sizes {', '.join(sizes)}." if sizes else f"{cap} doesn't come in sizes.")
        return ProductAnswer(" ".join(said), True)
    if re.search(r"\b(run|runs|fit|fits|sizing)\b", q) and any(w in q for w in _FIT_WORDS + ("fit", "sizing")):
        quotes = _review_mentions(product, _FIT_WORDS)
        if quotes:
            return ProductAnswer(f"Reviewers of {name} say: " + " / ".join(f'"{t}"' for t in quotes[:2]), True)
    if _VERDICT.search(q) or (_RATING.search(q) and not SPEC_WORDS.keys() & set(words)):  # "temperature rating": a spec
        return ProductAnswer(_rating_answer(product, name), True)
    if re.search(r"\b(stock|available|availability)\b", q):
        stock = product.get("stock", 0)
        return ProductAnswer(f"{cap} is {'in stock' if stock > 0 else 'out of stock right now'}.", True)
    keys = _spec_hits(product, words)
    if keys:
        specs = product["specs"]
        if len(keys) == 1 and isinstance(specs[keys[0]], bool) and keys[0] in _ADJECTIVES:
            label = spec_label(keys[0])
            return ProductAnswer(f"Yes, {name} is {label}." if specs[keys[0]]
                                 else f"No, {name} is not {label}.", True)
        return ProductAnswer(f"{cap}: " + "; ".join(spec_text(k, specs[k]) for k in keys) + ".", True)
    sentence = _matching_sentence(product.get("description") or "", words)
    if sentence:
        return ProductAnswer(f"From {name}'s description: \"{sentence}\"", True)
    return ProductAnswer(f"The product information for {name} doesn't say. I'd rather not guess - "
                         "you can ask for its details, or ask for a person to check.", False)


def _matching_sentence(description: str, words: list[str]) -> str | None:
    content = {w for w in words if len(w) > 3 and w not in {"does", "have", "this", "that", "with", "what", "about"}}
    best, best_hits = None, 0
    for sentence in re.split(r"(?<=[.!?])\s+", description):
        hits = len(content & set(_WORDS.findall(sentence.lower())))
        if hits > best_hits:
            best, best_hits = sentence.strip(), hits
    # Most of the question's content words must appear, so "how long does the battery last" isn't answered by
    # a sentence that merely says "long".
    return best if content and best_hits >= (len(content) + 1) // 2 else None
