"""Reference resolution: which shown product a follow-up means."""
import pytest

from assistant.dialogue.references import about_the_shop, asks_about_one, names_by_title, resolve

SHOWN = [
    {"id": "A", "title": "Trailpeak Ridge Runner 3", "brand": "Trailpeak"},
    {"id": "B", "title": "Sony WH-900 Wireless Headphones", "brand": "Sony"},
    {"id": "C", "title": "Bose QuietComfort 45", "brand": "Bose"},
    {"id": "D", "title": "JBL Tune 510", "brand": "JBL"},
]


@pytest.mark.parametrize("text, expected", [
    ("tell me more about the second one", ["B"]),
    ("details on the 1st", ["A"]),
    ("what's the last one like", ["D"]),
    ("compare the first two", ["A", "B"]),
    ("compare the top 3", ["A", "B", "C"]),
    ("compare 1 and 3", ["A", "C"]),
    ("which is better, the first or the third", ["A", "C"]),
    ("#4 please", ["D"]),
    ("option 2", ["B"]),
    ("add the second one in size 10", ["B"]),
    ("the Sony ones", ["B"]),
    ("compare all of them", ["A", "B", "C", "D"]),
    ("compare both", ["A", "B"]),
])
def test_resolves_positions_and_names(text, expected):
    assert resolve(text, [], SHOWN, None).product_ids == expected


def test_pronoun_prefers_the_product_in_focus():
    assert resolve("is it waterproof?", [], SHOWN, "C").product_ids == ["C"]
    assert resolve("add that to my cart", [], SHOWN, "C").product_ids == ["C"]


def test_pronoun_without_focus_means_the_first_shown():
    assert resolve("is it waterproof?", [], SHOWN, None).product_ids == ["A"]


def test_position_beyond_the_list_resolves_to_nothing():
    result = resolve("tell me about the 7th", [], SHOWN, None)
    assert result.product_ids == [] and result.how == "out_of_range"


def test_prices_and_sizes_are_not_positions():
    assert resolve("add it in size 10", [], SHOWN, "B").product_ids == ["B"]
    assert resolve("between 2 and 3 dollars", [], SHOWN, None).how != "ordinal"


def test_ordinal_entities_from_the_nlu_are_used():
    entities = [{"entity": "ordinal", "value": "third", "start": 9, "end": 14}]
    assert resolve("show the thrid", entities, SHOWN, None).product_ids == ["C"]


def test_nothing_shown_and_no_focus():
    assert resolve("the second one", [], [], None).product_ids == []


PRICED = [
    {"id": "A", "final_price": 120.0, "rating": 4.1, "specs": {"weight_g": 900}},
    {"id": "B", "final_price": 80.0, "rating": 4.7, "specs": {"weight_kg": 1.2}},
    {"id": "C", "final_price": 95.0, "rating": None, "specs": {}},
]


@pytest.mark.parametrize("text, expected", [
    ("add the cheaper one", "B"),
    ("tell me about the cheapest", "B"),
    ("I'll take the more expensive one", "A"),
    ("the best rated one please", "B"),  # a product with no rating does not win
    ("add the lighter one", "A"),  # 900 g against 1.2 kg; no weight, no say
    ("show me something cheaper", None),  # a new search, not a pick
    ("cheaper ones", None),
    ("which is cheaper?", None),  # a question about them, answered by the comparison
    ("is the third one cheaper?", None),  # the position decides
    ("the first one", None),
])
def test_a_comparison_word_picks_one_product(text, expected):
    from assistant.dialogue.references import pick_extreme

    assert pick_extreme(text, [], PRICED) == expected


@pytest.mark.parametrize("text, entities, expected", [
    ("remove the tent", [{"entity": "category", "value": "tent"}], True),
    ("what's in my basket?", [], True),
    ("how long do refunds take?", [], False),
    ("does a coffee maker fall under the electronics return window, or the regular one?",
     [{"entity": "category", "value": "coffee maker"}, {"entity": "policy_topic", "value": "returns"}], False),
])
def test_a_message_that_names_a_policy_is_a_store_question_first(text, entities, expected):
    assert about_the_shop(text, entities) is expected


def test_a_comparison_names_the_lightest_when_every_product_has_a_weight():
    from assistant.dialogue.render import comparison

    priced = [{**p, "title": p["id"], "brand": "X", "category": "tents", "price": p["final_price"], "review_count": 1}
              for p in PRICED]
    weighed = [p for p in priced if p["specs"]]
    text, _ = comparison(weighed)
    assert text.splitlines()[-1] == "Lightest: A."  # 900 g against 1.2 kg
    assert "Lightest" not in comparison(priced)[0]  # C has no weight: no claim about it


def test_every_comparison_word_has_a_figure_for_its_verdict():
    """references picks the word, render shows the figure for it: a word without one would crash the verdict."""
    from assistant.dialogue.references import _EXTREMES
    from assistant.dialogue.render import _VERDICT_FIGURES

    assert {word for _, _, word in _EXTREMES} == set(_VERDICT_FIGURES)


@pytest.mark.parametrize("text, asked", [
    ("what's the cheapest one?", True), ("which is the best-rated?", True), ("the LIGHTEST please", True),
    ("like the first one but lighter", False), ("anything cheaper?", False), ("show me tents", False),
])
def test_a_superlative_asks_which_product_a_comparative_does_not(text, asked):
    from assistant.dialogue.references import asks_superlative

    assert asks_superlative(text) == asked


RARE = {"basecamp", "32l", "plaza", "vintage"}


@pytest.mark.parametrize("text, title, named", [
    ("is the Patagonia Basecamp 32L Travel Backpack carry-on size?", "Patagonia Basecamp 32L Travel Backpack", True),
    ("does the basecamp 32l have a laptop sleeve?", "Patagonia Basecamp 32L Travel Backpack", True),
    ("is the basecamp any good? the 32l one", "Patagonia Basecamp 32L Travel Backpack", False),  # not in a row
    ("patagonia travel backpacks?", "Patagonia Basecamp 32L Travel Backpack", False),  # brand and kind only
    ("is the Vans Plaza Vintage canvas?", "Vans Plaza Vintage Men's High-Top Sneaker", True),
    ("vans high-top sneakers in size 10?", "Vans Plaza Vintage Men's High-Top Sneaker", False),
])
def test_a_product_is_named_by_two_of_its_rarer_title_words_in_a_row(text: str, title: str, named: bool) -> None:
    assert names_by_title(text, title, RARE) is named


@pytest.mark.parametrize("text, asks", [
    ("is the Basecamp 32L carry-on size?", True),
    ("does the Basecamp 32L have a laptop sleeve", True),
    ("do you have other backpacks like the Basecamp 32L?", False),
    ("anything cheaper than the Basecamp 32L?", False),
    ("Basecamp 32L in blue", False),
])
def test_a_question_about_one_product_is_told_from_a_request_for_others(text: str, asks: bool) -> None:
    assert asks_about_one(text) is asks
