"""engine.search and suggest_relaxation on a small hand-made catalog: hard filters hold, text is safe, and
relaxation suggestions are exact. Also query building and refinement end to end."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.search import engine
from assistant.search.engine import search, suggest_relaxation
from assistant.search.prices import PriceRange
from assistant.search.query import SearchQuery, build_query, refine
from assistant.search.vocab import Vocabulary

# id, title, brand, category, subcategory, price, sale_price, rating, reviews, description,
# variants as (color, size, stock)
PRODUCTS = [
    ("P01", "Nike Pegasus Road Running Shoe", "Nike", "running shoes", "road", 120.0, None, 4.6, 200,
     "Cushioned daily trainer.", [("black", "9", 3), ("black", "10", 0), ("white", "10", 2), ("black", "10.5", 1),
                                  ("white", "11", 0)]),
    ("P02", "Nike Revolution Running Shoe", "Nike", "running shoes", "road", 70.0, 55.0, 4.1, 50,
     "Budget road shoe.", [("black", "10", 4), ("grey", "11", 2)]),
    ("P03", "Adidas Ultraboost Running Shoe", "Adidas", "running shoes", "road", 180.0, None, 4.7, 20,
     "Responsive foam.", [("white", "10", 1), ("blue", "12", 5)]),
    ("P04", "Hoka Speedgoat Trail Running Shoe", "Hoka", "running shoes", "trail", 145.0, 129.99, 5.0, 1,
     "Grippy waterproof trail shoe.", [("red", "9", 2), ("black", "10", 0)]),
    ("P05", "Adidas Terrex Waterproof Hiking Boot", "Adidas", "hiking boots", "mid", 160.0, None, 4.3, 80,
     "Gore-Tex lined boot.", [("brown", "10", 3), ("brown", "11", 1)]),
    ("P06", "The North Face Vectiv Hiking Boot", "The North Face", "hiking boots", "mid", 190.0, 150.0, 3.9, 30,
     "Light and stable.", [("black", "10", 0), ("grey", "10", 2)]),
    ("P07", "Nike Dri-FIT Running T-Shirt", "Nike", "t-shirts", "running", 30.0, None, 4.0, 12,
     "Sweat-wicking tee.", [("black", "M", 5), ("red", "XL", 2), ("black", "XL", 0)]),
    ("P08", "Patagonia Capilene Cool T-Shirt", "Patagonia", "t-shirts", "outdoor", 45.0, 35.0, 4.6, 40,
     "Recycled fabric.", [("blue", "M", 3), ("grey", "L", 1)]),
    ("P09", "Sony WH-1000XM5 Wireless Headphones", "Sony", "headphones", "over-ear", 399.99, 349.99, 4.7, 500,
     "Noise cancelling, 30 hours battery.", [("black", None, 10), ("silver", None, 4)]),
    ("P10", "Bose QuietComfort Headphones", "Bose", "headphones", "over-ear", 329.0, None, 4.5, 300,
     "Quiet and comfortable.", [("black", None, 5), ("white", None, 0)]),
    ("P11", "The North Face Stormbreak 2 Tent", "The North Face", "tents", "backpacking", 199.0, None, 4.4, 60,
     "A 2 person tent for three seasons.", [("green", None, 3)]),
    ("P12", "Global G-2 Chef's Knife", "Global", "kitchen knives", "chef", 110.0, 95.0, 4.9, 150,
     "Stainless steel.", [("silver", None, 6)]),
    ("P13", "Wüsthof Classic Chef's Knife", "Wüsthof", "kitchen knives", "chef", 170.0, None, 4.8, 90,
     "Forged blade.", [("black", None, 0)]),
    ("P14", "Patagonia Black Hole Backpack 25L", "Patagonia", "backpacks", "daypack", 139.0, None, None, 0,
     "Weather resistant daypack.", [("black", None, 4), ("blue", None, 4)]),
    ("P15", "Adidas Duramo Running Shoe", "Adidas", "running shoes", "road", 60.0, None, 3.8, 10,
     "Entry level runner.", [("black", "14", 2)]),
    ("P16", "Nike Pegasus Trail Running Shoe", "Nike", "running shoes", "trail", 140.0, None, 4.6, 200,
     "Road-to-trail shoe, waterproof upper.", [("green", "14", 1), ("black", "9", 2)]),
]
COLUMNS = ("title", "brand", "description", "category", "subcategory")


def _rows(spec: tuple) -> tuple[dict, list[dict]]:
    pid, title, brand, category, sub, price, sale, rating, reviews, description, variants = spec
    product = {
        "id": pid, "sku": pid, "title": title, "brand": brand, "category": category, "subcategory": sub,
        "price": price, "sale_price": sale, "final_price": sale if sale is not None else price,
        "on_sale": int(sale is not None), "colors": json.dumps(list(dict.fromkeys(c for c, _, _ in variants))),
        "sizes": json.dumps(list(dict.fromkeys(s for _, s, _ in variants if s))), "specs": json.dumps({}),
        "rating": rating, "review_count": reviews, "stock": sum(n for _, _, n in variants),
        "description": description, "image_url": None, "tags": json.dumps([]),
    }
    rows = [{"sku": f"{pid}-{i}", "product_id": pid, "color": c, "size": s, "price": None, "stock": n}
            for i, (c, s, n) in enumerate(variants)]
    return product, rows


@pytest.fixture(scope="module")
def db() -> sqlite_utils.Database:
    database = sqlite_utils.Database(memory=True)
    built = [_rows(spec) for spec in PRODUCTS]
    database["products"].insert_all([p for p, _ in built], pk="id")
    database["variants"].insert_all([v for _, rows in built for v in rows], pk="sku",
                                    foreign_keys=[("product_id", "products", "id")])
    database["products"].enable_fts(list(COLUMNS), create_triggers=True)
    return database


@pytest.fixture(scope="module")
def vocab(db: sqlite_utils.Database) -> Vocabulary:
    return Vocabulary.from_db(db)


def _ids(result) -> list[str]:
    return [p["id"] for p in result.products]


# ---- reference check: every returned row against every constraint, in plain Python ---------------------------
def _variants(db: sqlite_utils.Database, pid: str) -> list[dict]:
    return list(db["variants"].rows_where("product_id = ?", [pid]))


def _violations(db: sqlite_utils.Database, query: SearchQuery, product: dict) -> list[str]:
    wrong = []
    if product["stock"] <= 0:
        wrong.append("out of stock")
    if query.category and product["category"] != query.category:
        wrong.append("category")
    if query.brands and product["brand"] not in query.brands:
        wrong.append("brand")
    if product["brand"] in query.exclude_brands:
        wrong.append("excluded brand")
    if query.colors and not set(query.colors) & set(product["colors"]):
        wrong.append("colour")
    if query.size and not any(v["size"] == query.size and v["stock"] > 0
                              and (not query.colors or v["color"] is None or v["color"] in query.colors)
                              for v in _variants(db, product["id"])):
        wrong.append("size")
    if query.price and not query.price.contains(product["final_price"]):
        wrong.append("price")
    if query.min_rating is not None and (product["rating"] is None or product["rating"] < query.min_rating):
        wrong.append("rating")
    if query.on_sale and not product["on_sale"]:
        wrong.append("on sale")
    return wrong


def _all_products(db: sqlite_utils.Database) -> list[dict]:
    return [dict(p, colors=json.loads(p["colors"])) for p in db["products"].rows]


BRANDS = sorted({p[2] for p in PRODUCTS})
CATEGORIES = sorted({p[3] for p in PRODUCTS})
COLORS = ["black", "white", "grey", "red", "blue", "green", "brown", "silver"]
SIZES = ["9", "10", "10.5", "11", "12", "14", "M", "L", "XL"]

queries = st.builds(
    SearchQuery,
    category=st.none() | st.sampled_from(CATEGORIES),
    brands=st.lists(st.sampled_from(BRANDS), max_size=2, unique=True),
    colors=st.lists(st.sampled_from(COLORS), max_size=2, unique=True),
    size=st.none() | st.sampled_from(SIZES),
    price=st.none() | st.builds(PriceRange, st.none() | st.integers(0, 250).map(float),
                                st.none() | st.integers(20, 400).map(float)),
    min_rating=st.none() | st.sampled_from([3.5, 4.0, 4.5, 4.8]),
    on_sale=st.booleans(),
    exclude_brands=st.lists(st.sampled_from(BRANDS), max_size=2, unique=True),
    sort=st.sampled_from(["relevance", "price_asc", "price_desc", "rating"]),
)


@settings(max_examples=150, deadline=None)
@given(query=queries)
def test_every_result_meets_every_constraint(db: sqlite_utils.Database, query: SearchQuery) -> None:
    result = search(db, query, limit=50)
    for product in result.products:
        assert _violations(db, query, product) == [], product["id"]
    expected = {p["id"] for p in _all_products(db) if not _violations(db, query, p)}
    assert set(_ids(result)) == expected and result.total == len(expected)
    assert _ids(search(db, query, limit=50)) == _ids(result)  # deterministic


@settings(max_examples=60, deadline=None)
@given(query=queries, text=st.sampled_from(["waterproof", "trail shoe", "knife", "gucci", "road running",
                                            '"); DROP TABLE products; --', "NOT AND OR", "*", "chef's"]))
def test_text_never_loosens_the_filters(db: sqlite_utils.Database, query: SearchQuery, text: str) -> None:
    query.text = text
    for product in search(db, query, limit=50).products:
        assert _violations(db, query, product) == [], product["id"]


@pytest.mark.parametrize("text", [
    '"', "'", ")", "(", "AND OR NOT", "*", "-", "-- DROP TABLE products;", "'; DROP TABLE products; --",
    'running" OR "1"="1', "NEAR(a b)", "title:nike", "^nike", "{title}: x", "nike*", "a\x00b", "  ", "🙂 shoes",
    "x" * 500, " ".join(["shoe"] * 40),
])
def test_hostile_text_is_harmless(db: sqlite_utils.Database, text: str) -> None:
    search(db, SearchQuery(text=text), limit=5)
    search(db, SearchQuery(text=text, category="running shoes"), limit=5)
    assert db["products"].count == len(PRODUCTS)


def test_text_matching_all_words_then_any(db: sqlite_utils.Database) -> None:
    result = search(db, SearchQuery(text="waterproof trail"), limit=10)
    assert (result.text_match, _ids(result)) == ("all", ["P04", "P16"])
    result = search(db, SearchQuery(text="waterproof gucci"), limit=10)
    assert result.text_match == "any" and set(_ids(result)) == {"P04", "P05", "P16"}
    assert _ids(search(db, SearchQuery(text="boots"), limit=10)) == ["P05", "P06"]  # plural s and category column


def test_a_match_on_some_words_leaves_out_the_commonest_beyond_the_budget(db: sqlite_utils.Database,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    known: dict[str, int] = {}
    counts = {t: engine._products_with(db.conn, t, known) for t in ("stainless", "waterproof", "shoe")}
    matching = {t: db.execute("SELECT COUNT(*) FROM products_fts WHERE products_fts MATCH ?",
                              [engine.match_expression([t], "any")]).fetchone()[0] for t in counts}
    # the index's count, but a product with two forms of a prefix ("shoe", "shoes") counts twice
    assert counts["stainless"] == matching["stainless"] and counts["waterproof"] == matching["waterproof"]
    assert counts["shoe"] > matching["shoe"]
    assert 0 < counts["stainless"] < counts["waterproof"] < counts["shoe"]
    tokens = engine.text_tokens("the waterproof shoe in stainless")
    assert engine._affordable(db.conn, tokens) == ["waterproof", "shoe", "stainless"]
    monkeypatch.setattr(engine, "ANY_POSTINGS", counts["stainless"] + counts["waterproof"])
    assert engine._affordable(db.conn, tokens) == ["waterproof", "stainless"]
    monkeypatch.setattr(engine, "ANY_POSTINGS", 0)  # the rarest word always stays
    assert engine._affordable(db.conn, tokens) == ["stainless"]
    result = search(db, SearchQuery(text="waterproof shoe stainless"), limit=10)
    assert (result.text_match, _ids(result)) == ("any", ["P12"])


def test_unmatched_text_falls_back_to_the_filters_only_when_there_are_filters(db: sqlite_utils.Database) -> None:
    result = search(db, SearchQuery(category="tents", text="gucci"), limit=10)
    assert (result.text_match, _ids(result)) == ("none", ["P11"])
    assert search(db, SearchQuery(text="gucci"), limit=10).total == 0


def test_size_needs_that_size_in_stock(db: sqlite_utils.Database) -> None:
    size_10 = SearchQuery(category="running shoes", size="10")
    assert set(_ids(search(db, size_10, limit=10))) == {"P01", "P02", "P03"}  # P04's only size 10 is sold out
    black_10 = SearchQuery(category="running shoes", size="10", colors=["black"])
    assert _ids(search(db, black_10, limit=10)) == ["P02"]  # P01 has size 10 only in white
    assert search(db, SearchQuery(category="t-shirts", size="XL", colors=["black"]), limit=10).total == 0


def test_out_of_stock_products_never_show(db: sqlite_utils.Database) -> None:
    assert "P13" not in _ids(search(db, SearchQuery(category="kitchen knives"), limit=10))


def test_relevance_without_text_uses_bayesian_rating(db: sqlite_utils.Database) -> None:
    # A 5.0 from one review ranks below 4.6 from 200; equal scores go cheaper first (P01 before P16).
    ids = _ids(search(db, SearchQuery(category="running shoes"), limit=10))
    assert ids[:4] == ["P03", "P01", "P16", "P04"]


def test_sorts_and_paging(db: sqlite_utils.Database) -> None:
    cheap = search(db, SearchQuery(category="running shoes", sort="price_asc"), limit=10).products
    assert [p["final_price"] for p in cheap] == sorted(p["final_price"] for p in cheap)
    dear = search(db, SearchQuery(category="running shoes", sort="price_desc"), limit=10).products
    assert dear[0]["id"] == "P03"
    page_two = search(db, SearchQuery(category="running shoes", sort="price_asc", offset=2), limit=2)
    assert _ids(page_two) == [p["id"] for p in cheap[2:4]] and page_two.total == len(cheap)


def test_rows_come_decoded(db: sqlite_utils.Database) -> None:
    product = search(db, SearchQuery(brands=["Sony"]), limit=1).products[0]
    assert product["colors"] == ["black", "silver"] and product["specs"] == {} and "_score" not in product


def test_relaxation_raises_the_budget_to_the_cheapest_match(db: sqlite_utils.Database) -> None:
    query = SearchQuery(category="running shoes", brands=["Nike"], size="10", price=PriceRange(None, 50))
    assert search(db, query).total == 0
    [price] = suggest_relaxation(db, query)
    assert (price.constraint, price.count, price.cheapest, price.query.price) == ("price", 1, 55.0,
                                                                               PriceRange(None, 55))
    assert price.describe() == "There is 1 if you raise the budget to $55"
    full_price = suggest_relaxation(db, SearchQuery(category="running shoes", brands=["Adidas"], on_sale=True))
    assert [r.describe() for r in full_price] == ["There are 2 from other brands", "There are 2 at full price"]
    hoka = suggest_relaxation(db, SearchQuery(brands=["Hoka"], price=PriceRange(None, 100)))[0]
    assert hoka.describe() == "There is 1 if you raise the budget to $130 (the cheapest is $129.99)"


def test_relaxation_tries_each_constraint(db: sqlite_utils.Database) -> None:
    query = SearchQuery(category="running shoes", brands=["Nike"], size="14", colors=["black"],
                        price=PriceRange(None, 100))
    found = {r.constraint: r for r in suggest_relaxation(db, query)}
    # Price: no black Nike in 14 at any price. Colour: the green 14 is over budget. Size: the black P02 fits.
    assert set(found) == {"size", "brand"}
    assert _ids(search(db, found["size"].query)) == ["P02"]
    assert _ids(search(db, found["brand"].query)) == ["P15"]
    assert found["brand"].describe() == "There is 1 from other brands"
    for relaxation in found.values():
        assert relaxation.count == search(db, relaxation.query).total


def test_relaxation_lowers_a_minimum(db: sqlite_utils.Database) -> None:
    query = SearchQuery(category="tents", price=PriceRange(300, None))
    [price] = suggest_relaxation(db, query)
    assert price.query.price == PriceRange(199, None) and price.describe() == "There is 1 if you go down to $199"


def test_no_relaxation_when_results_exist_or_nothing_helps(db: sqlite_utils.Database) -> None:
    assert suggest_relaxation(db, SearchQuery(category="tents")) == []
    assert suggest_relaxation(db, SearchQuery(category="tents", brands=["Nike"], colors=["pink"])) == []


# ---- queries from text, end to end ---------------------------------------------------------------------------
def test_build_query_from_text(db: sqlite_utils.Database, vocab: Vocabulary) -> None:
    query = build_query("black nkie running shoes size 10 under 80 bucks", [], vocab)
    assert (query.category, query.brands, query.colors, query.size, query.price) == (
        "running shoes", ["Nike"], ["black"], "10", PriceRange(None, 80))
    assert query.describe() == "black Nike running shoes, size 10, under $80"
    assert _ids(search(db, query)) == ["P02"]


def test_entities_win_but_are_normalised(vocab: Vocabulary) -> None:
    text = "nike running shoes"
    entities = [{"entity": "brand", "value": "addidas", "start": 0, "end": 4},
                {"entity": "colour", "value": "gray", "start": None, "end": None}]
    query = build_query(text, entities, vocab)
    assert (query.brands, query.colors, query.category) == (["Adidas"], ["grey"], "running shoes")


def test_the_size_asked_for_is_the_last_one_named(vocab: Vocabulary) -> None:
    text = "I'm between a 10 and an 11. do you have running shoes in a 10.5?"
    spans = [(text.index(v), text.index(v) + len(v)) for v in (" 10 ", " 11.", "10.5")]
    entities = [{"entity": "size", "value": text[s:e].strip(" ."), "start": s, "end": e} for s, e in spans]
    assert build_query(text, entities, vocab).size == "10.5"
    assert build_query(text, list(reversed(entities)), vocab).size == "10.5"  # by place in the text, not order
    tagged = "do you have these in a 10.5 or only in size M"
    nlu = [{"entity": "size", "value": "10.5", "start": 23, "end": 27}]
    assert build_query(tagged, nlu, vocab).size == "10.5"  # the NLU's size outranks one found in the text


@pytest.mark.parametrize("text, field, value", [
    ("running shoes on sale", "on_sale", True),
    ("discounted headphones", "on_sale", True),
    ("any deals on tents", "on_sale", True),
    ("4 stars headphones", "min_rating", 4.0),
    ("4+ stars", "min_rating", 4.0),
    ("rated 4.5 or more", "min_rating", 4.5),
    ("highly rated tents", "min_rating", 4.0),
    ("cheap headphones", "sort", "price_asc"),
    ("budget friendly backpack", "sort", "price_asc"),
    ("best headphones", "sort", "rating"),
    ("top rated tents", "sort", "rating"),
    ("cheapest of the best", "sort", "price_asc"),
    ("not nike running shoes", "exclude_brands", ["Nike"]),
    ("anything but Nike or Adidas", "exclude_brands", ["Nike", "Adidas"]),
    ("waterproof hiking boots", "text", "waterproof"),
    ("show me some gucci running shoes please", "text", "gucci"),
    ("tents for 4 people", "people", 4),
    ("a 2-person tent", "people", 2),
    ("a tent that sleeps three", "people", 3),
    ("tents for 4 people", "text", ""),  # the count is a filter, not words to match ("4" in "HV 4 2-Person")
    ("4 stars tents", "people", None),
    ("a 3 man tent", "people", 3),
    ("size 10 man's trail shoes", "people", None),
])
def test_cues(vocab: Vocabulary, text: str, field: str, value) -> None:
    assert getattr(build_query(text, [], vocab), field) == value


def test_refine_follow_ups(vocab: Vocabulary) -> None:
    query = build_query("nike running shoes size 10 under 150", [], vocab)
    query = refine(query, "cheaper", [], vocab, shown_prices=[120.0, 55.0])
    assert query.price == PriceRange(None, 87.49) and query.brands == ["Nike"] and query.size == "10"
    query = refine(query, "in black", [], vocab)
    assert query.colors == ["black"] and query.price == PriceRange(None, 87.49)
    query = refine(query, "only Adidas", [], vocab)
    assert query.brands == ["Adidas"] and query.colors == ["black"]
    query = refine(query, "what about size 11", [], vocab)
    assert query.size == "11"
    query = refine(query, "under 200", [], vocab)
    assert query.price == PriceRange(None, 200)
    query = refine(query, "only on sale", [], vocab)
    assert query.on_sale and query.category == "running shoes"
    query = refine(query, "more expensive", [], vocab, shown_prices=[60.0, 70.0])
    assert query.price == PriceRange(65.01, 200)
    query = refine(query, "also hoka", [], vocab)
    assert query.brands == ["Adidas", "Hoka"]
    query = refine(query, "any brand", [], vocab)
    assert query.brands == [] and query.describe() == "black running shoes, size 11, between $65.01 and $200, on sale"


def test_more_expensive_after_cheaper_lifts_the_cap_cheaper_set(vocab: Vocabulary) -> None:
    """"cheaper" puts a cap just under the prices shown; "more expensive" then has no room under it, so the cap
    goes. A budget the shopper stated, well above what was shown, stays (test_refine_follow_ups)."""
    query = refine(build_query("hiking boots under 150", [], vocab), "cheaper", [], vocab,
                   shown_prices=[100.0, 110.0, 120.0])
    assert query.price == PriceRange(None, 109.99)
    query = refine(query, "more expensive ones", [], vocab, shown_prices=[60.0, 80.0, 105.0])
    assert query.price == PriceRange(80.01, None)
    query = refine(query, "cheaper", [], vocab, shown_prices=[82.0, 130.0, 200.0])
    assert query.price == PriceRange(None, 129.99)  # the floor "more expensive" set goes the same way


def test_what_about_another_thing_searches_it_instead(vocab: Vocabulary) -> None:
    query = build_query("do you sell bikes?", [], vocab)
    assert refine(query, "what about helmets?", [], vocab).text == "helmets"
    assert refine(query, "electric ones", [], vocab).text == "bikes electric"  # more words for the same thing
    boots = build_query("hiking boots", [], vocab)
    assert refine(boots, "what about waterproof ones?", [], vocab).text == "waterproof"  # the kind stays


def test_refine_without_shown_prices_sorts(vocab: Vocabulary) -> None:
    query = refine(SearchQuery(category="tents", price=PriceRange(100, 300)), "cheaper", [], vocab)
    assert query.sort == "price_asc" and query.price == PriceRange(None, 300)


def test_refine_switching_category_drops_size(vocab: Vocabulary) -> None:
    query = refine(SearchQuery(category="running shoes", size="10", brands=["Nike"], offset=10),
                   "what about backpacks", [], vocab)
    assert (query.category, query.size, query.brands, query.offset) == ("backpacks", None, ["Nike"], 0)
    query = refine(SearchQuery(category="tents", people=4), "cheaper", [], vocab)
    assert query.people == 4 and query.describe() == "tents, for 4 people"
    assert refine(query, "what about backpacks", [], vocab).people is None


def test_describe_empty_query_is_empty() -> None:
    assert SearchQuery().describe() == "" and SearchQuery(sort="rating").describe() == ""


# ---- the fast paths agree with the plain ones ---------------------------------------------------------------
light_queries = st.builds(  # filters that leave something to rank
    SearchQuery,
    category=st.none() | st.sampled_from(CATEGORIES),
    brands=st.lists(st.sampled_from(BRANDS), max_size=2, unique=True),
    price=st.none() | st.builds(PriceRange, st.none(), st.integers(60, 200).map(float)),
    on_sale=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(query=light_queries, text=st.sampled_from(["shoe", "running shoe", "trail", "boot", "the north", "nike",
                                                  "chef knife", "waterproof", "running nike adidas"]),
       depth=st.integers(1, 6), mode=st.sampled_from(["all", "any"]))
def test_ranked_matches_equal_the_filtered_bm25_ranking(db: sqlite_utils.Database, query: SearchQuery, text: str,
                                                       depth: int, mode: str) -> None:
    """The index-first pool must give exactly what ranking every match under the filters gives, also when the
    filters empty the pool and it falls back; and narrowing the match by category and brand must not lose a
    product the filters allow."""
    match = engine.match_expression(engine.text_tokens(text), mode)
    joined = [r[0] for r in engine._select(db.conn, query, "p.rowid", match, "bm25(products_fts), p.rowid", None)]
    ranked, total = engine._ranked_matches(db.conn, query, match, depth)
    assert ranked == joined[:depth]
    assert total in (None, min(len(joined), engine.COUNT_LIMIT + 1))  # a count, when it came with the ranking
    clauses, params = engine._filters(query)
    unnarrowed = db.conn.execute("SELECT p.rowid FROM products p JOIN products_fts ON products_fts.rowid = p.rowid "
                                 f"WHERE products_fts MATCH ? AND {' AND '.join(clauses)}", [match, *params])
    assert set(joined) == {r[0] for r in unnarrowed}


@pytest.mark.parametrize("sort", ["relevance", "rating", "price_asc", "price_desc"])
@pytest.mark.parametrize("count_limit", [3, 1000])
def test_pages_tile_the_whole_ranking_in_every_sort(db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch,
                                                    sort: str, count_limit: int) -> None:
    """Pages read one at a time, however the page is found (ranked with its count in one statement, or past
    the counting limit and by price with LIMIT/OFFSET), give the whole ranking once, in order."""
    monkeypatch.setattr(engine, "COUNT_LIMIT", count_limit)
    query = SearchQuery(sort=sort, price=PriceRange(None, 200.0))
    whole = _ids(search(db, query, limit=50))
    pages = [_ids(search(db, replace(query, offset=offset), limit=2)) for offset in range(0, len(whole) + 2, 2)]
    assert [pid for page in pages for pid in page] == whole and len(whole) > 5
    counted = search(db, query, limit=1)
    assert (counted.total, counted.capped) == (min(len(whole), count_limit), len(whole) > count_limit)


def test_counting_stops_at_the_limit_and_says_so(db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "COUNT_LIMIT", 3)
    result = search(db, SearchQuery(category="running shoes"), limit=2)
    assert (result.total, result.capped, result.shown_total) == (3, True, "3+")
    assert len(result.products) == 2
    exact = search(db, SearchQuery(category="hiking boots"), limit=2)
    assert (exact.total, exact.capped, exact.shown_total) == (2, False, "2")
    relaxed = suggest_relaxation(db, SearchQuery(category="running shoes", size="8"))
    assert [r.describe() for r in relaxed] == ["There are 3+ in other sizes"]
