"""The recommender the dialogue core asks: ranked candidates with a one-line reason each.

Built once per process from the store's interaction log and the trained sequential model (if there is one):

- `personal`: what this shopper will want next, from their own sequence (SASRec; item-kNN when there is no
  model; trending when they have no history yet);
- `complements`: what goes with a product, from co-views and co-purchases across categories (item-kNN), topped
  up from the category prior when the log says too little;
- `trending`: popularity with recent, committed events (carts, purchases) counting most.

Candidates come back longer than a page so the caller can apply the conversation's hard filters and drop what is
already in the cart and still have enough. Product ids the model does not know (new products) are simply never
proposed by it; they are reachable through search and `similar`.
"""
from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
import torch

from assistant.catalog.vocabulary import COMPLEMENTS
from assistant.dialogue.render import the
from assistant.recommend import interactions, training
from assistant.recommend.evaluation import Case
from assistant.recommend.interactions import VERBS, Event
from assistant.recommend.models import ItemKNN, SASRec
from assistant.search.embeddings import index_for, product_vector

logger = logging.getLogger(__name__)

CANDIDATES = 200
MIN_SHOPPERS_TO_HOLD_OUT = 200  # fewer, and a held-out last step per shopper is too noisy to stop on
KIND_WEIGHT = {"view": 1.0, "ask": 1.5, "cart": 3.0, "purchase": 4.0}
TRENDING_HALF_LIFE_DAYS = 14.0


@dataclass(frozen=True)
class Candidate:
    product_id: str
    reason: str


class ItemSpace:
    """Product ids <-> the dense item ids 1..n the models use."""

    def __init__(self, product_ids: list[str]) -> None:
        self.product_ids = list(product_ids)
        self.index = {pid: number for number, pid in enumerate(self.product_ids, start=1)}

    def __len__(self) -> int:
        return len(self.product_ids)

    def encode(self, product_ids: list[str]) -> list[int]:
        return [self.index[p] for p in product_ids if p in self.index]

    def decode(self, item: int) -> str:
        return self.product_ids[item - 1]


class Recommender:
    def __init__(self, catalog: sqlite_utils.Database, store: sqlite_utils.Database,
                 model: tuple[SASRec, ItemSpace] | None = None) -> None:
        self.catalog = catalog
        known = {r[0]: (r[1], r[2]) for r in catalog.execute("SELECT id, title, category FROM products")}
        journeys = _journeys(store, known.keys())
        self.titles = {pid: title for pid, (title, _) in known.items()}
        self.categories = {pid: category for pid, (_, category) in known.items()}
        self.model, self.space = model if model else (None, ItemSpace(sorted({p for j in journeys for p in j})))
        sequences = [self.space.encode(j) for j in journeys]
        self.knn = ItemKNN([s for s in sequences if s], len(self.space)) if any(sequences) else None
        self.trending_ids = self._trending(store)
        self._unit_items = (torch.nn.functional.normalize(self.model.items.weight.detach(), dim=1)
                            if self.model is not None else None)  # for explaining picks by closeness

    # ---- building blocks --------------------------------------------------------------------------------------
    def _trending(self, store: sqlite_utils.Database) -> list[str]:
        """Products by recency-weighted engagement (a purchase this week beats a view last quarter), then the
        rest of the catalog by rating and review count, so a new store or a quiet category still has an order."""
        scores: dict[str, float] = {}
        latest = store.execute("SELECT max(at) FROM interactions").fetchone()[0]
        decay = math.log(2) / TRENDING_HALF_LIFE_DAYS
        for product_id, kind, age in store.execute(
                "SELECT product_id, kind, julianday(?) - julianday(at) FROM interactions", [latest]):
            if product_id in self.titles:
                scores[product_id] = scores.get(product_id, 0.0) + KIND_WEIGHT[kind] * math.exp(-decay * (age or 0))
        rest = [r[0] for r in self.catalog.execute(
            "SELECT id FROM products WHERE stock > 0 ORDER BY coalesce(rating, 0) * ln(2 + review_count) DESC, id")
            if r[0] not in scores]
        return sorted(scores, key=lambda p: (-scores[p], p)) + rest

    def _the(self, product_id: str) -> str:
        return the(self.titles[product_id]) if product_id in self.titles else "that"

    def _because(self, picks: list[int], events: list[Event]) -> list[str]:
        """For each pick, which of the shopper's own steps best explains it: the history item closest to it
        (item embeddings of the model, else item-kNN similarity; `personal` asks only when one of them exists),
        the most recent one on a tie. `events` are the shopper's steps the item space knows, oldest first."""
        items = self.space.encode([e.product_id for e in events])
        if self._unit_items is not None:
            vectors = self._unit_items
            where = vectors.device
            closeness = (vectors[torch.as_tensor(items, device=where)]
                         @ vectors[torch.as_tensor(picks, device=where)].t())
        else:
            closeness = self.knn.scores([[p] for p in picks])[:, items].t()  # each pick's own neighbour row
        latest_best = len(items) - 1 - closeness.flip(0).argmax(0)  # argmax keeps the first of equals
        return [f"because you {VERBS[events[n].kind]} {self._the(events[n].product_id)}"
                for n in latest_best.tolist()]

    # ---- what the shop asks -----------------------------------------------------------------------------------
    def trending(self, limit: int = CANDIDATES) -> list[Candidate]:
        return [Candidate(p, "popular with shoppers right now") for p in self.trending_ids[:limit]]

    def personal(self, events: list[Event], limit: int = CANDIDATES) -> list[Candidate]:
        """Next products for a shopper whose recent steps are `events` (oldest first), then trending ones (a
        model that knows few products, or a shopper it knows little about, still fills a page)."""
        items = self.space.encode([e.product_id for e in events])
        scorer = self.model if self.model is not None else self.knn
        if not items or scorer is None:
            return self.trending(limit)
        with torch.no_grad():
            scores = scorer.scores([items])[0]
            scores[torch.as_tensor(items, device=scores.device)] = float("-inf")  # not what they just saw
            top = torch.topk(scores, min(limit, len(self.space) + 1))
        floor = 0.0 if scorer is self.knn else float("-inf")  # item-kNN scores 0 for "never seen together"
        picks = [i for i, score in zip(top.indices.tolist(), top.values.tolist()) if i > 0 and score > floor]
        known_events = [e for e in events if e.product_id in self.space.index]
        reasons = self._because(picks, known_events) if picks else []
        found = [Candidate(self.space.decode(i), reason) for i, reason in zip(picks, reasons)]
        seen = {c.product_id for c in found} | {e.product_id for e in events}
        return found + [c for c in self.trending(limit) if c.product_id not in seen][:max(0, limit - len(found))]

    def similar(self, product: dict, limit: int = CANDIDATES) -> list[Candidate]:
        """Products of the same category closest in meaning to `product` (its embedding), each with what it
        shares with it; empty when the catalog has no embeddings (the caller falls back to the category)."""
        index = index_for(self.catalog.conn)
        vector = product_vector(self.catalog.conn, product["id"]) if index is not None else None
        if vector is None:
            return []
        rowids = [rowid for rowid, _ in index.top_k(vector, limit + 1)]
        rows = {r[0]: r[1:] for r in self.catalog.execute(
            "SELECT rowid, id, category, brand, final_price FROM products WHERE rowid IN "
            "(SELECT value FROM json_each(?))", [json.dumps(rowids)])}
        picks = [rows[r] for r in rowids if r in rows and rows[r][0] != product["id"]]
        return [Candidate(pid, _likeness(product, brand, price)) for pid, category, brand, price in picks
                if category == product["category"]][:limit]

    def complements(self, product_id: str, limit: int = CANDIDATES) -> list[Candidate]:
        """Products of other categories that shoppers pair with `product_id`, then the category prior's best."""
        category = self.categories.get(product_id)
        title = self._the(product_id)
        found: list[Candidate] = []
        if self.knn is not None and product_id in self.space.index:
            found = [Candidate(self.space.decode(i), f"often bought with {title}")
                     for i, _ in self.knn.neighbours(self.space.index[product_id])
                     if self.categories.get(self.space.decode(i)) not in (None, category)]
        partners = COMPLEMENTS.get(category or "", ())
        taken = {c.product_id for c in found}
        for pid in self.trending_ids:
            if len(found) >= limit:
                break
            if pid not in taken and self.categories.get(pid) in partners:
                found.append(Candidate(pid, f"goes well with {title}"))
        return found[:limit]


