"""Import a store's own catalog: Shopify's product CSV export, a simple CSV, or a JSON list of products.

Every row is checked before anything is written, and problems are reported together (up to MAX_ERRORS), each
naming where it is the way the shopkeeper sees the file: the spreadsheet row (header = row 1; a quoted
multi-line description is still one row) or the product's position in a JSON list, and the column. The new
catalog is written to a temporary file that replaces the current one only on success (build.replacing), so a
failed import leaves the current catalog exactly as it was. Categories, colours and brands are kept as the
store writes them (categories and colours lower-cased): the search vocabulary is read from the catalog.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from assistant.catalog.build import finish_catalog, replacing, write_products
from assistant.catalog.model import Product, Review, Variant

MAX_ERRORS = 20
FORMATS = ("shopify", "csv", "json")


class CatalogImportError(ValueError):
    """The source cannot be imported; `errors` lists every problem found, one line each."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class ImportReport:
    path: Path
    source: Path
    fmt: str
    products: int
    variants: int
    skipped: int  # unpublished / draft products left out
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.products:,} products ({self.variants:,} variants) from {self.source.name} as {self.fmt}"
        if self.skipped:
            text += f", {self.skipped} unpublished skipped"
        return "\n".join([text, *(f"warning: {w}" for w in self.warnings)])


