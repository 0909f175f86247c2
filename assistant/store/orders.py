"""Orders: placing one from a cart, finding one only with its number and email, the 1-hour cancel rule.

Order details are shared only when the order number and the email on that order both match (STORE.md). A lookup
that fails says nothing about why, so nobody can learn whether an order number exists; failures are counted per
conversation in the database, so restarting the chat does not reset the count.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlite_utils

from assistant.store.cart import Cart, load_cart

MAX_FAILED_LOOKUPS = 5
CHANGE_WINDOW = timedelta(hours=1)
COUNTRIES = {"US": "the United States", "CA": "Canada"}
_COUNTRY_NAMES = {
    "us": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US", "united states of america": "US",
    "america": "US", "the us": "US", "the usa": "US", "the united states": "US", "states": "US",
    "ca": "CA", "canada": "CA", "can": "CA",
}
_ORDER_NUMBER = re.compile(r"\bHL[\s#-]*(\d{6})\b", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_MAX_EMAIL = 254


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds") if moment else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_order_number(text: str | None) -> str | None:
    """'hl 123456', 'HL123456' or '#HL-123456' -> 'HL-123456'; None when the text holds no order number."""
    match = _ORDER_NUMBER.search(text or "")
    return f"HL-{match.group(1)}" if match else None


def parse_email(text: str | None) -> str | None:
    match = _EMAIL.search(text or "")
    if not match or len(match.group(0)) > _MAX_EMAIL:
        return None
    return match.group(0).strip(".").lower()


def parse_country(text: str | None) -> str | None:
    """The ISO code of a country we ship to, or None; 'Mexico' and 'UK' are None, like gibberish."""
    cleaned = re.sub(r"[^a-z. ]", " ", (text or "").lower())
    cleaned = re.sub(r"\b(to|in|ship|shipping|please|it|i|live|the country is|country)\b", " ", cleaned)
    cleaned = " ".join(cleaned.split()).strip(" .")
    return _COUNTRY_NAMES.get(cleaned) or _COUNTRY_NAMES.get(cleaned.replace(".", ""))


@dataclass(frozen=True)
class OrderItem:
    line: int
    product_id: str
    title: str
    category: str
    color: str | None
    size: str | None
    quantity: int
    unit_price: float
    final_sale: bool = False

    @property
    def total(self) -> float:
        return round(self.unit_price * self.quantity, 2)

    @property
    def label(self) -> str:
        variant = ", ".join(v for v in (self.color, f"size {self.size}" if self.size else None) if v)
        return f"{self.title}{' (' + variant + ')' if variant else ''}"


@dataclass(frozen=True)
class Order:
    number: str
    email: str
    status: str
    placed_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    country: str
    subtotal: float
    shipping: float
    items: tuple[OrderItem, ...]

    @property
    def total(self) -> float:
        return round(self.subtotal + self.shipping, 2)

    def item(self, line: int) -> OrderItem | None:
        """The order's line numbered `line` (lines count from 1), or None."""
        return next((i for i in self.items if i.line == line), None)

    def changeable(self, at: datetime) -> bool:
        """STORE.md: changed or cancelled within 1 hour of being placed, and only before it ships."""
        return self.status == "processing" and at - self.placed_at <= CHANGE_WINDOW


class CheckoutError(ValueError):
    """The cart cannot become an order; the message is safe to show the shopper."""


def _new_number(store: sqlite_utils.Database, rng: random.Random) -> str:
    while True:
        number = f"HL-{rng.randrange(10**6):06d}"
        if store.execute("SELECT 1 FROM orders WHERE number = ?", [number]).fetchone() is None:
            return number


def unavailable_lines(cart: Cart, catalog: sqlite_utils.Database) -> list[str]:
    """Titles of cart lines that can't be sold now: product gone, or that variant (or product) out of stock."""
    problems = []
    for line in cart.lines:
        if line.variant_sku:
            row = catalog.execute("SELECT stock FROM variants WHERE sku = ?", [line.variant_sku]).fetchone()
        else:
            row = catalog.execute("SELECT stock FROM products WHERE id = ?", [line.product_id]).fetchone()
        if row is None or (row[0] or 0) < line.quantity:
            problems.append(line.title)
    return problems


def vanished_lines(store: sqlite_utils.Database, catalog: sqlite_utils.Database, conversation_id: str) -> int:
    """Cart rows whose product is no longer in the catalog (load_cart skips them; checkout must say so)."""
    rows = store.execute("SELECT product_id FROM cart_items WHERE conversation_id = ?", [conversation_id])
    return sum(1 for (product_id,) in rows.fetchall()
               if catalog.execute("SELECT 1 FROM products WHERE id = ?", [product_id]).fetchone() is None)


