"""Vocabulary: typed words to catalog values (typos, plurals, accents), and mentions in free text."""
from __future__ import annotations

import json

import pytest
import sqlite_utils

from assistant.search.vocab import Vocabulary

BRANDS = ["Nike", "Adidas", "The North Face", "Levi's", "Wüsthof", "Global", "On", "Salomon", "Hoka",
          "Black Diamond", "Under Armour", "Fellow", "Sony"]
CATEGORIES = ["running shoes", "hiking boots", "headphones", "tents", "backpacks", "kitchen knives", "rain jackets",
              "t-shirts", "jeans", "smartwatches", "coffee makers"]
COLORS = ["black", "white", "grey", "red", "blue", "green", "navy", "yellow", "tan"]
SIZES = ["8", "9", "9.5", "10", "10.5", "11", "S", "M", "L", "XL"]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    aliases = {"category": {"tee": "t-shirts", "knives": "kitchen knives"}, "brand": {"tnf": "The North Face"}}
    return Vocabulary(brands=BRANDS, categories=CATEGORIES, colors=COLORS, sizes=SIZES, aliases=aliases)


@pytest.mark.parametrize("kind, typed, expected", [
    ("brand", "nkie", "Nike"),
    ("brand", "NIKE", "Nike"),
    ("brand", "addidas", "Adidas"),
    ("category", "hedphones", "headphones"),
    ("category", "runing shoes", "running shoes"),
    ("brand", "north face", "The North Face"),
    ("brand", "northface", "The North Face"),
    ("brand", "tnf", "The North Face"),
    ("color", "grey", "grey"),
    ("color", "gray", "grey"),
    ("colour", "Gray", "grey"),
    ("brand", "levis", "Levi's"),
    ("brand", "Levi’s", "Levi's"),
    ("brand", "wusthof", "Wüsthof"),
    ("brand", "WÜSTHOF", "Wüsthof"),
    ("category", "tent", "tents"),
    ("category", "backpack", "backpacks"),
    ("category", "kitchen knife", "kitchen knives"),
    ("category", "t shirt", "t-shirts"),
    ("category", "tshirts", "t-shirts"),
    ("category", "tee", "t-shirts"),
    ("category", "smart watch", "smartwatches"),
    ("color", "blak", "black"),
    ("color", "bule", "blue"),
    ("brand", "hokka", "Hoka"),
    ("size", "10 1/2", "10.5"),
    ("size", "10½", "10.5"),
    ("size", "size 10", "10"),
    ("size", "10.0", "10"),
    ("size", "ten", "10"),
    ("size", "medium", "M"),
    ("size", "x-large", "XL"),
    ("size", "xl", "XL"),
    ("size", "14", "14"),  # well formed but not stocked: kept, so the search says "none" instead of ignoring it
    ("size", "XXS", "XXS"),  # the same for a letter size smaller than any stocked
])
def test_normalise(vocab: Vocabulary, kind: str, typed: str, expected: str) -> None:
    assert vocab.normalise(kind, typed) == expected


@pytest.mark.parametrize("kind, typed", [
    ("brand", "shoes"), ("brand", "the"), ("brand", "nice"), ("brand", "bike"), ("brand", "mike"), ("brand", "like"),
    ("brand", "gucci"), ("category", "the"), ("color", "the"), ("color", "red shoes"), ("color", "bed"),
    ("category", "shoes"), ("size", "huge"), ("size", "100"), ("brand", ""), ("category", "!!!"), ("kind", "Nike"),
])
def test_no_match(vocab: Vocabulary, kind: str, typed: str) -> None:
    assert vocab.normalise(kind, typed) is None


def test_tie_between_two_values_is_no_match() -> None:
    vocab = Vocabulary(brands=["Brandon", "Branson"])
    assert vocab.normalise("brand", "Branon") is None
    assert vocab.normalise("brand", "Brandonn") == "Brandon"


def _found(vocab: Vocabulary, text: str) -> list[tuple[str, str, str]]:
    return [(m.kind, m.value, text[m.start:m.end]) for m in vocab.find_mentions(text).items]


def test_mentions_in_a_full_request(vocab: Vocabulary) -> None:
    assert _found(vocab, "show me nike running shoes in black size 10 under 100") == [
        ("brand", "Nike", "nike"), ("category", "running shoes", "running shoes"), ("color", "black", "black"),
        ("size", "10", "size 10")]


