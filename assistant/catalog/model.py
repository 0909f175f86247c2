"""A product as the catalog stores it (docs/catalog-schema.md), shared by the demo generator and the importer so
both write exactly the same rows."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache

PRODUCT_COLUMNS = ("id", "sku", "title", "brand", "category", "subcategory", "price", "sale_price", "final_price",
                   "on_sale", "colors", "sizes", "specs", "rating", "review_count", "stock", "description",
                   "image_url", "tags")
JSON_COLUMNS = ("colors", "sizes", "specs", "tags")
VARIANT_COLUMNS = ("sku", "product_id", "color", "size", "price", "stock")
REVIEW_COLUMNS = ("product_id", "rating", "author", "text")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # json.dumps with options builds one per call


def to_json(value) -> str:
    return _ENCODER.encode(value)


@lru_cache(maxsize=8192)
def _cached_json_list(items: tuple) -> str:
    return _ENCODER.encode(list(items))


def _json_list(items: list) -> str:
    """Colour, size and tag lists repeat across thousands of products: encode each distinct one once."""
    try:
        return _cached_json_list(tuple(items))
    except TypeError:  # unhashable items (nested lists from an import)
        return to_json(items)


@dataclass(slots=True)
class Variant:
    sku: str
    color: str | None = None
    size: str | None = None
    stock: int = 0
    price: float | None = None  # set only when it differs from the product's final_price


@dataclass(slots=True)
class Review:
    rating: int
    author: str
    text: str


@dataclass(slots=True)
class Product:
    id: str
    sku: str
    title: str
    brand: str | None
    category: str | None
    subcategory: str | None = None
    price: float = 0.0
    sale_price: float | None = None
    colors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    specs: dict = field(default_factory=dict)
    rating: float | None = None
    review_count: int = 0
    stock: int = 0
    description: str = ""
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Budget filters trust final_price; a "sale" at or above the regular price would make them lie.
        if self.sale_price is not None and not 0 <= self.sale_price < self.price:
            raise ValueError(f"{self.id}: sale price {self.sale_price} is not below the price {self.price}")

    @property
    def final_price(self) -> float:
        """What the shopper pays: the sale price when there is one."""
        return self.price if self.sale_price is None else self.sale_price

    @property
    def on_sale(self) -> bool:
        return self.sale_price is not None

    def to_row(self) -> dict:
        """The products-table row: derived columns filled in, list/dict columns as JSON text."""
        return {
            "id": self.id, "sku": self.sku, "title": self.title, "brand": self.brand, "category": self.category,
            "subcategory": self.subcategory, "price": self.price, "sale_price": self.sale_price,
            "final_price": self.final_price, "on_sale": int(self.on_sale), "colors": _json_list(self.colors),
            "sizes": _json_list(self.sizes), "specs": to_json(self.specs), "rating": self.rating,
            "review_count": self.review_count, "stock": self.stock, "description": self.description,
            "image_url": self.image_url, "tags": _json_list(self.tags),
        }

    @classmethod
    def from_row(cls, row: Mapping) -> Product:
        """A product from a products-table row (JSON columns decoded; derived and unknown columns ignored).
        Variants and reviews live in their own tables and are left empty."""
        known = {f.name for f in fields(cls)} - {"variants", "reviews"}
        values = {k: v for k, v in row.items() if k in known}
        for column in JSON_COLUMNS:
            if isinstance(values.get(column), str):
                values[column] = json.loads(values[column])
        return cls(**values)