def _journeys(store: sqlite_utils.Database, known: Collection[str]) -> list[list[str]]:
    """Every logged journey, keeping only products still in the catalog."""
    return [[p for p in journey if p in known] for journey in interactions.sequences(store).values()]


def _likeness(anchor: dict, brand: str | None, price: float) -> str:
    """What a similar product (its brand and price) has in common with the anchor, in a few words."""
    title = the(anchor["title"])
    difference = round(anchor["final_price"] - price)
    if difference >= 5:
        return f"like {title}, ${difference} less"
    if brand and brand == anchor.get("brand"):
        return f"like {title}, also from {brand}"
    return f"similar to {title}"


# ---- one recommender per process, rebuilt when the model file changes ----------------------------------------
_LOCK = threading.Lock()
_CACHE: dict[tuple, tuple[float, Recommender]] = {}


def _stamp(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def retrain(catalog: sqlite_utils.Database, store: sqlite_utils.Database, model_path: Path,
            config: training.FitConfig = training.FitConfig(), **extra: object) -> training.FitReport:
    """Train the sequential model on every logged journey of products still in the catalog and save it with its
    product ids. Each shopper's last step is held out for early stopping when there are enough shoppers."""
    journeys = [j for j in _journeys(store, {r[0] for r in catalog.execute("SELECT id FROM products")})
                if len(j) >= 2]
    if not journeys:
        raise ValueError("No interaction history to learn from: run `python -m assistant recommend synthesize` "
                         "or let shoppers use the assistant first.")
    space = ItemSpace(sorted({p for j in journeys for p in j}))
    sequences = [space.encode(j) for j in journeys]
    held_out = len(sequences) >= MIN_SHOPPERS_TO_HOLD_OUT
    train = [s[:-1] for s in sequences] if held_out else sequences
    valid = [Case(tuple(s[:-1]), s[-1], frozenset(s)) for s in sequences] if held_out else []
    model, report = training.fit(train, len(space), valid, config)
    training.save(model, model_path, product_ids=space.product_ids, **extra)
    return report


def load_model(path: Path) -> tuple[SASRec, ItemSpace] | None:
    """The trained sequential model and its item ids, or None (logged) when there is none or it is unreadable."""
    if not path.exists():
        return None
    try:
        model, extra = training.load(path)
    except Exception:  # a half-written or incompatible file must not take the shop down
        logger.exception("Could not load the recommender model %s; recommending without it", path)
        return None
    return model, ItemSpace(extra["product_ids"])


def recommender_for(catalog: sqlite_utils.Database, store: sqlite_utils.Database, model_path: Path) -> Recommender:
    """The process's recommender for this catalog, store and model file; built on first use, rebuilt after a
    retrain (the model file changes)."""
    key = (id(catalog), id(store), str(model_path))
    stamp = _stamp(model_path)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None or cached[0] != stamp:
            cached = _CACHE[key] = (stamp, Recommender(catalog, store, load_model(model_path)))
    return cached[1]
