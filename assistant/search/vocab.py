"""What shoppers type, mapped to the catalog's own brands, categories, colours and sizes.

The vocabulary comes from the catalog database itself (so an imported store works unchanged), plus optional
alias maps. Matching is exact first (case, accents, apostrophes, spacing and plural endings ignored), then
fuzzy with an edit budget that grows with the length of what was typed:

* under 4 letters: exact only ("the", "red", "tan" are never typos of something else);
* 4-5 letters: one insertion, deletion or swap of neighbours, but no substitution: "nkie" is Nike, while
  "nice", "bike" and "mike" are words in their own right and stay unmatched;
* 6-8 letters: one edit; 9 and more: two edits;
* the first letter must agree, a tie between two different values is no match at all, and a correctly spelt
  English word is never read as a typo ("hike" is not a misspelt "hiker"): common words are listed below, and
  any single word in the bundled MiniLM's WordPiece vocabulary (30k entries) counts as spelt right.

Known ambiguity: single-word brands that are also everyday words ("Global", "On", "Fellow") are only taken
from free text when the context says brand: written with a capital after the first word, after "by"/"from",
before "brand", or right before a category noun ("global knives"). NLU entities are trusted as given.
Sizes in free text: "size 10"/"size M" always; a bare half size ("10.5") or "S"/"M"/"L" in capitals only when
the catalog stocks it; "medium", "XL", "extra large" bare; "small"/"large" only as "in (a) large" ("a large
tent" is not a size). A bare "medium" is read as size M even where it means capacity ("a medium backpack").
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

KINDS = ("category", "brand", "color", "size")
_KIND_NAMES = {"colour": "color", "colors": "color", "colours": "color", "brands": "brand",
               "categories": "category", "product_type": "category", "sizes": "size"}

# Same colour, two spellings: whichever one the catalog uses is canonical.
COLOR_EQUIVALENTS = (("grey", "gray"), ("multicolor", "multicolour", "multi", "multi color", "multi colour"),
                     ("off white", "offwhite"))

LETTER_SIZES = {
    "xxs": "XXS", "2xs": "XXS", "xx small": "XXS", "xxsmall": "XXS", "extra extra small": "XXS",
    "xs": "XS", "x small": "XS", "xsmall": "XS", "extra small": "XS",
    "s": "S", "sm": "S", "small": "S",
    "m": "M", "med": "M", "medium": "M",
    "l": "L", "lg": "L", "large": "L",
    "xl": "XL", "x large": "XL", "xlarge": "XL", "extra large": "XL",
    "xxl": "XXL", "2xl": "XXL", "2x": "XXL", "xx large": "XXL", "xxlarge": "XXL", "extra extra large": "XXL",
    "xxxl": "XXXL", "3xl": "XXXL", "3x": "XXXL",
}
_SPOKEN_SIZES = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split())}

COMMON_WORDS = frozenset("""
a about above after all also an and any anything are around as at available back bag be best better between
big both brand but buy by can cheap cheaper cheapest colour color could deal deals do does dont else
even expensive find fine for from get gift give go good great have help her here high him his how i if im in
is it item items its just kind large less like little long look looking lot low make man many max me
men mens might min more most much my need new nice no none not now of off old on one ones only or other our
out over pair pairs perhaps please plus price prices pricey rated rating really sale same see show similar
size sizes small so some something sort still stuff such than thanks that the their them then there these
they thing things this those through to too top under up us very want was way we well what when which while
who why will with without women womens would yes you your
global fellow apple smart simple
""".split())

_BRAND_CONTEXT_BEFORE = frozenset({"by", "from", "brand"})


def _key(text: str) -> str:
    """Lower case ASCII words: accents, apostrophes and punctuation go ("Levi's" -> "levis", "Wüsthof" -> "wusthof")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['’`´]", "", text.replace("&", " and "))
    return " ".join(re.findall(r"[^\W_]+", text))


def _singular(word: str) -> str:
    """A crude singular, applied to both sides of every comparison, so it only has to be consistent."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    for ending, replacement in (("ives", "ife"), ("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"),
                                ("sses", "ss")):
        if word.endswith(ending):
            return word[: -len(ending)] + replacement
    return word[:-1] if word.endswith("s") else word


def word_forms(text: str) -> set[str]:
    """The text's words in comparison form (lower-case ASCII, each singular): for telling whether two texts share
    a word ("do you sell bikes?" against a title, "the headphones" against an order line)."""
    return {_singular(w) for w in _key(text).split()}


def form(text: str) -> str:
    """The comparison form: key, each word singular, spaces dropped ("North Face" == "northface")."""
    return "".join(_singular(w) for w in _key(text).split())


def _size_form(text: str) -> str | None:
    """'size 10 1/2' -> '10.5', 'Extra Large' -> 'XL', 'ten' -> '10'; None when it isn't shaped like a size."""
    typed = text.casefold().replace("½", ".5").strip()
    typed = re.sub(r"\s*(?:1/2|and a half)$", ".5", typed)
    typed = re.sub(r"^(?:size|sz|us|mens|men's|womens|women's)\s*", "", typed)
    number = re.fullmatch(r"0*(\d{1,2})(\.0|\.5)?", typed)
    if number:
        return number.group(1) + (".5" if number.group(2) == ".5" else "")
    spoken = re.fullmatch(r"([a-z]+)(\.5)?", typed)
    if spoken and spoken.group(1) in _SPOKEN_SIZES:
        return _SPOKEN_SIZES[spoken.group(1)] + (spoken.group(2) or "")
    return LETTER_SIZES.get(_key(typed))


@dataclass(frozen=True)
class Mention:
    kind: str
    value: str
    start: int
    end: int
    from_nlu: bool = False  # an entity the NLU model tagged, rather than a phrase found in the text


@dataclass
class Mentions:
    """Catalog values found in free text, in reading order, with their character spans."""

    items: list[Mention] = field(default_factory=list)

    def values(self, kind: str) -> list[str]:
        return list(dict.fromkeys(m.value for m in self.items if m.kind == kind))

    @property
    def brands(self) -> list[str]:
        return self.values("brand")

    @property
    def categories(self) -> list[str]:
        return self.values("category")

    @property
    def colors(self) -> list[str]:
        return self.values("color")

    @property
    def sizes(self) -> list[str]:
        return self.values("size")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


_SIZE_PHRASE = re.compile(
    r"\b(?:size|sz)(?!e?s\b)\s*(?:us\s*)?(?P<v>\d{1,2}(?:\.5|\s*1/2|½)?|x{0,3}l|x{0,3}s|m|[234]xl?|"
    r"(?:extra\s+|x-?)*(?:small|large)|medium)(?![\w.])"
    r"|(?<![\w$.])(?P<half>\d{1,2}\.5)(?![\d.])(?!\s*(?:\+|stars?|%|\$|dollars?|bucks|usd|k\b))"
    r"|\b(?P<letters>xxx?l|xl|xs|[234]xl|x-large|x-small|(?:extra\s+)+(?:small|large)|medium)\b"
    r"|\bin\s+(?:a\s+)?(?P<word>small|large)\b"
    r"|(?<![\w'’])(?P<upper>(?-i:[SML]))(?![\w'’])",
    re.IGNORECASE)
_MAX_MODEL = re.compile(r"\b[^\W\d_]+\s+max\s+(?P<n>\d+)\b", re.IGNORECASE)  # "Pace Max 8" in a title
_PRICE_WORDS_BEFORE_HALF = re.compile(r"(?:under|below|over|above|than|around|about|max|least|most|rated|\$)\s*$")


class Vocabulary:
    """Canonical catalog values per kind, with the lookup tables that map typed text onto them."""

    def __init__(self, *, brands: Iterable[str] = (), categories: Iterable[str] = (), colors: Iterable[str] = (),
                 sizes: Iterable[str] = (), aliases: Mapping[str, Mapping[str, str]] | None = None,
                 titles: Iterable[str] = ()) -> None:
        self.values: dict[str, list[str]] = {
            "brand": sorted(set(brands)), "category": sorted(set(categories)),
            "color": sorted(set(colors)), "size": sorted(set(sizes))}
        self._exact: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        for kind in ("category", "brand", "color"):
            for value in self.values[kind]:
                self._add(kind, value, value)
                if kind == "brand" and _key(value).startswith("the "):
                    self._add(kind, _key(value)[4:], value)
        self._add_color_equivalents()
        for kind, table in (aliases or {}).items():
            for alias, target in table.items():
                canonical = self._exact.get(_KIND_NAMES.get(kind, kind), {}).get(form(target))
                if canonical:
                    self._add(_KIND_NAMES.get(kind, kind), alias, canonical)
        self._sizes = {_size_form(s) or _key(s): s for s in self.values["size"]}
        self._choices = {kind: list(table) for kind, table in self._exact.items()}
        self._heads = {form(c.split()[-1]) for c in self.values["category"] if c.split()}
        self._max_models = {_spaced(m.group(0)) for title in titles for m in _MAX_MODEL.finditer(title)}

    @classmethod
    def from_db(cls, db, *, brand_aliases: Mapping[str, str] | None = None,
                category_aliases: Mapping[str, str] | None = None,
                color_aliases: Mapping[str, str] | None = None) -> Vocabulary:
        """Read the values from a catalog (a sqlite_utils.Database or a sqlite3.Connection)."""
        conn = getattr(db, "conn", db)

        def column(sql: str) -> list[str]:
            return [row[0] for row in conn.execute(sql) if row[0]]

        return cls(
            brands=column("SELECT DISTINCT brand FROM products"),
            categories=column("SELECT DISTINCT category FROM products"),
            colors=column("SELECT DISTINCT j.value FROM products, json_each(products.colors) AS j"),
            sizes=column("SELECT DISTINCT size FROM variants UNION "
                         "SELECT DISTINCT j.value FROM products, json_each(products.sizes) AS j"),
            aliases={"brand": brand_aliases or {}, "category": category_aliases or {},
                     "color": color_aliases or {}},
            titles=column("SELECT title FROM products WHERE title LIKE '% max %'"))

    def without_model_numbers(self, text: str) -> str:
        """`text` with the number of a catalog model name like "Pace Max 8" hidden ("pace max #"), however it is
        cased, so that it is not read as a budget ("max 8" = at most $8). Only names in the catalog count; the
        length stays, so character offsets (of NLU entities) still point at the same words."""
        if not self._max_models:
            return text
        return _MAX_MODEL.sub(lambda m: m.group(0)[:m.start("n") - m.start()] + "#" * len(m.group("n"))
                              if _spaced(m.group(0)) in self._max_models else m.group(0), text)

    def _add(self, kind: str, text: str, canonical: str) -> None:
        self._exact[kind].setdefault(form(text), canonical)

    def _add_color_equivalents(self) -> None:
        for group in COLOR_EQUIVALENTS:
            present = [self._exact["color"][form(c)] for c in group if form(c) in self._exact["color"]]
            for spelling in group:
                if present:
                    self._add("color", spelling, present[0])

    # ---- single values --------------------------------------------------------------------------------
    def normalise(self, kind: str, text: str) -> str | None:
        """The catalog value `text` stands for, or None.

        Sizes come back in catalog spelling, or in standard form ("14", "XL") when well formed but not stocked,
        so that asking for an unstocked size finds nothing rather than everything.
        """
        kind = _KIND_NAMES.get(kind, kind)
        if kind == "size":
            size = _size_form(text)
            return self._sizes.get(size or _key(text), size)
        if kind not in self._exact:
            return None
        exact = self._exact[kind].get(form(text))
        if exact or _key(text) in COMMON_WORDS or _key(text) in dictionary_words():
            return exact
        return self._fuzzy(form(text), (kind,))

    def _fuzzy(self, typed: str, kinds: tuple[str, ...]) -> str | None:
        budget = _edit_budget(typed)
        if not budget or not typed.isalpha():
            return None
        hits: dict[int, set[tuple[str, str]]] = {}
        for kind in kinds:
            table = self._exact[kind]
            for choice, distance, _ in process.extract(typed, self._choices[kind], scorer=OSA.distance,
                                                       score_cutoff=budget, limit=None):
                if choice[0] == typed[0] and (len(typed) > 5 or not _is_substitution(typed, choice)):
                    hits.setdefault(distance, set()).add((kind, table[choice]))
        best = hits[min(hits)] if hits else set()
        return next(iter(best))[1] if len({v for _, v in best}) == 1 else None

    def _fuzzy_kind(self, typed: str) -> tuple[str, str] | None:
        value = self._fuzzy(typed, ("category", "brand", "color"))
        if value is None:
            return None
        return next((k, value) for k in ("category", "brand", "color") if value in self._exact[k].values())

    # ---- free text ------------------------------------------------------------------------------------
    def narrows(self, typed: str, category: str) -> bool:
        """Whether `typed` is an exact alias of `category` with a word the category's name lacks ("espresso
        machine" for coffee makers; not "boots" for hiking boots, and not a misspelling)."""
        if self._exact["category"].get(form(typed)) != category:
            return False
        name = {form(w) for w in _key(category).split()}  # split alike: "t-shirts" is "t shirts" on both sides
        return any(form(w) not in name for w in _key(typed).split())

    def find_mentions(self, text: str) -> Mentions:
        """Brands, categories, colours and sizes in free text (1-3 word spans, longest first, exact before fuzzy)."""
        tokens = [_Token(m.group(), m.start(), m.end()) for m in re.finditer(r"[^\W_]+(?:['’][^\W_]+)*", text)]
        items = self._size_mentions(text)
        claimed = [any(m.start < t.end and t.start < m.end for m in items) for t in tokens]
        for fuzzy in (False, True):
            for n in (3, 2, 1):
                for i in range(len(tokens) - n + 1):
                    span = tokens[i:i + n]
                    if any(claimed[i:i + n]) or (fuzzy and not _fuzzy_worthy(span)):
                        continue
                    hit = self._lookup(" ".join(t.text for t in span), fuzzy)
                    if hit and fuzzy and hit[0] == "category" and any(m.kind == "category" for m in items):
                        continue  # one category per query: a typo-corrected guess never beats a word as typed
                    if hit:
                        claimed[i:i + n] = [True] * n
                        items.append(Mention(hit[0], hit[1], span[0].start, span[-1].end))
        items = [m for m in items if m.kind != "brand" or self._clearly_brand(m, text, tokens, items)]
        return Mentions(sorted(items, key=lambda m: m.start))

    def _lookup(self, phrase: str, fuzzy: bool) -> tuple[str, str] | None:
        if fuzzy:
            return self._fuzzy_kind(form(phrase))
        return next(((k, self._exact[k][form(phrase)]) for k in ("category", "brand", "color")
                     if form(phrase) in self._exact[k]), None)

    def _size_mentions(self, text: str) -> list[Mention]:
        found = []
        for m in _SIZE_PHRASE.finditer(text):
            name = m.lastgroup
            if name == "half" and (_PRICE_WORDS_BEFORE_HALF.search(text[:m.start()].lower())
                                   or m.group("half") not in self.values["size"]):
                continue
            size = self.normalise("size", m.group(name))
            if size and (name not in ("upper", "letters") or size in self.values["size"]):
                found.append(Mention("size", size, m.start(), m.end()))
        return found

    def _clearly_brand(self, mention: Mention, text: str, tokens: list[_Token], items: list[Mention]) -> bool:
        """Everyday-word brands ('global', 'on') need context that says brand; see the module notes."""
        typed = text[mention.start:mention.end]
        if not self._ambiguous(typed):
            return True
        index = next(i for i, t in enumerate(tokens) if t.start == mention.start)
        before = _key(tokens[index - 1].text) if index else ""
        after = _key(tokens[index + 1].text) if index + 1 < len(tokens) else ""
        next_is_category = any(m.kind == "category" and m.start >= mention.end and
                               not text[mention.end:m.start].strip() for m in items)
        return (typed[0].isupper() and index > 0 or before in _BRAND_CONTEXT_BEFORE or after in ("brand", "brands")
                or next_is_category or form(after) in self._heads)

    def _ambiguous(self, typed: str) -> bool:
        key = _key(typed)
        return " " not in key and (key in COMMON_WORDS or len(key) <= 2 or form(key) in self._exact["color"]
                                   or form(key) in self._exact["category"])


def _spaced(text: str) -> str:
    return " ".join(text.lower().split())


def _edit_budget(typed: str) -> int:
    return 0 if len(typed) < 4 else 1 if len(typed) <= 8 else 2


def _is_substitution(a: str, b: str) -> bool:
    return len(a) == len(b) and Levenshtein.distance(a, b) == 1


def _fuzzy_worthy(span: list[_Token]) -> bool:
    """Typos are looked for only in spans that start and end with a real, uncommon word, and never in a single
    word that is spelt right."""
    edges = {_key(span[0].text), _key(span[-1].text)}
    if len(span) == 1 and _key(span[0].text) in dictionary_words():
        return False
    return all(e.isalpha() and e not in COMMON_WORDS for e in edges)


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Correctly spelt English words: the whole words (not "##" pieces) of the bundled MiniLM's vocabulary.

    Empty when the model package is missing, which only makes typo matching more eager.
    """
    from assistant.settings import bundled_minilm

    folder = bundled_minilm()
    if folder is None or not (folder / "vocab.txt").exists():
        return frozenset()
    words = (folder / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha() and w.islower() and len(w) > 1)
