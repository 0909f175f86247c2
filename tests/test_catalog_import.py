"""Importing a store's own catalog: Shopify CSV (variants, sales, HTML), generic CSV and JSON; errors that name
the spreadsheet row and column; a failed import that leaves the current catalog byte for byte."""
from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from assistant.__main__ import main
from assistant.catalog.build import ImportedCatalogOutdated, build_catalog, catalog_is_current, open_catalog
from assistant.catalog.importer import CatalogImportError, detect_format, html_to_text, import_catalog

SAMPLE = Path(__file__).parent / "fixtures" / "shopify_sample.csv"


def _products(db_path: Path) -> dict[str, dict]:
    db = open_catalog(db_path)
    return {row["id"]: row for row in db.query("SELECT * FROM products")}


def _variants(db_path: Path, product_id: str) -> list[dict]:
    return list(open_catalog(db_path).query("SELECT * FROM variants WHERE product_id = ? ORDER BY sku", [product_id]))


def _edited_sample(tmp_path: Path, edits: dict[tuple[int, str], str]) -> Path:
    """The sample with cells changed, addressed as a spreadsheet user would: (row number, column name)."""
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for (row_number, column), value in edits.items():
        rows[row_number - 1][rows[0].index(column)] = value
    path = tmp_path / "edited.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_shopify_sample_imports_with_variants_sales_and_plain_text(tmp_path):
    db_path = tmp_path / "catalog.db"
    report = import_catalog(db_path, SAMPLE)
    assert (report.fmt, report.products, report.variants, report.skipped) == ("shopify", 4, 11, 1)
    products = _products(db_path)
    assert set(products) == {"coastal-crew-tee", "ridgeline-waterproof-boot", "gooseneck-kettle", "trail-bottle"}

    tee = products["coastal-crew-tee"]
    assert (tee["price"], tee["sale_price"], tee["final_price"], tee["on_sale"]) == (30.0, 24.0, 24.0, 1)
    assert (tee["category"], tee["brand"], tee["stock"]) == ("t-shirts", "Harbor Lane Basics", 27)
    assert json.loads(tee["colors"]) == ["navy", "white"] and json.loads(tee["sizes"]) == ["S", "M", "L"]
    assert tee["description"] == "Our softest tee, cut from organic cotton & made to last. Relaxed fit. Pre-shrunk"
    assert json.loads(tee["tags"]) == ["cotton", "summer", "new"] and json.loads(tee["specs"]) == {"weight_g": 180}
    assert tee["image_url"] == "https://cdn.example.com/tee-navy.jpg"
    navy_l = next(v for v in _variants(db_path, "coastal-crew-tee") if v["sku"] == "HLB-TEE-NVY-L")
    assert (navy_l["color"], navy_l["size"], navy_l["stock"]) == ("navy", "L", 0)

    boot = products["ridgeline-waterproof-boot"]
    assert boot["on_sale"] == 0 and boot["sale_price"] is None  # compare-at equal to the price is no sale
    assert "<" not in boot["description"] and "—" in boot["description"]
    assert [v["size"] for v in _variants(db_path, "ridgeline-waterproof-boot")] == ["10", "9", "9.5"]

    kettle = products["gooseneck-kettle"]  # no Type: the last step of Product Category; "Default Title": no options
    assert kettle["category"] == "kettles" and json.loads(kettle["sizes"]) == []
    assert "track" not in kettle["description"] and kettle["description"].startswith("Pour like a barista.")
    assert [(v["sku"], v["color"], v["size"]) for v in _variants(db_path, "gooseneck-kettle")] == [
        ("KET-01", None, None)]

    bottle = products["trail-bottle"]  # priced from its cheapest variant; the other keeps its own price
    assert (bottle["price"], bottle["sale_price"]) == (40.0, 32.0)
    assert {v["color"]: v["price"] for v in _variants(db_path, "trail-bottle")} == {"black": None, "sage": 34.0}

    db = open_catalog(db_path)
    found = db.execute("SELECT p.id FROM products_fts JOIN products p ON p.rowid = products_fts.rowid "
                       "WHERE products_fts MATCH 'organic'").fetchall()
    assert found == [("coastal-crew-tee",)]
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    assert meta["source"] == "import:shopify:shopify_sample.csv" and meta["product_count"] == "4"


