"""The hand-written NLU training data (data/nlu.yml): shape, coverage and annotation hygiene.

Runs without Rasa: the YAML is read with PyYAML and the inline entity annotations
(`[text](entity)` and `[text]{"entity": ..., "value": ...}`) are parsed with a small regex.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NLU_FILE = ROOT / "data" / "nlu.yml"
DOMAIN_FILE = ROOT / "domain.yml"

INTENTS = [
    "greet", "goodbye", "thanks", "affirm", "deny", "search_products", "refine_search", "show_more",
    "product_details", "ask_product_question", "compare_products", "recommend", "add_to_cart",
    "remove_from_cart", "view_cart", "checkout", "order_status", "return_request", "ask_policy",
    "human_handoff", "bot_challenge", "out_of_scope", "inform", "cancel_order", "complain", "feedback", "change_quantity",
]
MIN_EXAMPLES = 30

ENTITY_TYPES = {
    "category", "brand", "color", "size", "price", "rating", "sale", "ordinal", "product", "spec", "quantity",
    "order_number", "email", "country", "policy_topic", "feedback",
}
CATEGORIES = {
    "running shoes", "hiking boots", "sneakers", "rain jackets", "down jackets", "t-shirts", "jeans", "backpacks",
    "tents", "sleeping bags", "water bottles", "yoga mats", "headphones", "smartwatches", "phone cases",
    "coffee makers", "kitchen knives", "skincare",
}
BRANDS = {
    "Nike", "Adidas", "Brooks", "Saucony", "Trailpeak", "Merrell", "Salomon", "Columbia", "Converse", "Vans",
    "Patagonia", "The North Face", "Harbor Lane Basics", "Levi's", "Wrangler", "Osprey", "MSR", "Big Agnes",
    "Coleman", "Hydro Flask", "Nalgene", "CamelBak", "Manduka", "Gaiam", "Lululemon", "Sony", "Bose", "JBL",
    "Anker", "Garmin", "Fitbit", "Amazfit", "Suunto", "OtterBox", "Spigen", "Casetify", "Breville", "De'Longhi",
    "Cuisinart", "Bodum", "Wüsthof", "Victorinox", "Shun", "Global", "CeraVe", "The Ordinary", "La Roche-Posay",
    "Kiehl's",
}
POLICY_TOPICS = {
    "shipping", "returns", "refunds", "exchanges", "payment", "price_adjustment", "warranty", "support", "rewards",
    "order_changes", "order_status",
}
APPAREL_SIZES = {"XS", "S", "M", "L", "XL", "XXL"}
CANONICAL = {"category": CATEGORIES, "brand": BRANDS, "policy_topic": POLICY_TOPICS}

# [text](entity) or [text]{json}; the entity text itself may not contain brackets.
ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<entity>[^()]+)\)|(?P<json>\{[^{}]+\}))")
EXAMPLE_LINE = re.compile(r"^- (?P<text>.*\S)\s*$")


def _load() -> dict:
    return yaml.safe_load(NLU_FILE.read_text(encoding="utf-8"))


def _blocks() -> list[dict]:
    return [block for block in _load()["nlu"] if "intent" in block]


def _examples(block: dict) -> list[str]:
    return [line for line in block["examples"].splitlines() if line.strip()]


def _all_examples() -> list[tuple[str, str]]:
    """(intent, raw example text with annotations) for every example line."""
    out = []
    for block in _blocks():
        for line in _examples(block):
            match = EXAMPLE_LINE.match(line)
            assert match, f"{block['intent']}: not an example line: {line!r}"
            out.append((block["intent"], match.group("text")))
    return out


def _annotations(example: str) -> list[dict]:
    """Parsed annotations: entity, value, text, and the start/end of the text in the plain example."""
    found, last, offset = [], 0, 0
    for match in ANNOTATION.finditer(example):
        offset += match.start() - last
        text = match.group("text")
        if match.group("json"):
            spec = json.loads(match.group("json"))  # raises on invalid JSON
            entity, value = spec.get("entity"), spec.get("value", text)
        else:
            entity, value = match.group("entity"), text
        found.append({"entity": entity, "value": value, "text": text, "start": offset, "end": offset + len(text)})
        offset += len(text)
        last = match.end()
    return found


def _plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group("text"), example)


def test_file_is_rasa_3_1_nlu_yaml():
    data = _load()
    assert str(data["version"]) == "3.1"
    assert isinstance(data["nlu"], list) and data["nlu"]
    for block in data["nlu"]:
        assert set(block) == {"intent", "examples"}, block.keys()
        assert isinstance(block["examples"], str), f"{block['intent']}: examples must be a `|` block"
    assert "\t" not in NLU_FILE.read_text(encoding="utf-8")


def test_every_intent_is_present_once_with_enough_examples():
    counts = Counter(block["intent"] for block in _blocks())
    assert sorted(counts) == sorted(INTENTS), set(counts) ^ set(INTENTS)
    assert all(n == 1 for n in counts.values()), [i for i, n in counts.items() if n > 1]
    for block in _blocks():
        assert len(_examples(block)) >= MIN_EXAMPLES, (block["intent"], len(_examples(block)))


def test_every_example_line_is_a_non_empty_single_example():
    for block in _blocks():
        for line in block["examples"].splitlines():
            assert line.strip(), f"{block['intent']}: blank line inside the examples block"
            match = EXAMPLE_LINE.match(line)
            assert match, f"{block['intent']}: {line!r}"
            assert _plain(match.group("text")).strip(" -"), f"{block['intent']}: empty example {line!r}"


def test_no_duplicate_examples_anywhere():
    normalised = Counter(" ".join(_plain(text).lower().split()) for _, text in _all_examples())
    duplicates = [text for text, n in normalised.items() if n > 1]
    assert not duplicates, duplicates


def test_annotation_brackets_are_all_well_formed():
    """Every `[` opens an annotation the parser understands: no stray brackets or half-written annotations."""
    for intent, text in _all_examples():
        leftover = ANNOTATION.sub("", text)
        assert not re.search(r"[\[\]{}]", leftover), f"{intent}: malformed annotation in {text!r}"
        # `(` right after a `]` would mean an entity annotation the regex didn't accept
        assert "](" not in leftover, f"{intent}: {text!r}"


def test_annotations_use_known_entity_types_and_valid_json():
    for intent, text in _all_examples():
        for ann in _annotations(text):
            assert ann["entity"] in ENTITY_TYPES, f"{intent}: unknown entity {ann['entity']!r} in {text!r}"
            assert isinstance(ann["value"], str) and ann["value"].strip(), f"{intent}: empty value in {text!r}"
            assert ann["text"] == ann["text"].strip(), f"{intent}: annotated text has edge spaces in {text!r}"


@pytest.mark.parametrize("entity", sorted(CANONICAL))
def test_canonical_values(entity: str):
    bad = [(intent, text) for intent, text in _all_examples()
           for ann in _annotations(text) if ann["entity"] == entity and ann["value"] not in CANONICAL[entity]]
    assert not bad, bad


def test_colors_are_lower_case_and_grey_is_spelt_grey():
    for intent, text in _all_examples():
        for ann in _annotations(text):
            if ann["entity"] == "color":
                assert ann["value"] == ann["value"].lower() and ann["value"] != "gray", (intent, text)


def test_sizes_are_shoe_numbers_or_apparel_letters():
    for intent, text in _all_examples():
        for ann in _annotations(text):
            if ann["entity"] == "size":
                value = ann["value"]
                assert value in APPAREL_SIZES or re.fullmatch(r"\d{1,2}(\.5)?", value), (intent, text)


def test_order_numbers_and_emails_look_right():
    for intent, text in _all_examples():
        for ann in _annotations(text):
            if ann["entity"] == "order_number":
                assert re.fullmatch(r"HL-\d{6}", ann["value"]), (intent, text)
            if ann["entity"] == "email":
                assert re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", ann["value"]), (intent, text)


def test_one_text_never_maps_to_two_values():
    """Rasa turns `[text]{"value": ...}` into a synonym; the same text must not point at two values."""
    seen: dict[tuple[str, str], set[str]] = {}
    for _, text in _all_examples():
        for ann in _annotations(text):
            seen.setdefault((ann["entity"], ann["text"].lower()), set()).add(ann["value"])
    conflicts = {key: values for key, values in seen.items() if len(values) > 1}
    assert not conflicts, conflicts


def test_every_entity_type_is_used_often_enough_to_learn():
    counts = Counter(ann["entity"] for _, text in _all_examples() for ann in _annotations(text))
    assert set(counts) == ENTITY_TYPES, ENTITY_TYPES - set(counts)
    thin = {entity: n for entity, n in counts.items() if n < 8}
    assert not thin, thin


def test_brand_and_category_annotations_are_spread_out():
    values: dict[str, set[str]] = {"brand": set(), "category": set()}
    for _, text in _all_examples():
        for ann in _annotations(text):
            if ann["entity"] in values:
                values[ann["entity"]].add(ann["value"])
    assert values["category"] == CATEGORIES, CATEGORIES - values["category"]
    assert len(values["brand"]) >= 35, BRANDS - values["brand"]


def test_policy_questions_name_their_topic():
    topics = Counter(ann["value"] for intent, text in _all_examples() if intent == "ask_policy"
                     for ann in _annotations(text) if ann["entity"] == "policy_topic")
    assert set(topics) == POLICY_TOPICS, POLICY_TOPICS - set(topics)


def test_intents_and_entities_are_declared_in_the_domain():
    if not DOMAIN_FILE.exists():
        pytest.skip("no domain.yml")
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    declared_intents = {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []}
    declared_entities = {e if isinstance(e, str) else next(iter(e)) for e in domain.get("entities") or []}
    used_entities = {ann["entity"] for _, text in _all_examples() for ann in _annotations(text)}
    assert set(INTENTS) <= declared_intents, set(INTENTS) - declared_intents
    assert used_entities <= declared_entities, used_entities - declared_entities