class _Problems:
    """Errors and warnings found while reading; reading stops once MAX_ERRORS errors are known."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.places: set[str] = set()  # rows/products with an error already
        self._warnings: dict[str, int] = {}

    def error(self, where: str, column: str | None, message: str) -> None:
        self.places.add(where)
        self.errors.append(f'{where}, field "{column}": {message}' if column else f"{where}: {message}")
        if len(self.errors) >= MAX_ERRORS:
            raise CatalogImportError([*self.errors, f"(stopped after {MAX_ERRORS} errors)"])

    def raise_if_any(self) -> None:
        if self.errors:
            raise CatalogImportError(self.errors)

    def warn(self, message: str) -> None:
        """Something the import worked around; said once with a count, however many rows it concerns."""
        self._warnings[message] = self._warnings.get(message, 0) + 1

    @property
    def warnings(self) -> list[str]:
        return [message if n == 1 else f"{message} ({n} times)" for message, n in self._warnings.items()]


# ---- values ---------------------------------------------------------------------------------------------
def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(value: object) -> float | None:
    """A finite number from a number or text ("$1,299.00"); None when blank or not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    try:
        number = float(_text(value).replace("$", "").replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _price(value: object, where: str, column: str, problems: _Problems, *, required: bool = False) -> float | None:
    if _text(value) == "":
        if required:
            problems.error(where, column, "missing")
        return None
    number = _number(value)
    if number is None or number < 0:
        problems.error(where, column, f'"{_text(value)}" is not a price')
        return None
    return round(number, 2)


def _whole(value: object, where: str, column: str, problems: _Problems) -> int | None:
    """A whole number; None when blank. Negative stock (Shopify allows overselling) counts as 0."""
    if _text(value) == "":
        return None
    number = _number(value)
    if number is None or not number.is_integer():
        problems.error(where, column, f'"{_text(value)}" is not a whole number')
        return None
    return max(0, int(number))


def _rating(value: object, where: str, column: str, problems: _Problems) -> float | None:
    if _text(value) == "":
        return None
    number = _number(value)
    if number is None or not 0 <= number <= 5:
        problems.error(where, column, f'"{_text(value)}" is not a rating from 0 to 5')
        return None
    return round(number, 2)


def _flag(text: str) -> bool | None:
    return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(text.lower())


def _spec_value(value: object) -> object:
    """CSV cells are text: "true" -> True, "250" -> 250, "1.5" -> 1.5; anything else stays as given."""
    if not isinstance(value, str):
        return value
    if _flag(value) is not None and not value.isdigit():
        return _flag(value)
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d+\.\d+", value):
        return float(value)
    return value


def _list(value: object) -> list[str]:
    """A JSON list, or text separated by | ; or , ("red|blue")."""
    items = value if isinstance(value, list) else re.split(r"[|;,]", _text(value))
    return [_text(item) for item in items if _text(item)]


class _HTMLText(HTMLParser):
    _BLOCKS = frozenset("p div br li ul ol h1 h2 h3 h4 h5 h6 tr table section article blockquote".split())
    _HIDDEN = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text from a product's HTML body: tags and scripts dropped, entities decoded, whitespace collapsed,
    and a full stop between blocks that lack one ("<li>Waterproof</li><li>Light</li>" -> "Waterproof. Light")."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    lines = [line for line in lines if line]
    return " ".join(line if i == len(lines) - 1 or line[-1] in ".!?:;," else line + "."
                    for i, line in enumerate(lines))


# ---- assembling a product from what was read -------------------------------------------------------------
@dataclass
class _Offer:
    """One variant as read: its own price when it has one, else the product's."""

    where: str
    sku: str = ""
    color: str = ""
    size: str = ""
    stock: int = 0
    price: float | None = None
    sale_price: float | None = None


@dataclass
class _Draft:
    where: str
    id: str
    title: str
    brand: str = ""
    category: str = ""
    subcategory: str = ""
    price: float | None = None
    sale_price: float | None = None
    description: str = ""
    image_url: str = ""
    tags: list[str] = field(default_factory=list)
    specs: dict = field(default_factory=dict)
    sku: str = ""
    rating: float | None = None
    review_count: int | None = None
    reviews: list[Review] = field(default_factory=list)
    offers: list[_Offer] = field(default_factory=list)
    price_column: str = "price"  # named in the error when no price was given


def _regular_and_sale(regular: float | None, sale: float | None) -> tuple[float | None, float | None]:
    """A "sale" price that is not below the regular price is no sale."""
    return (regular, sale) if sale is not None and regular is not None and sale < regular else (regular, None)


def _common_sku(skus: list[str]) -> str:
    """The shared stem of the variant SKUs ("TEE-NVY-S", "TEE-NVY-M" -> "TEE"), or "" when they share none."""
    stem = os.path.commonprefix(skus).rstrip("-_/ .") if len(skus) > 1 else (skus[0] if skus else "")
    return stem if len(stem) >= 3 else ""


def _assemble(draft: _Draft, problems: _Problems) -> Product | None:
    """The product, priced from its cheapest variant (what "from $X" means to a shopper)."""
    offers = draft.offers or [_Offer(draft.where)]
    priced = []
    for offer in offers:
        regular, sale = ((offer.price, offer.sale_price) if offer.price is not None
                         else (draft.price, draft.sale_price))
        if regular is None:
            if offer.where not in problems.places:  # an unreadable price was reported already
                problems.error(offer.where, draft.price_column, "missing")
            return None
        priced.append(_regular_and_sale(regular, sale))
    finals = [sale if sale is not None else regular for regular, sale in priced]
    cheapest = finals.index(min(finals))
    price, sale_price = priced[cheapest]
    product_sku = draft.sku or _common_sku([o.sku for o in offers if o.sku]) or draft.id
    variants = [Variant(offer.sku or (product_sku if len(offers) == 1 else f"{product_sku}-{n}"),
                        offer.color.lower() or None, offer.size or None, offer.stock,
                        None if final == finals[cheapest] else final)
                for n, (offer, final) in enumerate(zip(offers, finals), 1)]
    review_count = draft.review_count if draft.review_count is not None else len(draft.reviews)
    rating = draft.rating
    if rating is None and draft.reviews:
        rating = round(sum(r.rating for r in draft.reviews) / len(draft.reviews), 1)
    return Product(
        id=draft.id, sku=product_sku, title=draft.title, brand=draft.brand or None,
        category=draft.category.lower() or None, subcategory=draft.subcategory.lower() or None,
        price=price, sale_price=sale_price, colors=list(dict.fromkeys(v.color for v in variants if v.color)),
        sizes=list(dict.fromkeys(v.size for v in variants if v.size)), specs=draft.specs, rating=rating,
        review_count=review_count, stock=sum(v.stock for v in variants), description=html_to_text(draft.description),
        image_url=draft.image_url or None, tags=draft.tags, variants=variants, reviews=draft.reviews)


def _check_unique_skus(drafts: list[_Draft], products: list[Product], problems: _Problems) -> None:
    """Variant SKUs are the variants table's key: two products sharing one would make the import fail late."""
    seen: dict[str, str] = {}
    for draft, product in zip(drafts, products):
        offers = draft.offers or [_Offer(draft.where)]
        for offer, variant in zip(offers, product.variants):
            if variant.sku in seen:
                problems.error(offer.where, "sku", f'"{variant.sku}" is also used on {seen[variant.sku]}')
            seen.setdefault(variant.sku, offer.where)


def _finish(drafts: list[_Draft], problems: _Problems) -> list[Product]:
    products = [p for p in (_assemble(d, problems) for d in drafts) if p is not None]
    problems.raise_if_any()
    _check_unique_skus(drafts, products, problems)
    problems.raise_if_any()
    if not products:
        raise CatalogImportError(["no products found"])
    return products


# ---- Shopify product CSV export ----------------------------------------------------------------------------
def _csv_rows(source: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (spreadsheet row number, row) pairs: the header is row 1, the first product row is row 2."""
    try:
        with source.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = [(number, {k: v or "" for k, v in row.items() if k is not None})
                    for number, row in enumerate(reader, start=2)]
            return [h.strip() for h in reader.fieldnames or []], rows
    except UnicodeDecodeError as error:
        raise CatalogImportError([f"{source.name} is not UTF-8 text ({error.reason} at byte {error.start})"])


def _option_kind(name: str) -> str:
    return {"size": "size", "color": "color", "colour": "color"}.get(name.strip().lower(), "")


def _leaf(taxonomy: str) -> str:
    """"Apparel & Accessories > Shoes > Boots" -> "Boots"."""
    return taxonomy.split(">")[-1].strip()


def _shopify_offer(number: int, row: dict[str, str], kinds: list[str], problems: _Problems) -> _Offer:
    where = f"row {number}"
    price = _price(row.get("Variant Price"), where, "Variant Price", problems, required=True)
    compare_at = _price(row.get("Variant Compare At Price"), where, "Variant Compare At Price", problems)
    stock = _whole(row.get("Variant Inventory Qty"), where, "Variant Inventory Qty", problems)
    options = {kind: _text(row.get(f"Option{i} Value")) for i, kind in enumerate(kinds, 1) if kind}
    regular, sale = _regular_and_sale(compare_at, price) if compare_at is not None else (price, None)
    return _Offer(where, _text(row.get("Variant SKU")), options.get("color", ""), options.get("size", ""),
                  stock or 0, regular, sale)


def _is_variant_row(row: dict[str, str]) -> bool:
    """Shopify adds rows that carry only an extra image."""
    return any(_text(row.get(c)) for c in ("Variant SKU", "Variant Price", "Option1 Value"))


def _is_published(row: dict[str, str]) -> bool:
    return _flag(_text(row.get("Published"))) is not False and _text(row.get("Status")).lower() in ("", "active")


def _shopify_draft(rows: list[tuple[int, dict[str, str]]], problems: _Problems) -> _Draft:
    number, first = rows[0]
    where = f"row {number}"
    title = _text(first.get("Title"))
    if not title:
        problems.error(where, "Title", "missing")
    kinds = [_option_kind(_text(first.get(f"Option{i} Name"))) for i in (1, 2, 3)]
    offers = [_shopify_offer(n, row, kinds, problems) for n, row in rows if _is_variant_row(row)]
    images = [_text(row.get(c)) for _, row in rows for c in ("Image Src", "Variant Image") if _text(row.get(c))]
    grams = _number(next((row.get("Variant Grams") for _, row in rows if _is_variant_row(row)), None))
    product_type, taxonomy = _text(first.get("Type")), _leaf(_text(first.get("Product Category")))
    return _Draft(
        where, _text(first.get("Handle")), title, brand=_text(first.get("Vendor")),
        category=product_type or taxonomy,
        subcategory=taxonomy if product_type and taxonomy.lower() != product_type.lower() else "",
        description=_text(first.get("Body (HTML)")), image_url=images[0] if images else "",
        tags=[t.strip() for t in _text(first.get("Tags")).split(",") if t.strip()],
        specs={"weight_g": round(grams)} if grams else {}, offers=offers, price_column="Variant Price")


def read_shopify(source: Path) -> tuple[list[Product], int, list[str]]:
    """Products, unpublished products skipped, warnings. Rows sharing a Handle are one product's variants; its
    first row carries the title and the rest. A Compare At Price above the price means on sale."""
    header, rows = _csv_rows(source)
    problems = _Problems()
    for column in ("Handle", "Title", "Variant Price"):
        if column not in header:
            problems.error("row 1", None, f'missing column "{column}"')
    problems.raise_if_any()
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in rows:
        handle = _text(row.get("Handle"))
        if handle:
            groups.setdefault(handle, []).append((number, row))
        elif any(_text(v) for v in row.values()):
            problems.error(f"row {number}", "Handle", "missing")
    published = [g for g in groups.values() if _is_published(g[0][1])]
    drafts = [_shopify_draft(group, problems) for group in published]
    products = _finish(drafts, problems)
    for _, row in rows:
        if _is_variant_row(row) and not _text(row.get("Variant Inventory Qty")):
            problems.warn("a variant without Variant Inventory Qty counts as out of stock")
    return products, len(groups) - len(published), problems.warnings


# ---- our own fields: generic CSV and JSON -----------------------------------------------------------------
_ALIASES = {
    "id": ("id", "handle", "product_id"), "title": ("title", "name", "product_name"),
    "brand": ("brand", "vendor", "manufacturer"), "category": ("category", "type", "product_type", "categories"),
    "subcategory": ("subcategory", "sub_category", "subtype"), "price": ("price", "regular_price", "list_price"),
    "sale_price": ("sale_price", "sale", "discount_price"), "compare_at_price": ("compare_at_price",),
    "description": ("description", "body", "body_html", "details"),
    "image_url": ("image_url", "image", "image_src", "image_link"), "tags": ("tags", "keywords"),
    "rating": ("rating", "average_rating"), "review_count": ("review_count", "reviews_count", "num_reviews"),
    "sku": ("sku", "variant_sku"), "color": ("color", "colour", "colors", "colours"), "size": ("size", "sizes"),
    "stock": ("stock", "quantity", "qty", "inventory", "inventory_quantity"), "specs": ("specs", "attributes"),
    "variants": ("variants",), "reviews": ("reviews",),
}
_FIELD_OF = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_SPEC_PREFIX = "spec_"


def _field_name(key: str) -> str:
    return re.sub(r"[\s-]+", "_", key.strip().lower())


def _fields(record: dict, problems: _Problems) -> tuple[dict[str, tuple[str, object]], dict]:
    """Our field name -> (the key as the file spells it, value), and the specs given as spec_<name> keys.
    Unknown keys are warned about, not silently dropped."""
    known: dict[str, tuple[str, object]] = {}
    specs = {}
    for key, value in record.items():
        name = _field_name(str(key))
        if name in _FIELD_OF:
            known.setdefault(_FIELD_OF[name], (str(key), value))
        elif name.startswith(_SPEC_PREFIX) and _text(value) != "":
            specs[name[len(_SPEC_PREFIX):]] = _spec_value(value)
        else:
            problems.warn(f'ignored field "{key}"')
    return known, specs


def _get(fields: dict[str, tuple[str, object]], name: str) -> tuple[str, object]:
    return fields.get(name, (name, None))


def _offers_from_lists(fields: dict, where: str, stock: int, problems: _Problems, *,
                       each: int | None = None) -> list[_Offer]:
    """A product that lists colours/sizes but no variants: one variant per combination, its stock spread
    evenly (and said so), since a size that has no variant could never be found in stock. `each` gives every
    variant that many units instead (a file that states no stock at all)."""
    colors = _list(_get(fields, "color")[1]) or [""]
    sizes = _list(_get(fields, "size")[1]) or [""]
    combos = [(c, s) for c in colors for s in sizes]
    if each is not None:
        return [_Offer(where, color=c, size=s, stock=each) for c, s in combos]
    if len(combos) > 1:
        problems.warn("a product with colours/sizes but no variants has its stock spread evenly over them")
    share, extra = divmod(stock, len(combos))
    return [_Offer(where, color=c, size=s, stock=share + (i < extra)) for i, (c, s) in enumerate(combos)]


def _price_pair(fields: dict, where: str, problems: _Problems, *, required: bool) -> tuple[float | None, float | None]:
    """(price, sale_price) from price/sale_price, or Shopify-style price/compare_at_price; a sale price must be
    below the price."""
    key, value = _get(fields, "price")
    price = _price(value, where, key, problems, required=required)
    compare_key, compare = _get(fields, "compare_at_price")
    compare_at = _price(compare, where, compare_key, problems)
    if compare_at is not None and price is not None and compare_at > price:
        return compare_at, price
    sale_key, sale_value = _get(fields, "sale_price")
    sale = _price(sale_value, where, sale_key, problems)
    if sale is not None and price is not None and sale >= price:
        problems.error(where, sale_key, f"{sale:.2f} is not below the price {price:.2f}")
        return price, None
    return price, sale


def _draft(fields: dict, specs: dict, where: str, problems: _Problems, product_id: str) -> _Draft:
    title_key, title = _get(fields, "title")
    if not _text(title):
        problems.error(where, title_key, "missing")
    price, sale = _price_pair(fields, where, problems, required=False)
    given_specs = _get(fields, "specs")[1]
    if isinstance(given_specs, str) and given_specs.strip():
        try:
            given_specs = json.loads(given_specs)
        except json.JSONDecodeError:
            given_specs = None
        if not isinstance(given_specs, dict):
            problems.error(where, _get(fields, "specs")[0], "is not a JSON object")
    rating_key, rating = _get(fields, "rating")
    count_key, count = _get(fields, "review_count")
    return _Draft(
        where, product_id, _text(title), brand=_text(_get(fields, "brand")[1]),
        category=_category(_get(fields, "category")[1]), subcategory=_text(_get(fields, "subcategory")[1]),
        price=price, sale_price=sale, description=_text(_get(fields, "description")[1]),
        image_url=_text(_get(fields, "image_url")[1]), tags=_list(_get(fields, "tags")[1]),
        specs={**(given_specs if isinstance(given_specs, dict) else {}), **specs}, sku=_text(_get(fields, "sku")[1]),
        rating=_rating(rating, where, rating_key, problems), review_count=_whole(count, where, count_key, problems))


def _category(value: object) -> str:
    """A category, or the leaf of a category path given as a list (["Cell Phones", "Cases"] -> "Cases")."""
    if isinstance(value, list):
        return next((_text(item) for item in reversed(value) if _text(item)), "")
    return _text(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def read_csv(source: Path) -> tuple[list[Product], int, list[str]]:
    """One row per variant (or per product): rows sharing an id (or, without ids, a title) are one product whose
    first row carries its fields. A row may list colours/sizes ("red|blue"), one variant per combination."""
    _, rows = _csv_rows(source)
    problems = _Problems()
    drafts: dict[str, _Draft] = {}
    for number, row in rows:
        where = f"row {number}"
        fields, specs = _fields(row, problems)
        product_id = _text(_get(fields, "id")[1]) or _slug(_text(_get(fields, "title")[1]))
        draft = drafts.get(product_id)
        if draft is None:
            draft = drafts[product_id] = _draft(fields, specs, where, problems, product_id or f"row-{number}")
            draft.sku = ""  # a row's sku names its variant; the product's comes from what they share
            price, sale = draft.price, draft.sale_price
        else:
            price, sale = _price_pair(fields, where, problems, required=False)
        stock_key, stock = _get(fields, "stock")
        offers = _offers_from_lists(fields, where, _whole(stock, where, stock_key, problems) or 0, problems)
        for offer in offers:
            offer.sku = _text(_get(fields, "sku")[1]) if len(offers) == 1 else ""
            offer.price, offer.sale_price = price, sale
        draft.offers.extend(offers)
    return _finish(list(drafts.values()), problems), 0, problems.warnings


def _json_offers(fields: dict, where: str, problems: _Problems, *, tracks_stock: bool = True) -> list[_Offer]:
    key, variants = _get(fields, "variants")
    stock_key, stock = _get(fields, "stock")
    if not variants:
        return _offers_from_lists(fields, where, _whole(stock, where, stock_key, problems) or 0, problems,
                                  each=None if tracks_stock else 1)
    if not isinstance(variants, list):
        problems.error(where, key, "is not a list")
        return []
    offers = []
    for n, item in enumerate(variants, 1):
        if not isinstance(item, dict):
            problems.error(where, f"{key}[{n}]", "is not an object")
            continue
        item_fields = {name: (f"{key}[{n}].{spelled}", value)
                       for name, (spelled, value) in _fields(item, _Problems())[0].items()}
        price, sale = _price_pair(item_fields, where, problems, required=False)
        stock_key, stock = _get(item_fields, "stock")
        offers.append(_Offer(where, _text(_get(item_fields, "sku")[1]), _text(_get(item_fields, "color")[1]),
                             _text(_get(item_fields, "size")[1]), _whole(stock, where, stock_key, problems) or 0,
                             price, sale if price is not None else None))
    return offers


def _json_reviews(fields: dict, where: str, problems: _Problems) -> list[Review]:
    key, reviews = _get(fields, "reviews")
    if not isinstance(reviews, list):
        return []
    result = []
    for n, item in enumerate(reviews, 1):
        stars = _rating(item.get("rating") if isinstance(item, dict) else None, where, f"{key}[{n}].rating",
                        problems)
        if isinstance(item, dict) and stars is not None:
            author = _text(item.get("author")) or "Customer"
            result.append(Review(max(1, round(stars)), author, _text(item.get("text"))))
    return result


def read_json(source: Path) -> tuple[list[Product], int, list[str]]:
    """A list of product objects (or {"products": [...]}) with our field names or common aliases.

    Product feeds often carry no ids and no inventory. A product without an id gets a slug of its title, and
    products sharing a title get numbered ones ("-2", "-3"); a file where no product has a stock or variants
    field lists what is for sale, so each product counts as in stock (one unit per variant). Both are
    reported as warnings."""
    try:
        data = json.loads(source.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CatalogImportError([f"{source.name} is not valid JSON: {error}"])
    items = data.get("products") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise CatalogImportError([f'{source.name}: expected a list of products (or {{"products": [...]}})'])
    problems = _Problems()
    drafts: list[_Draft] = []
    ids: dict[str, str] = {}
    records = [(f"product {n}", item, _fields(item, problems) if isinstance(item, dict) else None)
               for n, item in enumerate(items, 1)]
    tracks_stock = any(read and {"stock", "variants"} & set(read[0]) for _, _, read in records)
    if not tracks_stock:
        problems.warn("no product has a stock or variants field: each counts as in stock (1 unit per variant)")
    for where, item, read in records:
        if read is None:
            problems.error(where, None, "is not an object")
            continue
        fields, specs = read
        id_key, given_id = _get(fields, "id")
        derived = _slug(_text(_get(fields, "title")[1])) or where.replace(" ", "-")
        product_id = _text(given_id) or _numbered(derived, ids, problems)
        if product_id in ids:
            problems.error(where, id_key, f'"{product_id}" is also the id of {ids[product_id]}')
        ids.setdefault(product_id, where)
        draft = _draft(fields, specs, where, problems, product_id)
        draft.offers = _json_offers(fields, where, problems, tracks_stock=tracks_stock)
        draft.reviews = _json_reviews(fields, where, problems)
        drafts.append(draft)
    return _finish(drafts, problems), 0, problems.warnings


def _numbered(product_id: str, ids: dict[str, str], problems: _Problems) -> str:
    """A derived id not used yet: the id itself, else with the first free number appended ("-2", "-3")."""
    if product_id not in ids:
        return product_id
    number = 2
    while f"{product_id}-{number}" in ids:
        number += 1
    problems.warn("products without an id that share a title get numbered ids")
    return f"{product_id}-{number}"


_READERS: dict[str, Callable[[Path], tuple[list[Product], int, list[str]]]] = {
    "shopify": read_shopify, "csv": read_csv, "json": read_json}


def detect_format(source: Path) -> str:
    """"json" for .json files or text starting with [ or {; "shopify" for a CSV with Shopify's Handle and
    Variant Price columns; else "csv"."""
    if source.suffix.lower() == ".json":
        return "json"
    with source.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first_line = handle.readline()
    if first_line.lstrip().startswith(("[", "{")):
        return "json"
    header = {h.strip() for h in next(csv.reader([first_line]), [])}
    return "shopify" if {"Handle", "Variant Price"} <= header else "csv"


def import_catalog(db_path: Path, source: Path, *, fmt: str | None = None, replace: bool = True) -> ImportReport:
    """Read `source` and make it the catalog at `db_path`. By default the import replaces the whole catalog;
    with replace=False its products are added to the current one (same id: replaced). Raises
    CatalogImportError, listing every problem, with the current catalog left untouched."""
    db_path, source = Path(db_path), Path(source)
    if not source.is_file():
        raise CatalogImportError([f"{source}: no such file"])
    fmt = fmt or detect_format(source)
    if fmt not in _READERS:
        raise CatalogImportError([f'unknown format "{fmt}" (use one of: {", ".join(FORMATS)})'])
    products, skipped, warnings = _READERS[fmt](source)
    try:
        with replacing(db_path, start_from_current=not replace) as db:
            if not replace and db["products"].exists():
                _remove_products(db.conn, [p.id for p in products])
            counts = write_products(db, products)
            finish_catalog(db, db_path, source=f"import:{fmt}:{source.name}", generator_seed=None,
                           generator_version=None)
    except sqlite3.IntegrityError as error:
        raise CatalogImportError([f"cannot add these products to the current catalog: {error}"]) from error
    return ImportReport(db_path, source, fmt, counts.products, counts.variants, skipped, tuple(warnings))


def _remove_products(conn: sqlite3.Connection, ids: list[str]) -> None:
    conn.execute("CREATE TEMP TABLE replaced (id TEXT PRIMARY KEY)")
    conn.executemany("INSERT OR IGNORE INTO replaced VALUES (?)", [(i,) for i in ids])
    with conn:
        for table, column in (("variants", "product_id"), ("reviews", "product_id"), ("products", "id")):
            conn.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM replaced)")