def test_formats_are_detected(tmp_path):
    assert detect_format(SAMPLE) == "shopify"
    plain = tmp_path / "plain.csv"
    plain.write_text("id,title,price\na,A,1\n")
    assert detect_format(plain) == "csv"
    data = tmp_path / "export.txt"
    data.write_text('[{"title": "A", "price": 1}]')
    assert detect_format(data) == "json"


def test_bad_price_and_missing_title_name_the_row_and_field(tmp_path):
    # Row 2's description spans several lines of the file: rows are counted as a spreadsheet shows them.
    source = _edited_sample(tmp_path, {(9, "Variant Price"): "abc", (11, "Title"): ""})
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(tmp_path / "catalog.db", source)
    assert caught.value.errors == ['row 9, field "Variant Price": "abc" is not a price',
                                   'row 11, field "Title": missing']
    assert not (tmp_path / "catalog.db").exists()


def test_errors_are_collected_up_to_a_limit(tmp_path):
    rows = "".join(f"p{i},Thing {i},cheap\n" for i in range(40))
    source = tmp_path / "many.csv"
    source.write_text("id,title,price\n" + rows)
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(tmp_path / "catalog.db", source)
    assert len(caught.value.errors) == 21 and caught.value.errors[-1] == "(stopped after 20 errors)"
    assert caught.value.errors[0] == 'row 2, field "price": "cheap" is not a price'


def test_a_failed_import_leaves_the_catalog_byte_identical(tmp_path):
    db_path = tmp_path / "catalog.db"
    build_catalog(db_path, count=100, seed=7, progress=False)
    before = db_path.read_bytes()
    with pytest.raises(CatalogImportError):
        import_catalog(db_path, _edited_sample(tmp_path, {(3, "Variant Inventory Qty"): "lots"}))
    duplicate_sku = _edited_sample(tmp_path, {(14, "Variant SKU"): "TP-BTL-BLK"})
    with pytest.raises(CatalogImportError, match='row 14, field "sku": "TP-BTL-BLK" is also used on row 13'):
        import_catalog(db_path, duplicate_sku)
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.db", "edited.csv"]


def test_json_import_with_aliases(tmp_path):
    source = tmp_path / "products.json"
    source.write_text(json.dumps({"products": [
        {"handle": "alpine-mug", "name": "Alpine Camp Mug", "vendor": "Trailpeak", "product_type": "Camp Kitchen",
         "body_html": "<p>Enamel mug &amp; lid.</p>", "price": "18.00", "sale_price": 14.5, "tags": "camp, mug",
         "colours": ["Red", "Blue"], "stock": 9, "spec_capacity_ml": 350,
         "reviews": [{"rating": 5, "author": "Ana", "text": "Great mug."}, {"rating": 4, "text": "Nice."}]},
        {"title": "Trail Sock", "brand": "Trailpeak", "category": "Socks", "price": 16,
         "variants": [{"sku": "SOCK-M", "size": "M", "quantity": 4},
                      {"sku": "SOCK-L", "size": "L", "inventory_quantity": 0, "price": 14,
                       "compare_at_price": 16}],
         "specs": {"material": "merino wool"}},
    ]}))
    report = import_catalog(tmp_path / "catalog.db", source)
    assert (report.fmt, report.products, report.variants) == ("json", 2, 4)
    assert any("spread evenly" in w for w in report.warnings)  # the mug lists colours but no variants
    products = _products(tmp_path / "catalog.db")
    mug = products["alpine-mug"]
    assert (mug["title"], mug["brand"], mug["category"]) == ("Alpine Camp Mug", "Trailpeak", "camp kitchen")
    assert (mug["price"], mug["sale_price"], mug["stock"], mug["description"]) == (18.0, 14.5, 9, "Enamel mug & lid.")
    assert json.loads(mug["colors"]) == ["red", "blue"] and json.loads(mug["specs"]) == {"capacity_ml": 350}
    assert (mug["rating"], mug["review_count"]) == (4.5, 2)
    assert [v["stock"] for v in _variants(tmp_path / "catalog.db", "alpine-mug")] == [5, 4]
    sock = products["trail-sock"]  # no id: a slug of the title
    assert (sock["price"], sock["sale_price"], sock["stock"]) == (16.0, 14.0, 4)
    assert json.loads(sock["sizes"]) == ["M", "L"] and json.loads(sock["specs"]) == {"material": "merino wool"}


