"""Plausible shopping history for the demo catalog, so recommendations work before any real shopper arrives.

Each synthetic shopper has a mission (a category, weighted by how many products it has), a price tier and often a
favourite brand. They look at a few products of the mission category (better rated and better reviewed products
more often, as on a real store), ask about one, cart one, and often go on to a category that completes the
purchase (COMPLEMENTS) before checking out. The result has the structure the recommender should find: sequences
within a category, price-tier consistency, brand loyalty, and cross-category complements.
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlite_utils

from assistant.catalog.vocabulary import COMPLEMENTS
from assistant.progress import progress_bar


@dataclass(frozen=True)
class _Item:
    id: str
    brand: str
    tier: int  # 0 cheapest third of its category ... 2 dearest third
    weight: float  # how often it gets noticed


def _items_by_category(catalog: sqlite_utils.Database) -> dict[str, list[_Item]]:
    rows = catalog.execute("SELECT id, category, brand, final_price, coalesce(rating, 3.0), review_count "
                           "FROM products WHERE stock > 0 ORDER BY category, final_price, id").fetchall()
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(row)
    items = {}
    for category, members in grouped.items():
        items[category] = [_Item(pid, brand, min(2, 3 * rank // len(members)),
                                 math.exp(rating - 4.0) * math.log(2 + reviews))
                           for rank, (pid, _, brand, _, rating, reviews) in enumerate(members)]
    return items


def _pick(rng: random.Random, items: list[_Item], tier: int, brand: str | None, avoid: set[str]) -> _Item | None:
    """One product, preferring the shopper's tier and brand; None when everything was already seen."""
    pool = [i for i in items if i.id not in avoid]
    if not pool:
        return None
    weights = [i.weight * (3.0 if i.tier == tier else 0.5) * (4.0 if brand and i.brand == brand else 1.0)
               for i in pool]
    return rng.choices(pool, weights)[0]


def _journey(rng: random.Random, items: dict[str, list[_Item]]) -> list[tuple[str, str]]:
    """(product id, kind) events of one shopper, in order."""
    categories = sorted(items)
    mission = rng.choices(categories, [len(items[c]) for c in categories])[0]
    tier = rng.choice((0, 1, 1, 2))
    brand = rng.choice(items[mission]).brand if rng.random() < 0.4 else None
    events: list[tuple[str, str]] = []
    seen: set[str] = set()
    stops = [mission] + [c for c in COMPLEMENTS.get(mission, ()) if c in items and rng.random() < 0.45][:2]
    carted = []
    for stop, category in enumerate(stops):
        looks = rng.randint(2, 5) if stop == 0 else rng.randint(1, 3)
        chosen = []
        for _ in range(looks):
            item = _pick(rng, items[category], tier, brand if stop == 0 else None, seen)
            if item is None:
                break
            seen.add(item.id)
            chosen.append(item)
            events.append((item.id, "view"))
            if rng.random() < 0.25:
                events.append((item.id, "ask"))
        if chosen and rng.random() < (0.6 if stop == 0 else 0.5):
            pick = max(chosen, key=lambda i: i.weight * rng.random())
            events.append((pick.id, "cart"))
            carted.append(pick.id)
    if carted and rng.random() < 0.6:
        events += [(product_id, "purchase") for product_id in carted]
    return events


def synthesize(catalog: sqlite_utils.Database, store: sqlite_utils.Database, *, shoppers: int = 4000,
               seed: int = 11, days: int = 90, progress: bool = True) -> int:
    """Replace the synthetic history with `shoppers` fresh journeys over the last `days` days; returns how many
    events were written. Live history is left alone."""
    rng = random.Random(seed)
    items = _items_by_category(catalog)
    if not items:
        return 0
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=days)
    rows = []
    with progress_bar(progress, shoppers, "Synthetic shoppers", unit=" shoppers") as bar:
        for number in range(shoppers):
            at = start + timedelta(seconds=rng.randrange(days * 86400))
            for product_id, kind in _journey(rng, items):
                at += timedelta(seconds=rng.randint(20, 240))
                rows.append((f"synthetic-{number:05d}", product_id, kind, at.strftime("%Y-%m-%dT%H:%M:%S")))
            if bar is not None:
                bar.update(1)
    with store.conn:
        store.execute("DELETE FROM interactions WHERE source = 'synthetic'")
        store.conn.executemany("INSERT INTO interactions (shopper, product_id, kind, at, source) "
                               "VALUES (?, ?, ?, ?, 'synthetic')", rows)
    return len(rows)