def test_mentions_with_typos(vocab: Vocabulary) -> None:
    mentions = vocab.find_mentions("10.5 nkie runing shoes, or addidas, in gray")
    assert (mentions.brands, mentions.categories, mentions.colors, mentions.sizes) == (
        ["Nike", "Adidas"], ["running shoes"], ["grey"], ["10.5"])


def test_a_category_as_typed_beats_a_typo_guess_elsewhere_in_the_text(vocab: Vocabulary) -> None:
    # "tentz" would be corrected to tents, but the message names its category exactly
    assert vocab.find_mentions("Trailmaster Tentz edition hiking boots").categories == ["hiking boots"]


@pytest.mark.parametrize("text, expected", [
    ("a hundred dollars", []),  # "red" inside "hundred"
    ("something for my trip in the mountains", []),
    ("something nice on sale", []),  # not Nike, and not the brand On
    ("global shipping times", []),
    ("under 10.5", []),
    ("4.5 stars", []),
    ("rated 9.5 or more", []),
    ("i'm looking for shoes", []),
    ("tan tents", [("color", "tan", "tan"), ("category", "tents", "tents")]),
])
def test_false_positive_guards(vocab: Vocabulary, text: str, expected: list) -> None:
    assert _found(vocab, text) == expected


@pytest.mark.parametrize("text, brand", [
    ("Global knives", "Global"),
    ("global kitchen knives", "Global"),
    ("something by fellow", "Fellow"),
    ("I want On running shoes", "On"),
    ("the Global brand", "Global"),
])
def test_everyday_word_brands_need_context(vocab: Vocabulary, text: str, brand: str) -> None:
    assert vocab.find_mentions(text).brands == [brand]


def test_longest_span_wins(vocab: Vocabulary) -> None:
    assert _found(vocab, "Black Diamond headlamp") == [("brand", "Black Diamond", "Black Diamond")]
    assert _found(vocab, "under armour shirts") == [("brand", "Under Armour", "under armour")]
    assert _found(vocab, "The North Face rain jacket") == [
        ("brand", "The North Face", "The North Face"), ("category", "rain jackets", "rain jacket")]


@pytest.mark.parametrize("text, size", [
    ("size 10", "10"), ("sz 9.5", "9.5"), ("size 10 1/2", "10.5"), ("10.5", "10.5"), ("size M", "M"),
    ("a tee in M", "M"), ("medium", "M"), ("XL", "XL"), ("xl shirt", "XL"), ("extra large", "XL"),
    ("in large", "L"), ("size 14", "14"), ("size S", "S"), ("size s", "S"),
])
def test_size_mentions(vocab: Vocabulary, text: str, size: str) -> None:
    assert vocab.find_mentions(text).sizes == [size]


@pytest.mark.parametrize("text", ["a large tent", "Me and my friend", "I'm small", "levi's jeans",
                                  "what sizes does it come in?", "only whole sizes?"])
def test_size_false_positives(vocab: Vocabulary, text: str) -> None:
    assert vocab.find_mentions(text).sizes == []


def test_from_db_reads_the_catalog() -> None:
    db = sqlite_utils.Database(memory=True)
    db["products"].insert_all([
        {"id": "A", "title": "Wüsthof Classic Chef's Knife", "brand": "Wüsthof", "category": "kitchen knives",
         "colors": json.dumps(["black", "gray"]), "sizes": "[]"},
        {"id": "B", "title": "The North Face Stormbreak Max 2 Tent", "brand": "The North Face", "category": "tents",
         "colors": json.dumps(["green"]), "sizes": json.dumps(["M"])},
    ], pk="id")
    db["variants"].insert_all([{"sku": "B-1", "product_id": "B", "color": "green", "size": "M", "stock": 1}], pk="sku")
    vocab = Vocabulary.from_db(db, category_aliases={"knives": "kitchen knives", "pots": "cookware"})
    assert vocab.values == {"brand": ["The North Face", "Wüsthof"], "category": ["kitchen knives", "tents"],
                            "color": ["black", "gray", "green"], "size": ["M"]}
    assert vocab.normalise("color", "grey") == "gray"  # the catalog's spelling wins
    assert vocab.normalise("category", "knives") == "kitchen knives"
    assert vocab.normalise("category", "pots") is None  # alias to a category this catalog lacks
    assert Vocabulary.from_db(db.conn).values == vocab.values
    assert vocab.without_model_numbers("a stormbreak max 2") == "a stormbreak max #"  # titles are read too


