"""The seeded demo catalog: STORE.md's categories and sizes, determinism, prices, stock, text that is varied and
never contradicts the specs, and a build that is atomic, searchable and skipped when current."""
from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from dataclasses import astuple
from itertools import islice
from pathlib import Path

import pytest

from assistant.catalog import build, generate, vocabulary
from assistant.__main__ import main
from assistant.catalog.build import build_catalog, catalog_is_current, open_catalog
from assistant.catalog.generate import generate_products
from assistant.catalog.model import PRODUCT_COLUMNS, Product

STORE_CATEGORIES = ["running shoes", "hiking boots", "sneakers", "rain jackets", "down jackets", "t-shirts", "jeans",
                    "backpacks", "tents", "sleeping bags", "water bottles", "yoga mats", "headphones",
                    "smartwatches", "phone cases", "coffee makers", "kitchen knives", "skincare"]
SHOES = {"running shoes", "hiking boots", "sneakers"}
APPAREL = {"rain jackets", "down jackets", "t-shirts", "jeans"}


@pytest.fixture(scope="module")
def catalog() -> list[Product]:
    """The default-size demo catalog, in memory."""
    return list(generate_products(2400, seed=7))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "catalog.db"
    build_catalog(path, count=300, seed=7, progress=False)
    return path


def _snapshot(products) -> list[tuple]:
    return [(p.to_row(), [astuple(v) for v in p.variants], [astuple(r) for r in p.reviews]) for p in products]


# ---- vocabulary ---------------------------------------------------------------------------------------------
def test_vocabulary_has_the_store_categories_with_three_brands_each():
    assert vocabulary.all_categories() == STORE_CATEGORIES
    assert all(len(c.brands) >= 3 for c in vocabulary.CATEGORIES)
    brands = vocabulary.all_brands()
    assert len(brands) >= 8 and len(brands) == len(set(brands))
    shared = [b for b in brands if sum(b in c.brands for c in vocabulary.CATEGORIES) > 1]
    assert {"Nike", "The North Face", "Trailpeak", "Patagonia"} <= set(shared)


def test_size_schemes_follow_the_store():
    assert vocabulary.SHOE_SIZES[0] == "6" and vocabulary.SHOE_SIZES[-1] == "13" and "9.5" in vocabulary.SHOE_SIZES
    assert len(vocabulary.SHOE_SIZES) == 15
    for category in vocabulary.CATEGORIES:
        expected = (vocabulary.SHOE_SIZES if category.name in SHOES
                    else vocabulary.APPAREL_SIZES if category.name in APPAREL else ())
        assert category.sizes == expected, category.name


def test_synonyms_point_at_known_values():
    categories, colors, brands = (set(vocabulary.all_categories()), set(vocabulary.all_colors()),
                                  set(vocabulary.all_brands()))
    assert set(vocabulary.CATEGORY_SYNONYMS) <= categories
    assert set(vocabulary.COLOR_SYNONYMS.values()) <= colors
    assert set(vocabulary.BRAND_ALIASES.values()) <= brands
    assert vocabulary.category_aliases()["earbuds"] == "headphones"
    assert vocabulary.COLOR_SYNONYMS["gray"] == "grey" and vocabulary.BRAND_ALIASES["levis"] == "Levi's"
    assert all(c == c.lower() for c in colors)


# ---- generation -----------------------------------------------------------------------------------------
def test_every_subcategory_has_words_to_describe_it():
    """Any seed may pick any brand and sub-category, so each needs its texts, not just those seed 7 reaches."""
    import random

    for category in vocabulary.CATEGORIES:
        assert {s.name for s in category.subcategories} == set(generate._USES[category.name]), category.name
        for table in (generate._MODELS, generate._ADJECTIVES, generate._BENEFITS, generate._REVIEW_PRAISE):
            assert category.name in table
        for brand in category.brands:
            assert category.subcategories_for(brand), (category.name, brand)
            for sub in category.subcategories_for(brand):
                specs = category.specs(random.Random(1), sub.name, brand)
                sub.label.format(phone="iPhone 15", **specs)
                assert set(sub.colors or category.colors) <= set(generate.COLOR_CODES)


def test_same_seed_same_catalog_other_seed_another():
    first = _snapshot(generate_products(300, seed=11))
    assert first == _snapshot(generate_products(300, seed=11))
    other = _snapshot(generate_products(300, seed=12))
    assert sum(a[0]["title"] != b[0]["title"] for a, b in zip(first, other)) > 250


