"""Demo customers and orders, one for every status and return case in STORE.md, dated relative to today.

Re-seeding replaces only demo rows (source='demo'), so live orders placed in chat are never touched; it runs at
every start (scripts/prepare.sh), which keeps "delivered 31 days ago" true whenever someone tries the demo.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from assistant.store.orders import insert_item, iso, now

GIFT_CARD = ("gift-card-50", "Harbor Lane gift card ($50)", "gift cards", 50.0)


@dataclass(frozen=True)
class DemoOrder:
    number: str
    email: str
    status: str
    placed_ago: timedelta
    delivered_ago: timedelta | None  # None: not delivered (yet)
    categories: tuple[str, ...]  # one line per category, from the catalog
    country: str = "US"
    final_sale: tuple[str, ...] = ()  # categories sold as final sale in this order
    gift_card: bool = False


DAY = timedelta(days=1)
DEMO_ORDERS = (
    DemoOrder("HL-100231", "alex.morgan@example.com", "delivered", 14 * DAY, 10 * DAY, ("running shoes", "t-shirts")),
    DemoOrder("HL-100232", "alex.morgan@example.com", "delivered", 35 * DAY, 31 * DAY, ("hiking boots",)),
    DemoOrder("HL-100233", "alex.morgan@example.com", "delivered", 24 * DAY, 20 * DAY, ("headphones", "water bottles")),
    DemoOrder("HL-100240", "jamie.chen@example.com", "processing", timedelta(minutes=20), None, ("backpacks",)),
    DemoOrder("HL-100241", "jamie.chen@example.com", "processing", timedelta(hours=3), None, ("tents",)),
    DemoOrder("HL-100242", "jamie.chen@example.com", "shipped", 2 * DAY, None, ("rain jackets",)),
    DemoOrder("HL-100243", "jamie.chen@example.com", "out for delivery", 4 * DAY, None, ("coffee makers",)),
    DemoOrder("HL-100250", "sam.taylor@example.ca", "cancelled", 9 * DAY, None, ("sneakers",), country="CA"),
    DemoOrder("HL-100251", "sam.taylor@example.ca", "returned", 40 * DAY, 33 * DAY, ("jeans",), country="CA"),
    DemoOrder("HL-100252", "sam.taylor@example.ca", "delivered", 8 * DAY, 5 * DAY,
              ("skincare", "yoga mats", "smartwatches"), country="CA", final_sale=("yoga mats",), gift_card=True),
)
_CARRIERS = {"US": "UPS", "CA": "Canada Post"}


def _tracking(rng: random.Random, country: str) -> str:
    if country == "US":
        return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    return "".join(rng.choice("0123456789") for _ in range(16))


def _lines(catalog: sqlite_utils.Database, demo: DemoOrder, rng: random.Random) -> list[tuple]:
    """(product_id, title, category, sku, color, size, quantity, unit_price, final_sale) per line."""
    lines = []
    for category in demo.categories:
        product = catalog.execute(
            "SELECT id, title, final_price FROM products WHERE category = ? ORDER BY rating DESC, id LIMIT 1",
            [category]).fetchone()
        if product is None:  # an imported catalog without this category: the demo order just has fewer lines
            continue
        variant = catalog.execute("SELECT sku, color, size, price FROM variants WHERE product_id = ? ORDER BY sku",
                                  [product[0]]).fetchone() or ("", None, None, None)
        price = variant[3] if variant[3] is not None else product[2]
        lines.append((product[0], product[1], category, variant[0], variant[1], variant[2], 1, float(price),
                      int(category in demo.final_sale)))
    if demo.gift_card:
        product_id, title, category, price = GIFT_CARD
        lines.append((product_id, title, category, "", None, None, 1, price, 0))
    return lines


def seed_demo_orders(store: sqlite_utils.Database, catalog: sqlite_utils.Database,
                     at: datetime | None = None, seed: int = 7) -> int:
    """Replace the demo orders (and returns made on them) with fresh ones dated from `at`; returns how many."""
    at = at or now()
    rng = random.Random(seed)
    with store.conn:
        demo_numbers = [r[0] for r in store.execute("SELECT number FROM orders WHERE source = 'demo'")]
        for table, column in (("returns", "order_number"), ("order_items", "order_number"), ("orders", "number")):
            store.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))",
                          [json.dumps(demo_numbers)])
        for demo in DEMO_ORDERS:
            if store.execute("SELECT 1 FROM orders WHERE number = ?", [demo.number]).fetchone():
                continue  # a live order already took this number: leave it alone
            lines = _lines(catalog, demo, rng)
            subtotal = round(sum(line[7] * line[6] for line in lines), 2)
            shipping = 0.0 if subtotal >= 50 else 4.99
            placed = at - demo.placed_ago
            shipped = placed + timedelta(hours=20) if demo.status in ("shipped", "out for delivery", "delivered",
                                                                     "returned") else None
            delivered = at - demo.delivered_ago if demo.delivered_ago else None
            tracking = _tracking(rng, demo.country) if shipped else None
            store.execute(
                "INSERT INTO orders (number, email, status, placed_at, shipped_at, delivered_at, carrier, "
                "tracking_number, country, subtotal, shipping, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "'demo')",
                [demo.number, demo.email, demo.status, iso(placed), iso(shipped), iso(delivered),
                 _CARRIERS[demo.country] if shipped else None, tracking, demo.country, subtotal, shipping])
            for number, line in enumerate(lines, start=1):
                insert_item(store, demo.number, number, *line)
    return len(DEMO_ORDERS)
