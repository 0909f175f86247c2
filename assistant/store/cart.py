"""Carts keyed by conversation id, priced from the live catalog with STORE.md's shipping rules."""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

STANDARD_SHIPPING = 4.99
FREE_SHIPPING_THRESHOLD = 50.00
MAX_QUANTITY = 20


@dataclass(frozen=True)
class CartLine:
    product_id: str
    title: str
    variant_sku: str
    color: str | None
    size: str | None
    quantity: int
    unit_price: float

    @property
    def total(self) -> float:
        return round(self.unit_price * self.quantity, 2)


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]

    @property
    def subtotal(self) -> float:
        return round(sum(line.total for line in self.lines), 2)

    @property
    def shipping(self) -> float:
        """Standard shipping: free from $50 (after discounts, before tax)."""
        if not self.lines or self.subtotal >= FREE_SHIPPING_THRESHOLD:
            return 0.0
        return STANDARD_SHIPPING

    @property
    def to_free_shipping(self) -> float:
        return max(0.0, round(FREE_SHIPPING_THRESHOLD - self.subtotal, 2))

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


class CartError(ValueError):
    """A cart change that cannot be made; the message is safe to show the shopper."""


def add_item(store: sqlite_utils.Database, conversation_id: str, product_id: str, *, variant_sku: str = "",
             color: str | None = None, size: str | None = None, quantity: int = 1) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"I can add between 1 and {MAX_QUANTITY} of an item at a time.")
    with store.conn:
        row = store.execute(
            "SELECT quantity FROM cart_items WHERE conversation_id=? AND product_id=? AND variant_sku=?",
            [conversation_id, product_id, variant_sku]).fetchone()
        new_quantity = min(MAX_QUANTITY, quantity + (row[0] if row else 0))
        store.execute(
            "INSERT INTO cart_items (conversation_id, product_id, variant_sku, color, size, quantity) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (conversation_id, product_id, variant_sku) "
            "DO UPDATE SET quantity = excluded.quantity",
            [conversation_id, product_id, variant_sku, color, size, new_quantity])


NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


def parse_quantity(value: object) -> int | None:
    """'3', 3.0 or 'three' -> 3; None for anything else (negative, fractional, words we don't know)."""
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit():
        return int(text)
    return NUMBER_WORDS.get(text)


def set_quantity(store: sqlite_utils.Database, conversation_id: str, product_id: str, variant_sku: str,
                 quantity: int) -> None:
    """Change a line's quantity; 0 removes the line."""
    if not 0 <= quantity <= MAX_QUANTITY:
        raise CartError(f"I can keep between 1 and {MAX_QUANTITY} of an item in the cart (0 removes it).")
    with store.conn:
        if quantity == 0:
            store.execute("DELETE FROM cart_items WHERE conversation_id=? AND product_id=? AND variant_sku=?",
                          [conversation_id, product_id, variant_sku])
        else:
            store.execute("UPDATE cart_items SET quantity=? WHERE conversation_id=? AND product_id=? AND "
                          "variant_sku=?", [quantity, conversation_id, product_id, variant_sku])


def remove_item(store: sqlite_utils.Database, conversation_id: str, product_id: str) -> int:
    """Remove every variant of a product from the cart; returns how many lines went."""
    with store.conn:
        cursor = store.execute("DELETE FROM cart_items WHERE conversation_id=? AND product_id=?",
                               [conversation_id, product_id])
    return cursor.rowcount


def load_cart(store: sqlite_utils.Database, catalog: sqlite_utils.Database, conversation_id: str) -> Cart:
    """The conversation's cart priced at today's catalog prices; items gone from the catalog are skipped."""
    rows = store.execute(
        "SELECT product_id, variant_sku, color, size, quantity FROM cart_items WHERE conversation_id=? "
        "ORDER BY added_at, product_id", [conversation_id]).fetchall()
    lines = []
    for product_id, sku, color, size, quantity in rows:
        product = catalog.execute("SELECT title, final_price FROM products WHERE id=?", [product_id]).fetchone()
        if product is None:
            continue
        price = product[1]
        if sku:
            variant = catalog.execute("SELECT price FROM variants WHERE sku=?", [sku]).fetchone()
            if variant and variant[0] is not None:
                price = variant[0]
        lines.append(CartLine(product_id, product[0], sku, color, size, quantity, float(price)))
    return Cart(lines)