def place_order(store: sqlite_utils.Database, catalog: sqlite_utils.Database, conversation_id: str, *,
                email: str, country: str, at: datetime | None = None, seed: int | None = None) -> Order:
    """Turn the conversation's cart into an order and empty the cart, in one transaction.

    No payment is taken in chat: the order waits in 'processing' for the store's payment step.
    """
    at = at or now()
    if country not in COUNTRIES:
        raise CheckoutError("We ship to the United States and Canada only.")
    if parse_email(email) != email.lower():
        raise CheckoutError("That doesn't look like an email address.")
    cart = load_cart(store, catalog, conversation_id)
    gone = vanished_lines(store, catalog, conversation_id)
    if not cart.lines:
        raise CheckoutError("Your cart is empty." if not gone else
                            "The items in your cart are no longer sold, so there is nothing to order.")
    problems = unavailable_lines(cart, catalog)
    if gone:
        problems.append(f"{gone} item{'s' if gone > 1 else ''} no longer in our catalog")
    if problems:
        raise CheckoutError("Some items can't be ordered right now: " + "; ".join(problems) +
                            ". Remove them (e.g. \"remove the tent\") and check out again.")
    rng = random.Random(seed)
    with store.conn:
        number = _new_number(store, rng)
        store.execute(
            "INSERT INTO orders (number, email, status, placed_at, country, subtotal, shipping, conversation_id) "
            "VALUES (?, ?, 'processing', ?, ?, ?, ?, ?)",
            [number, email.lower(), iso(at), country, cart.subtotal, cart.shipping, conversation_id])
        for line_number, line in enumerate(cart.lines, start=1):
            category = catalog.execute("SELECT category FROM products WHERE id = ?", [line.product_id]).fetchone()
            insert_item(store, number, line_number, line.product_id, line.title, category[0] if category else "",
                        line.variant_sku, line.color, line.size, line.quantity, line.unit_price)
        store.execute("DELETE FROM cart_items WHERE conversation_id = ?", [conversation_id])
    order = _load(store, number)
    assert order is not None
    return order


def insert_item(store: sqlite_utils.Database, number: str, line: int, product_id: str, title: str, category: str,
                variant_sku: str, color: str | None, size: str | None, quantity: int, unit_price: float,
                final_sale: bool = False) -> None:
    """One order line; the caller holds the transaction that writes the order."""
    store.execute(
        "INSERT INTO order_items (order_number, line, product_id, title, category, variant_sku, color, size, "
        "quantity, unit_price, final_sale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [number, line, product_id, title, category, variant_sku, color, size, quantity, unit_price, int(final_sale)])


def _load(store: sqlite_utils.Database, number: str) -> Order | None:
    row = store.execute(
        "SELECT number, email, status, placed_at, shipped_at, delivered_at, carrier, tracking_number, country, "
        "subtotal, shipping FROM orders WHERE number = ?", [number]).fetchone()
    if row is None:
        return None
    items = tuple(
        OrderItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]))
        for r in store.execute(
            "SELECT line, product_id, title, category, color, size, quantity, unit_price, final_sale "
            "FROM order_items WHERE order_number = ? ORDER BY line", [number]))
    return Order(row[0], row[1], row[2], _parse(row[3]), _parse(row[4]), _parse(row[5]), row[6], row[7], row[8],
                 row[9], row[10], items)


def failed_lookups(store: sqlite_utils.Database, conversation_id: str) -> int:
    return store.execute("SELECT count(*) FROM verification_failures WHERE conversation_id = ?",
                         [conversation_id]).fetchone()[0]


def verify(store: sqlite_utils.Database, conversation_id: str, number: str | None,
           email: str | None) -> Order | None:
    """The order only when its number and email both match and this conversation still has attempts left.

    Every miss costs an attempt, whatever the reason, so the answer never tells a wrong number from a wrong email.
    """
    if failed_lookups(store, conversation_id) >= MAX_FAILED_LOOKUPS:
        return None
    order = _load(store, number) if number and email else None
    if order is not None and order.email.lower() == email.lower():
        return order
    with store.conn:
        store.execute("INSERT INTO verification_failures (conversation_id) VALUES (?)", [conversation_id])
    return None


def verified(store: sqlite_utils.Database, number: str, email: str) -> Order | None:
    """Reload an order this conversation already verified (slots keep number and email), without counting."""
    order = _load(store, number)
    return order if order is not None and order.email.lower() == (email or "").lower() else None


def cancel(store: sqlite_utils.Database, order: Order, at: datetime | None = None) -> Order:
    """Cancel within the 1-hour window; the caller checks `order.changeable` first to explain a refusal."""
    at = at or now()
    if not order.changeable(at):
        raise CheckoutError("This order can no longer be cancelled.")
    with store.conn:
        store.execute("UPDATE orders SET status = 'cancelled' WHERE number = ? AND status = 'processing'",
                      [order.number])
    cancelled = _load(store, order.number)
    assert cancelled is not None
    return cancelled