def test_generation_streams_and_large_catalogs_write_fewer_reviews():
    head = list(islice(generate_products(1_000_000, seed=7), 300))
    assert [p.id for p in head[:2]] == ["HL-P000001", "HL-P000002"]
    assert max(len(p.reviews) for p in head) <= 1


def test_every_category_and_brand_is_stocked(catalog):
    by_category = Counter(p.category for p in catalog)
    assert set(by_category) == set(STORE_CATEGORIES)
    assert min(by_category.values()) >= 80
    for category in vocabulary.CATEGORIES:
        assert {p.brand for p in catalog if p.category == category.name} == set(category.brands)
    assert len({p.id for p in catalog}) == len(catalog) == 2400
    assert len({v.sku for p in catalog for v in p.variants}) == sum(len(p.variants) for p in catalog)


def test_prices_are_realistic_and_sales_are_real_discounts(catalog):
    on_sale = [p for p in catalog if p.sale_price is not None]
    assert 0.14 < len(on_sale) / len(catalog) < 0.26
    for p in catalog:
        assert f"{p.price:.2f}"[-3:] in (".99", ".95")
        assert p.final_price == (p.sale_price if p.on_sale else p.price)
    for p in on_sale:
        assert p.sale_price < p.price and 0.099 <= 1 - p.sale_price / p.price <= 0.42
        assert f"{p.sale_price:.2f}".endswith("9")
    assert any(p.final_price < 20 for p in catalog) and any(p.final_price > 400 for p in catalog)


def test_sizes_only_where_they_apply_and_variants_match(catalog):
    for p in catalog:
        scheme = (vocabulary.SHOE_SIZES if p.category in SHOES
                  else vocabulary.APPAREL_SIZES if p.category in APPAREL else ())
        assert set(p.sizes) <= set(scheme) and bool(p.sizes) == bool(scheme), p.id
        assert {v.size for v in p.variants} == (set(p.sizes) or {None})
        assert {v.color for v in p.variants} == (set(p.colors) or {None})
        assert len(p.variants) == max(1, len(p.colors)) * max(1, len(p.sizes))
        assert set(p.colors) <= set(vocabulary.all_colors())


def test_variant_stock_adds_up_and_some_is_sold_out(catalog):
    assert all(p.stock == sum(v.stock for v in p.variants) for p in catalog)
    variants = [v for p in catalog for v in p.variants]
    sold_out = sum(v.stock == 0 for v in variants) / len(variants)
    assert 0.08 < sold_out < 0.3
    assert sum(p.stock > 0 for p in catalog) / len(catalog) > 0.9


def test_ratings_skew_high_and_reviews_agree(catalog):
    rated = [p.rating for p in catalog if p.rating is not None]
    assert all(1.0 <= r <= 5.0 for r in rated) and sum(rated) / len(rated) > 3.9
    for p in catalog:
        assert (p.rating is None) == (p.review_count == 0)
        assert len(p.reviews) <= min(4, p.review_count)
        assert all(1 <= r.rating <= 5 and r.text and r.author for r in p.reviews)
        fits = {fit for r in p.reviews for fit in ("runs small", "runs large", "true to size")
                if fit in r.text.lower()}
        assert len(fits) <= 1, p.id  # one product never both runs small and true to size
        if fits:
            assert p.category in SHOES | APPAREL
    assert any("runs small" in r.text.lower() for p in catalog for r in p.reviews)


