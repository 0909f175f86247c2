"""Search latency at catalog sizes the demo catalog is not: full hybrid searches (hard filters, FTS5, query
encoding, embedding top-k, fusion, MMR) timed one at a time over a fixed mix of queries.

Catalogs come from the seeded generator. Embedding a million products with MiniLM on two CPU cores would take
hours, so these catalogs get synthetic vectors instead: each product takes the real vector of a random demo
product of the same category and sub-category, plus a little Gaussian noise, renormalised. Neighbours then
cluster by kind the way real ones do, which is what the top-k and the MMR step see; their content hash is
"synthetic", so `catalog embed` would replace them all with real ones. Relevance is never measured on them.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from assistant.catalog.build import build_catalog, open_catalog
from assistant.nlu.metrics import percentile
from assistant.search import embeddings, engine
from assistant.search.engine import search
from assistant.search.prices import PriceRange
from assistant.search.query import SearchQuery

NOISE = 0.015  # per dimension; a synthetic vector keeps a cosine of about 0.96 with the real one it copies
SYNTHETIC_HASH = "synthetic"
WRITE_BATCH = 20_000

# The fixed mix: free text alone, text with the filters shoppers use, and filters alone.
MIX: tuple[tuple[str, SearchQuery], ...] = (
    ("text", SearchQuery(text="waterproof hiking boots")),
    ("text", SearchQuery(text="something to keep my coffee hot on a hike")),
    ("text", SearchQuery(text="noise cancelling headphones for flights")),
    ("text", SearchQuery(text="Osprey Compass 30L Laptop Backpack")),
    ("text", SearchQuery(text="warm jacket")),
    ("text", SearchQuery(text="protect my phone when I drop it")),
    ("text", SearchQuery(text="sleping bag")),
    ("text", SearchQuery(text="zebra helicopter")),
    ("text + filters", SearchQuery(category="running shoes", text="trail", price=PriceRange(None, 120.0))),
    ("text + filters", SearchQuery(category="hiking boots", size="10", text="waterproof")),
    ("text + filters", SearchQuery(brands=["Patagonia"], colors=["black"], text="warm")),
    ("text + filters", SearchQuery(category="headphones", min_rating=4.0, text="long battery life")),
    ("text + filters", SearchQuery(category="t-shirts", size="M", colors=["navy"], text="soft cotton")),
    ("text + filters", SearchQuery(text="gift for a runner", price=PriceRange(None, 50.0), on_sale=True)),
    ("text + filters", SearchQuery(category="tents", exclude_brands=["Coleman"], text="light for two")),
    ("text + filters", SearchQuery(text="coffee", price=PriceRange(100.0, 300.0), sort="price_asc")),
    ("filters only", SearchQuery(category="backpacks", price=PriceRange(None, 100.0))),
    ("filters only", SearchQuery(category="sneakers", colors=["white"], size="9")),
)


# ---- catalogs -------------------------------------------------------------------------------------------
def catalog_path(directory: Path, size: int) -> Path:
    return directory / f"catalog-{size}.db"


def _demo_vectors(demo_db: Path) -> dict[tuple[str, str], np.ndarray]:
    """The demo catalog's real vectors, grouped by (category, sub-category)."""
    with contextlib.closing(sqlite3.connect(f"{demo_db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        rows = conn.execute(f"SELECT p.category, p.subcategory, e.vector FROM {embeddings.TABLE} e "
                            "JOIN products p ON p.id = e.product_id").fetchall()
    if not rows:
        raise ValueError(f"{demo_db} has no embeddings: run `python -m assistant catalog embed` first")
    groups: dict[tuple[str, str], list[np.ndarray]] = {}
    for category, subcategory, blob in rows:
        groups.setdefault((category, subcategory), []).append(np.frombuffer(blob, dtype=np.float32))
    return {key: np.stack(vectors) for key, vectors in groups.items()}


def add_synthetic_embeddings(db_path: Path, demo_db: Path, seed: int = 7) -> int:
    """Give every product of the catalog at `db_path` a synthetic vector (see the module docstring); returns
    how many were written. Written in place: these catalogs are benchmark scratch files."""
    groups = _demo_vectors(demo_db)
    by_category: dict[str, np.ndarray] = {}
    for (category, _), vectors in groups.items():
        by_category[category] = np.concatenate([by_category[category], vectors]) if category in by_category else vectors
    rng = np.random.default_rng(seed)
    written = 0
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        embeddings.create_table(conn)
        cursor = conn.execute("SELECT id, category, subcategory FROM products ORDER BY rowid")
        while rows := cursor.fetchmany(WRITE_BATCH):
            vectors = np.empty((len(rows), next(iter(groups.values())).shape[1]), dtype=np.float32)
            for i, (_, category, subcategory) in enumerate(rows):
                pool = groups.get((category, subcategory), by_category[category])
                vectors[i] = pool[rng.integers(len(pool))]
            vectors += rng.normal(0.0, NOISE, vectors.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            with conn:
                conn.executemany(f"INSERT OR REPLACE INTO {embeddings.TABLE} VALUES (?, ?, ?)",
                                 [(row[0], SYNTHETIC_HASH, v.tobytes()) for row, v in zip(rows, vectors)])
            written += len(rows)
        with conn:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             [("embedding_model", f"{SYNTHETIC_HASH} (benchmark)"),
                              ("embedded_at", datetime.now(timezone.utc).isoformat())])
    return written


def prepare_catalog(directory: Path, size: int, demo_db: Path) -> Path:
    """The generated catalog of `size` products with synthetic vectors, built only when missing or stale."""
    path = catalog_path(directory, size)
    report = build_catalog(path, count=size, progress=False)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        has = conn.execute(f"SELECT COUNT(*) FROM {embeddings.TABLE}").fetchone()[0]
    if not report.skipped or has != size:
        add_synthetic_embeddings(path, demo_db)
    return path


# ---- timing ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timings:
    size: int
    load_seconds: float  # first search: opening the catalog and loading the index (once per process)
    full_ms: dict[str, list[float]]  # each timed search, query encoding included, by kind of query
    retrieval_ms: list[float]  # the same searches with the query vector already cached: what grows with size
    one_thread_ms: list[float]  # the full searches with both halves on the calling thread, one after the other

    @property
    def all_ms(self) -> list[float]:
        return [t for times in self.full_ms.values() for t in times]


def _timed(db, query: SearchQuery, limit: int) -> float:
    tick = time.perf_counter()
    search(db, query, limit=limit)
    return 1000 * (time.perf_counter() - tick)


class _OnThisThread:
    """Stands in for the search's worker thread: runs the embedding half at once, on the calling thread, so a
    search does its two halves one after the other (as before they overlapped). Same results, other timing."""

    def submit(self, fn, *args) -> Future:
        done: Future = Future()
        done.set_result(fn(*args))
        return done


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    original = engine._search_thread
    engine._search_thread = _OnThisThread
    try:
        yield
    finally:
        engine._search_thread = original


def measure(db_path: Path, rounds: int = 5, limit: int = 5) -> Timings:
    """Time every query of MIX `rounds` times after one warm-up pass: once with the query-vector cache cleared
    (a new shopper message pays for encoding its text), then again with the vector cached (the part that
    grows with the catalog: SQL filters, FTS, top-k, fusion, MMR), and once more uncached on one thread (the
    baseline for the overlap of the full-text and embedding halves, interleaved so both see the same machine)."""
    started = time.perf_counter()
    db = open_catalog(db_path)
    index = embeddings.index_for(db.conn)
    if index is None:
        raise ValueError(f"{db_path} has no embeddings (or the encoder is missing): nothing hybrid to time")
    load_seconds = time.perf_counter() - started
    for _, query in MIX:  # warm-up: SQLite page cache, torch kernels
        search(db, query, limit=limit)
    full: dict[str, list[float]] = {}
    retrieval = []
    one_thread = []
    for _ in range(rounds):
        for group, query in MIX:
            embeddings.query_vector.cache_clear()
            full.setdefault(group, []).append(_timed(db, query, limit))
            retrieval.append(_timed(db, query, limit))
            embeddings.query_vector.cache_clear()
            with _one_thread():
                one_thread.append(_timed(db, query, limit))
    db.conn.close()
    return Timings(len(index), load_seconds, full, retrieval, one_thread)


def markdown_table(results: Sequence[Timings]) -> str:
    groups = list(dict.fromkeys(g for r in results for g in r.full_ms))
    lines = ["| products | p50 ms | p95 ms | " + " | ".join(f"{g} p95" for g in groups)
             + " | without encoding p50 / p95 | one thread p50 / p95 | p95 ratio | index load s |",
             "|---:|---:|---:|" + "---:|" * (len(groups) + 4)]
    for r in results:
        cells = [f"{percentile(r.full_ms[g], 0.95):.1f}" for g in groups]
        p95, alone = percentile(r.all_ms, 0.95), percentile(r.one_thread_ms, 0.95)
        lines.append(f"| {r.size:,} | {percentile(r.all_ms, 0.50):.1f} | {p95:.1f} | "
                     + " | ".join(cells) + f" | {percentile(r.retrieval_ms, 0.50):.1f} / "
                     f"{percentile(r.retrieval_ms, 0.95):.1f} | {percentile(r.one_thread_ms, 0.50):.1f} / "
                     f"{alone:.1f} | {p95 / alone:.2f} | {r.load_seconds:.1f} |")
    return "\n".join(lines)