def test_json_product_feed_without_ids_or_stock(tmp_path):
    """A feed laid out like public e-commerce demo data: a name, a category path, no ids, no inventory, and one
    title listed twice."""
    charger = {"name": "Acme - Car Charger - Black", "brand": "Acme", "price": 19.99, "popularity": 10,
               "categories": ["Cell Phones", "Cell Phone Accessories", "Car Chargers"],
               "image": "https://example.com/charger.jpg", "description": "Charges two phones at once."}
    source = tmp_path / "feed.json"
    source.write_text(json.dumps([charger, {**charger, "price": 17.99, "popularity": 9},
                                  {"name": "Acme Phone", "brand": "Acme", "categories": ["Cell Phones"], "price": 99}]))
    report = import_catalog(tmp_path / "catalog.db", source)
    products = _products(tmp_path / "catalog.db")
    assert sorted(products) == ["acme-car-charger-black", "acme-car-charger-black-2", "acme-phone"]
    charger_row = products["acme-car-charger-black"]
    assert (charger_row["category"], charger_row["image_url"]) == ("car chargers", "https://example.com/charger.jpg")
    assert products["acme-phone"]["category"] == "cell phones"
    assert [p["stock"] for p in products.values()] == [1, 1, 1]
    assert any("counts as in stock" in w for w in report.warnings)
    assert 'products without an id that share a title get numbered ids' in report.warnings
    assert 'ignored field "popularity" (2 times)' in report.warnings

    # a file that does track stock keeps a missing one at 0, and a given id must still be unique
    source.write_text(json.dumps([{"id": "a", "title": "A", "price": 1, "stock": 2},
                                  {"id": "b", "title": "B", "price": 1}]))
    import_catalog(tmp_path / "catalog.db", source)
    assert {i: p["stock"] for i, p in _products(tmp_path / "catalog.db").items()} == {"a": 2, "b": 0}
    source.write_text(json.dumps([{"id": "a", "title": "A", "price": 1}, {"id": "a", "title": "B", "price": 1}]))
    with pytest.raises(CatalogImportError, match='"a" is also the id of product 1'):
        import_catalog(tmp_path / "catalog.db", source)


def test_json_errors_name_the_product_and_field(tmp_path):
    source = tmp_path / "bad.json"
    source.write_text(json.dumps([{"title": "A", "price": 5},
                                  {"title": "", "price": "five", "variants": [{"sku": "X", "stock": -1.5}]}]))
    with pytest.raises(CatalogImportError) as caught:
        import_catalog(tmp_path / "catalog.db", source)
    assert caught.value.errors == ['product 2, field "title": missing',
                                   'product 2, field "price": "five" is not a price',
                                   'product 2, field "variants[1].stock": "-1.5" is not a whole number']