def test_specs_exist_per_category(catalog):
    required = {"running shoes": {"weight_g", "drop_mm", "cushioning", "waterproof"},
                "hiking boots": {"waterproof", "weight_g", "ankle_height"},
                "rain jackets": {"waterproof_rating", "packable", "weight_g"},
                "down jackets": {"fill_power", "insulation", "packable", "weight_g"},
                "backpacks": {"capacity_l", "weight_g", "laptop_sleeve", "hydration_compatible"},
                "tents": {"capacity_persons", "season", "weight_kg", "packed_size"},
                "sleeping bags": {"temp_rating_f", "fill", "weight_g"},
                "water bottles": {"capacity_ml", "capacity_oz", "insulated", "dishwasher_safe", "material"},
                "yoga mats": {"thickness_mm", "material", "non_slip"},
                "headphones": {"noise_cancelling", "wireless", "water_resistance"},
                "smartwatches": {"battery_life_days", "gps", "heart_rate", "water_resistance_atm"},
                "phone cases": {"compatible_phones", "drop_protection_ft", "magsafe"},
                "coffee makers": {"type", "capacity_cups", "programmable", "dishwasher_safe_parts"},
                "kitchen knives": {"blade_length_in", "steel", "dishwasher_safe"},
                "skincare": {"skin_type", "volume_ml", "fragrance_free"}}
    for p in catalog:
        assert required.get(p.category, set()) <= set(p.specs), (p.id, p.specs)
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", k) for k in p.specs)
        if p.category == "headphones":
            assert ("battery_life_h" in p.specs) == p.specs["wireless"]
        if p.category == "kitchen knives":
            assert p.specs["dishwasher_safe"] is False


def test_text_never_claims_a_feature_the_specs_deny(catalog):
    claims = {"waterproof": "waterproof", "noise_cancelling": "noise cancelling", "wireless": "wireless",
              "insulated": "insulated", "gps": "gps", "magsafe": "magsafe", "packable": "packable",
              "dishwasher_safe": "dishwasher safe", "programmable": "programmable"}
    checked = 0
    for p in catalog:
        text = " ".join([p.title, p.description, *(r.text for r in p.reviews)]).lower().replace("-", " ")
        for key, words in claims.items():
            if p.specs.get(key) is False:
                assert words not in text, (p.id, key, text)
                checked += 1
            if p.specs.get(key) is True and words in p.title.lower():
                assert key.replace("_", " ") in p.tags
    assert checked > 500


def test_descriptions_state_the_real_numbers(catalog):
    stated = re.compile(r"(-?\d+(?:\.\d+)?)(?: liters|°F| hours| days|-fill| mm thick| ATM| cups| ft|-inch blade)")
    checked = 0
    for p in catalog:
        numbers = set(re.findall(r"-?\d+(?:\.\d+)?", " ".join(str(v) for v in p.specs.values())))
        for number in stated.findall(p.description):
            assert number in numbers, (p.id, number, p.specs, p.description)
            checked += 1
    assert checked > 300


def test_descriptions_are_varied(catalog):
    descriptions = [p.description for p in catalog]
    assert len(set(descriptions)) / len(descriptions) > 0.95
    first = [d.split(". ")[0] for d in descriptions]
    assert len(set(first)) / len(first) > 0.5
    shapes = Counter(" ".join(s.split()[:2]) for s in first)  # how sentences start, names aside
    assert len(shapes) >= 30 and shapes.most_common(1)[0][1] / len(first) < 0.2
    lengths = sorted(len(d.split(". ")) for d in descriptions)
    assert lengths[0] < lengths[-1]


# ---- the built database -----------------------------------------------------------------------------------
def test_build_writes_the_documented_schema(built):
    db = open_catalog(built)
    assert tuple(db["products"].columns_dict) == PRODUCT_COLUMNS
    assert set(db["variants"].columns_dict) == {"sku", "product_id", "color", "size", "price", "stock"}
    assert set(db["reviews"].columns_dict) == {"id", "product_id", "rating", "author", "text"}
    indexed = {tuple(i.columns) for t in ("products", "variants") for i in db[t].indexes}
    assert {("category",), ("brand",), ("category", "final_price"), ("product_id", "size", "stock", "color"),
            ("size", "stock")} <= indexed
    in_stock_only = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                                  "AND sql LIKE '%WHERE stock > 0'")}
    assert {"idx_search_category", "idx_search_brand", "idx_search_price", "idx_search_sale",
            "idx_search_rating"} == in_stock_only
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    assert meta["product_count"] == "300" and meta["generator_seed"] == "7" and meta["source"] == "generator"
    assert {"schema_version", "built_at"} <= set(meta)
    bad = db.execute("SELECT COUNT(*) FROM products WHERE final_price != COALESCE(sale_price, price) "
                     "OR on_sale != (sale_price IS NOT NULL) OR stock != (SELECT SUM(stock) FROM variants v "
                     "WHERE v.product_id = products.id)").fetchone()[0]
    assert bad == 0


