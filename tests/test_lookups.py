"""data/lookups.yml is generated from the catalog vocabulary and must not drift from it."""
from pathlib import Path

import yaml

from assistant.catalog.vocabulary import all_brands, all_categories
from assistant.nlu.lookups import render_lookups

LOOKUPS = Path(__file__).resolve().parents[1] / "data" / "lookups.yml"


def test_lookups_file_is_current():
    assert LOOKUPS.read_text(encoding="utf-8") == render_lookups(), "run `python -m assistant lookups`"


def test_lookups_name_every_brand_and_category_and_map_typos():
    nlu = yaml.safe_load(LOOKUPS.read_text(encoding="utf-8"))["nlu"]
    lookups = {b["lookup"]: b["examples"] for b in nlu if "lookup" in b}
    synonyms = {b["synonym"]: b["examples"] for b in nlu if "synonym" in b}
    assert all(f"- {brand}\n" in lookups["brand"] for brand in all_brands())
    assert all(f"- {category}\n" in lookups["category"] for category in all_categories())
    assert "- levis\n" in synonyms["Levi's"] and "- earbuds\n" in synonyms["headphones"]