def test_generic_csv_rows_sharing_an_id_are_one_product(tmp_path):
    source = tmp_path / "store.csv"
    source.write_text("ID,Title,Brand,Category,Price,Sale Price,Color,Size,Stock,SKU,spec_weight_g,Notes\n"
                      "jkt-1,Harbor Shell,Trailpeak,Rain Jackets,120,99.99,Navy,M,3,JKT-1-M,410,internal\n"
                      "jkt-1,,,,,,Navy,L,0,JKT-1-L,,\n"
                      "cap-1,Harbor Cap,Trailpeak,Hats,25,,Olive|Tan,,4,,,\n")
    report = import_catalog(tmp_path / "catalog.db", source, fmt="csv")
    assert (report.products, report.variants) == (2, 4)
    assert 'ignored field "Notes" (3 times)' in report.warnings
    products = _products(tmp_path / "catalog.db")
    jacket = products["jkt-1"]
    assert (jacket["price"], jacket["sale_price"], jacket["stock"], jacket["category"]) == (
        120.0, 99.99, 3, "rain jackets")
    assert json.loads(jacket["sizes"]) == ["M", "L"] and json.loads(jacket["specs"]) == {"weight_g": 410}
    assert [v["sku"] for v in _variants(tmp_path / "catalog.db", "jkt-1")] == ["JKT-1-L", "JKT-1-M"]
    assert jacket["sku"] == "JKT-1"
    assert json.loads(products["cap-1"]["colors"]) == ["olive", "tan"]


def test_sale_price_must_be_below_price(tmp_path):
    source = tmp_path / "store.csv"
    source.write_text("id,title,price,sale_price\na,A,10,12\n")
    with pytest.raises(CatalogImportError, match='row 2, field "sale_price": 12.00 is not below the price 10.00'):
        import_catalog(tmp_path / "catalog.db", source)


def test_import_replaces_by_default_and_can_add(tmp_path):
    db_path = tmp_path / "catalog.db"
    build_catalog(db_path, count=50, seed=7, progress=False)
    import_catalog(db_path, SAMPLE)
    assert len(_products(db_path)) == 4
    assert catalog_is_current(db_path, 2400, 7)  # `build --if-stale` must not overwrite a store's catalog

    build_catalog(db_path, count=50, seed=7, progress=False, force=True)
    import_catalog(db_path, SAMPLE, replace=False)
    import_catalog(db_path, SAMPLE, replace=False)  # again: same ids are replaced, not duplicated
    products = _products(db_path)
    assert len(products) == 54 and "coastal-crew-tee" in products and "HL-P000001" in products
    assert len(_variants(db_path, "coastal-crew-tee")) == 5


def test_an_import_from_an_older_schema_is_never_replaced_by_the_demo_catalog(tmp_path, capsys):
    """A schema change must not make setup's `build --if-stale` swap a store's products for the demo's: it
    stops with the way out, and only `--force` replaces the import."""
    db_path = tmp_path / "catalog.db"
    import_catalog(db_path, SAMPLE)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")  # an older schema
    before = db_path.read_bytes()
    with pytest.raises(ImportedCatalogOutdated, match="Import it again"):
        build_catalog(db_path, count=50, seed=7, progress=False)
    assert main(["catalog", "build", "--if-stale", "--count", "50", "--db", str(db_path)]) == 1
    error = capsys.readouterr().err
    assert "catalog left unchanged" in error and f"catalog import {SAMPLE.name}" in error
    assert db_path.read_bytes() == before
    assert main(["catalog", "build", "--force", "--count", "50", "--db", str(db_path)]) == 0
    assert len(_products(db_path)) == 50


def test_missing_source_and_unknown_format(tmp_path):
    with pytest.raises(CatalogImportError, match="no such file"):
        import_catalog(tmp_path / "catalog.db", tmp_path / "nope.csv")
    with pytest.raises(CatalogImportError, match='unknown format "xml"'):
        import_catalog(tmp_path / "catalog.db", SAMPLE, fmt="xml")


def test_html_to_text():
    assert html_to_text("<p>Warm &amp; dry.</p><ul><li>Light</li><li>Packable</li></ul>") == (
        "Warm & dry. Light. Packable")
    assert html_to_text("Plain text, no tags") == "Plain text, no tags"
    assert html_to_text("<style>p {}</style><p>Hi<br/>there</p>") == "Hi. there"