def test_rows_round_trip_through_the_model(built):
    db = open_catalog(built)
    generated = {p.id: p for p in generate_products(300, seed=7)}
    for row in db.query("SELECT * FROM products"):
        product = Product.from_row(row)
        expected = generated[product.id]
        assert product.to_row() == expected.to_row()
        assert isinstance(product.specs, dict) and json.loads(row["colors"]) == expected.colors


def test_fts_finds_a_product_by_a_word_of_its_title(built):
    db = open_catalog(built)
    for product_id, title in db.execute("SELECT id, title FROM products WHERE rowid % 37 = 0").fetchall():
        word = max(re.findall(r"[A-Za-z]{4,}", title), key=len)
        found = [r[0] for r in db.execute(
            "SELECT p.id FROM products_fts JOIN products p ON p.rowid = products_fts.rowid "
            "WHERE products_fts MATCH ? ORDER BY bm25(products_fts)", [f'"{word}"'])]
        assert product_id in found, (word, title)
    hits = db.execute("SELECT COUNT(*) FROM products_fts WHERE products_fts MATCH 'wusthof'").fetchone()[0]
    assert hits > 0  # accents folded


def test_open_catalog_is_read_only_and_complains_when_missing(built, tmp_path):
    db = open_catalog(built)
    with pytest.raises(Exception, match="readonly"):
        db.execute("DELETE FROM products")
    with pytest.raises(FileNotFoundError, match="catalog build"):
        open_catalog(tmp_path / "missing.db")


def test_a_failed_build_leaves_the_old_catalog_intact(tmp_path, monkeypatch):
    path = tmp_path / "catalog.db"
    build_catalog(path, count=120, seed=7, progress=False)
    before = path.read_bytes()

    def broken(job):
        if job[2] == 1:  # the second block
            raise RuntimeError("disk on fire")
        return real(job)

    real = build._block_rows
    monkeypatch.setattr(build, "_block_rows", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_catalog(path, count=1500, seed=7, progress=False, force=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.db"]  # no temp file left behind


def test_catalog_is_current_tracks_count_seed_and_file(built, tmp_path):
    assert catalog_is_current(built, 300, 7)
    assert not catalog_is_current(built, 301, 7)
    assert not catalog_is_current(built, 300, 8)
    assert not catalog_is_current(tmp_path / "missing.db", 300, 7)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert not catalog_is_current(junk, 300, 7)
    mtime = built.stat().st_mtime_ns
    report = build_catalog(built, count=300, seed=7, progress=False)
    assert report.skipped and built.stat().st_mtime_ns == mtime


def test_a_current_catalog_from_older_code_gains_the_search_indexes(built, tmp_path):
    """Skipping the rebuild must not skip the indexes: a catalog built before them gets them in place, with
    its rows (and build stamp) untouched; one that has them is not written to."""
    older = tmp_path / "older.db"
    older.write_bytes(built.read_bytes())
    with sqlite3.connect(older) as conn:
        for name in ("idx_search_price", "idx_variants_product_size"):
            conn.execute(f"DROP INDEX {name}")
    before = dict(open_catalog(older).execute("SELECT key, value FROM meta").fetchall())
    assert main(["catalog", "build", "--if-stale", "--count", "300", "--seed", "7", "--db", str(older)]) == 0
    db = open_catalog(older)
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"idx_search_price", "idx_variants_product_size"} <= names
    assert dict(db.execute("SELECT key, value FROM meta").fetchall()) == before
    assert db["products"].count == 300
    mtime = older.stat().st_mtime_ns
    assert build.add_missing_indexes(older) == 0 and older.stat().st_mtime_ns == mtime
    with sqlite3.connect(older) as conn:  # the library call skips the same way
        conn.execute("DROP INDEX idx_search_sale")
    assert build_catalog(older, count=300, seed=7, progress=False).skipped
    assert "idx_search_sale" in {row[0] for row in open_catalog(older).execute("SELECT name FROM sqlite_master")}


def test_parallel_build_writes_the_same_rows(tmp_path):
    serial, parallel = tmp_path / "serial.db", tmp_path / "parallel.db"
    build_catalog(serial, count=2100, seed=3, progress=False, workers=1)
    build_catalog(parallel, count=2100, seed=3, progress=False, workers=2)

    def dump(path):
        db = open_catalog(path)
        return [list(db.execute(f"SELECT * FROM {t} ORDER BY 1")) for t in ("products", "variants", "reviews")]

    assert dump(serial) == dump(parallel)