def test_a_correctly_spelt_word_is_never_a_typo() -> None:
    """"hike" is one letter from the alias "hiker", but it is an English word: no hiking-boots filter."""
    vocab = Vocabulary(categories=["hiking boots", "water bottles"], aliases={"category": {"hikers": "hiking boots"}})
    assert vocab.normalise("category", "hike") is None
    assert _found(vocab, "keep my coffee hot on a hike") == []
    assert vocab.normalise("category", "hikers") == "hiking boots"
    assert vocab.normalise("category", "hiekrs") == "hiking boots"  # a real typo still matches


@pytest.mark.parametrize("text, category", [
    ("Columbia Tundra Thermo Men's Down Vest", "down jackets"),  # "thermo" names thermoses, "down vest" the kind
    ("a tent that fits in a backpack", "tents"),
    ("hiking boots and a backpack", "hiking boots"),
    ("a puffy jacket for winter", "down jackets"),
    ("puffy tired eyes in the morning", None),  # a need, not a jacket: meaning search finds eye cream
])
def test_the_query_filters_on_the_category_the_message_is_about(text: str, category: str | None,
                                                                 demo_catalog) -> None:
    from assistant.catalog.build import open_catalog
    from assistant.catalog.vocabulary import BRAND_ALIASES, COLOR_SYNONYMS, category_aliases
    from assistant.search.query import build_query

    vocab = Vocabulary.from_db(open_catalog(demo_catalog), brand_aliases=BRAND_ALIASES,
                               category_aliases=category_aliases(), color_aliases=COLOR_SYNONYMS)
    assert build_query(text, [], vocab).category == category


def test_a_model_number_is_not_a_budget_however_it_is_typed() -> None:
    """"Pace Max 8" is a watch in this catalog; "max 8" elsewhere is still at most $8."""
    from assistant.search.query import build_query

    vocab = Vocabulary(categories=["smartwatches", "water bottles"],
                       titles=["Garmin Pace Max 8 GPS Watch", "Hydro Flask Trail Max 24 oz Bottle"])
    assert build_query("garmn pace max 8", [], vocab).price is None
    assert build_query("PACE  MAX 8 in black", [], vocab).price is None
    assert build_query("water bottle max 8", [], vocab).price.max == 8
    assert build_query("trail max 24 under $40", [], vocab).price.max == 40
    tagged = {"entity": "price", "value": "max 8", "start": 5, "end": 10}
    assert build_query("pace max 8", [tagged], vocab).price is None  # the NLU's price tag inside the name
    assert build_query("race max 8", [tagged], vocab).price.max == 8  # not a catalog name: a budget


@pytest.mark.parametrize("typed, category, narrows", [
    ("t-shirts", "t-shirts", False),  # the name itself, hyphen and all, adds nothing
    ("T-Shirt", "t-shirts", False),
    ("tee", "t-shirts", True),  # an alias with a word of its own
    ("tent", "tents", False),
])
def test_only_words_beyond_the_category_name_narrow_it(vocab: Vocabulary, typed: str, category: str,
                                                        narrows: bool) -> None:
    assert vocab.narrows(typed, category) is narrows


@pytest.mark.parametrize("typed", ["nevermind. show me cheap tents", "actually, never mind, tents please",
                                   "sorry, wait - tents", "add a tent to my cart", "put a tent in my cart",
                                   "what's your cheapest tent?"])
def test_words_about_the_chat_itself_are_no_search_words(vocab: Vocabulary, typed: str) -> None:
    from assistant.search.query import build_query

    query = build_query(typed, [], vocab)
    assert query.category == "tents" and query.text == ""


@pytest.mark.parametrize("typed, text", [("do you have the Outpost 3?", "outpost 3"),  # a name's number
                                         ("a tent for 4", ""), ("size 9 please", "")])
def test_a_number_stays_in_the_search_text_only_as_part_of_a_name(vocab: Vocabulary, typed: str, text: str):
    from assistant.search.query import build_query

    assert build_query(typed, [], vocab).text == text


@pytest.mark.parametrize("typed, text", [("a gift for my sister who loves hiking", "hiking"),
                                         ("my son wears hiking boots", ""),
                                         ("a gift for my dad who likes coffee", "coffee"),
                                         ("I want a gift for my mom, she does yoga", "yoga")])
def test_who_a_gift_is_for_is_no_search_word(vocab: Vocabulary, typed: str, text: str) -> None:
    from assistant.search.query import build_query

    assert build_query(typed, [], vocab).text == text
