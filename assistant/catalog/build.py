"""Write the catalog database (docs/catalog-schema.md) and open it for reading.

Every write goes to a temporary file next to the catalog that replaces it with one atomic rename only once it
is complete, so a crash, a Ctrl-C or a bad import never leaves a half-built catalog behind, and a running
assistant keeps reading the old file until it reopens. Rows are inserted in batches with plain executemany
(sqlite-utils creates the tables, indexes and FTS), and the indexes and full-text index are built once at the
end. Big demo catalogs are generated block by block in worker processes while this process only inserts: with
~10 variant rows per product, SQLite inserts alone take about as long as generating.
"""
from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

import sqlite_utils

from assistant.catalog.generate import block_count, generate_block
from assistant.catalog.model import PRODUCT_COLUMNS, REVIEW_COLUMNS, VARIANT_COLUMNS, Product
from assistant.progress import progress_bar
from assistant.settings import settings
from assistant.search.embeddings import carry_embeddings

SCHEMA_VERSION = 1
FTS_COLUMNS = ("title", "brand", "description", "category", "subcategory")
_INDEXES = {"products": (("category",), ("brand",), ("category", "final_price")),
            "variants": (("size", "stock"),), "reviews": (("product_id",),)}
# Search only ever shows products in stock and compares category and brand case-insensitively, so its indexes
# hold in-stock products only (partial, WHERE stock > 0: a filter the index answers never reads a product row
# to check the stock) and compare with NOCASE (an index of another collation cannot serve those filters). The
# variants index answers a size filter's "this size, in stock, in these colours" without reading a variant row.
_SEARCH_INDEXES = {
    "idx_search_category": "products (category COLLATE NOCASE, final_price) WHERE stock > 0",
    "idx_search_brand": "products (brand COLLATE NOCASE, final_price) WHERE stock > 0",
    "idx_search_price": "products (final_price) WHERE stock > 0",
    "idx_search_sale": "products (on_sale, final_price) WHERE stock > 0",
    "idx_search_rating": "products (rating) WHERE stock > 0",
    "idx_variants_product_size": "variants (product_id, size COLLATE NOCASE, stock, color)",
}
_GENERATOR_SOURCES = ("generate.py", "vocabulary.py", "model.py")
PARALLEL_ABOVE = 50_000  # products; below this, starting worker processes costs more than it saves
PARALLEL_MIN_CPUS = 4  # the writer needs a core of its own; with fewer, workers only compete with it
MMAP_BYTES = 2**31 - 2**16  # how much of a catalog readers map: SQLite's default ceiling (a larger file maps in part)

Rows = tuple[list[tuple], list[tuple], list[tuple]]  # products, variants, reviews, ready for executemany


@dataclass(frozen=True)
class WriteCounts:
    products: int = 0
    variants: int = 0
    reviews: int = 0


@dataclass(frozen=True)
class BuildReport:
    path: Path
    products: int
    variants: int
    reviews: int
    seconds: float
    skipped: bool = False  # the catalog was already current and was left alone

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.path} is already current ({self.products:,} products)"
        rate = self.products / self.seconds if self.seconds else 0
        return (f"{self.products:,} products, {self.variants:,} variants, {self.reviews:,} reviews "
                f"in {self.seconds:.1f} s ({rate:,.0f} products/s)")


def generator_version() -> str:
    """A fingerprint of the generator's code: a demo catalog built by older code is not current."""
    digest = hashlib.sha256()
    for name in _GENERATOR_SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


# ---- schema ----------------------------------------------------------------------------------------------
def create_schema(db: sqlite_utils.Database) -> None:
    """Tables only; indexes and FTS come after the bulk insert (`finish_catalog`)."""
    db["products"].create({
        "id": str, "sku": str, "title": str, "brand": str, "category": str, "subcategory": str, "price": float,
        "sale_price": float, "final_price": float, "on_sale": int, "colors": str, "sizes": str, "specs": str,
        "rating": float, "review_count": int, "stock": int, "description": str, "image_url": str, "tags": str,
    }, pk="id", not_null=("title", "price", "final_price", "on_sale", "stock"), if_not_exists=True)
    db["variants"].create({"sku": str, "product_id": str, "color": str, "size": str, "price": float, "stock": int},
                          pk="sku", foreign_keys=[("product_id", "products", "id")], not_null=("product_id", "stock"),
                          if_not_exists=True)
    db["reviews"].create({"id": int, "product_id": str, "rating": int, "author": str, "text": str}, pk="id",
                         foreign_keys=[("product_id", "products", "id")], if_not_exists=True)
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_PRODUCTS_SQL = _insert_sql("products", PRODUCT_COLUMNS)
_VARIANTS_SQL = _insert_sql("variants", VARIANT_COLUMNS)
_REVIEWS_SQL = _insert_sql("reviews", REVIEW_COLUMNS)


def _rows(products: Iterable[Product]) -> Rows:
    products = list(products)  # read three times below
    return ([tuple(p.to_row().values()) for p in products],
            [(v.sku, p.id, v.color, v.size, v.price, v.stock) for p in products for v in p.variants],
            [(p.id, r.rating, r.author, r.text) for p in products for r in p.reviews])


def _write_rows(db: sqlite_utils.Database, batches: Iterable[Rows], progress=None) -> WriteCounts:
    """Insert row batches, one transaction each; a product id or variant SKU that exists already is an error
    (sqlite3.IntegrityError)."""
    create_schema(db)
    totals = [0, 0, 0]
    for products, variants, reviews in batches:
        with db.conn:
            db.conn.executemany(_PRODUCTS_SQL, products)
            db.conn.executemany(_VARIANTS_SQL, variants)
            db.conn.executemany(_REVIEWS_SQL, reviews)
        totals = [totals[0] + len(products), totals[1] + len(variants), totals[2] + len(reviews)]
        if progress is not None:
            progress.update(len(products))
    return WriteCounts(*totals)


def _batches(products: Iterable[Product], size: int) -> Iterator[list[Product]]:
    iterator = iter(products)
    while batch := list(islice(iterator, size)):
        yield batch


def write_products(db: sqlite_utils.Database, products: Iterable[Product], *, batch_size: int = 2000) -> WriteCounts:
    """Insert products with their variants and reviews (creating the tables if needed), one transaction per
    batch, never holding more than a batch in memory."""
    return _write_rows(db, map(_rows, _batches(products, batch_size)))


def _index_names(conn) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def create_indexes(db: sqlite_utils.Database) -> int:
    """The catalog's indexes, those it lacks only (a catalog built by older code gains the new ones); returns
    how many were created."""
    before = _index_names(db)
    for table, indexes in _INDEXES.items():
        for columns in indexes:
            db[table].create_index(columns, if_not_exists=True)
    for name, definition in _SEARCH_INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    after = _index_names(db)
    return len(after - before)


def add_missing_indexes(db_path: Path) -> int:
    """Give a current catalog built by older code the search indexes it lacks (and fresh planner statistics),
    writing only when some are missing, so a read-only catalog that has them all is left alone."""
    with contextlib.closing(sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)) as conn:
        present = _index_names(conn)
    if set(_SEARCH_INDEXES) <= present:
        return 0
    with contextlib.closing(sqlite3.connect(db_path, timeout=settings().busy_timeout_s)) as conn, conn:
        db = sqlite_utils.Database(conn)
        created = create_indexes(db)
        db.analyze()
    return created


def finish_catalog(db: sqlite_utils.Database, replaces: Path, **meta: object) -> None:
    """Indexes, the FTS5 index (rebuilt from scratch, so it matches the rows exactly), the embeddings of products
    whose text did not change (from the catalog file this one `replaces`), planner statistics and the meta table.
    Call once after all writes."""
    carry_embeddings(db.conn, replaces)
    create_indexes(db)
    if db["products_fts"].exists():
        db["products"].rebuild_fts()
    else:
        db["products"].enable_fts(FTS_COLUMNS, fts_version="FTS5")  # creates and populates
    db.analyze()
    product_count = db.execute("SELECT COUNT(*) FROM products").fetchone()[0]
    values = {"schema_version": SCHEMA_VERSION, "product_count": product_count,
              "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **meta}
    db["meta"].upsert_all([{"key": k, "value": None if v is None else str(v)} for k, v in values.items()], pk="key")


# ---- atomic replacement ----------------------------------------------------------------------------------
@contextlib.contextmanager
def replacing(db_path: Path, *, start_from_current: bool = False) -> Iterator[sqlite_utils.Database]:
    """Yield a database in a temporary file beside `db_path` (a copy of the current catalog when
    `start_from_current`), and move it over `db_path` only when the block finishes without an exception."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    # "<name>-tmp-XXXX" matches the catalog/*.db-* ignore rule, so a killed build never shows up in git status.
    handle, name = tempfile.mkstemp(prefix=f"{db_path.name}-tmp-", dir=db_path.parent)
    os.close(handle)
    temp = Path(name)
    conn = None
    try:
        if start_from_current and db_path.exists():
            source = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
            with contextlib.closing(source), contextlib.closing(sqlite3.connect(temp)) as target:
                source.backup(target)  # a consistent copy even while the assistant reads the catalog
        conn = sqlite3.connect(temp)
        conn.execute("PRAGMA journal_mode=OFF")  # a crash discards the whole temp file anyway
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-65536")
        yield sqlite_utils.Database(conn)
        conn.close()
        conn = None
        with open(temp, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(temp, db_path.stat().st_mode & 0o777 if db_path.exists() else 0o644)  # mkstemp made it 0600
        os.replace(temp, db_path)
    finally:
        if conn is not None:
            conn.close()
        temp.unlink(missing_ok=True)


# ---- the demo catalog ------------------------------------------------------------------------------------
def read_meta(db_path: Path) -> dict[str, str]:
    """The meta table as a dict; empty when the file is missing or not a catalog."""
    if not Path(db_path).is_file():
        return {}
    try:
        conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


class ImportedCatalogOutdated(RuntimeError):
    """The file holds a store's imported catalog, written for another schema version. It is not current, and
    building the demo catalog over it would swap the store's products for made-up ones: the owner re-imports."""

    def __init__(self, db_path: Path, meta: dict[str, str]) -> None:
        source = meta["source"].split(":", 2)[-1]
        super().__init__(
            f"{db_path} holds a catalog imported from {source} for catalog schema "
            f"{meta.get('schema_version', '?')}; this version of the assistant needs schema {SCHEMA_VERSION}. "
            f"Import it again (`python -m assistant catalog import {source}`), or replace it with the demo catalog "
            f"(`python -m assistant catalog build --force`).")


def catalog_is_current(db_path: Path, count: int, seed: int) -> bool:
    """True when no demo build is needed: the file is the demo catalog this code builds for (count, seed), or
    it holds a store's imported catalog, which the setup scripts' `build --if-stale` must never overwrite
    (only an explicit `build --force` replaces an import). Raises ImportedCatalogOutdated for an import made
    under another schema version."""
    meta = read_meta(db_path)
    if meta.get("source", "").startswith("import"):
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            raise ImportedCatalogOutdated(Path(db_path), meta)
        return True
    expected = {"source": "generator", "schema_version": str(SCHEMA_VERSION), "generator_seed": str(seed),
                "product_count": str(count), "generator_version": generator_version()}
    return all(meta.get(key) == value for key, value in expected.items())


def _block_rows(job: tuple[int, int, int]) -> Rows:
    """Worker-process entry point: one generated block, as rows."""
    return _rows(generate_block(*job))


@contextlib.contextmanager
def _generator_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """Processes for generating blocks, or None to generate here. Forked, so they need not re-import __main__
    (spawn hangs when that is a script it cannot find), and forked up front, before this process starts any
    thread (tqdm's monitor): forking a threaded process can deadlock the child. A worker that dies raises
    BrokenProcessPool rather than hanging the build."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pool.submit(int).result()  # with fork, the first submit starts every worker
        yield pool


def _demo_rows(count: int, seed: int, pool: ProcessPoolExecutor | None, workers: int) -> Iterator[Rows]:
    """Generated blocks, in order; with a pool, made ahead by the workers (at most two blocks each waiting, so
    memory stays flat however big the catalog)."""
    jobs = [(count, seed, block) for block in range(block_count(count))]
    if pool is None:
        yield from map(_block_rows, jobs)
        return
    pending: deque = deque()
    for job in jobs:
        pending.append(pool.submit(_block_rows, job))
        if len(pending) >= 2 * workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _auto_workers(count: int) -> int:
    """Up to 4 generator processes for big catalogs on machines with spare cores, else 1 (in-process)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cpus - 1, 4) if count > PARALLEL_ABOVE and cpus >= PARALLEL_MIN_CPUS else 1


def build_catalog(db_path: Path, count: int = 2400, seed: int = 7, *, force: bool = False, progress: bool = True,
                  workers: int | None = None) -> BuildReport:
    """Build the seeded demo catalog at `db_path`, unless it is already current and `force` is not set (without
    `force`, an outdated import raises ImportedCatalogOutdated instead of being replaced).

    `workers`: generator processes (None: automatic, see `_auto_workers`); 1 generates in this process. The
    catalog is the same whatever the number."""
    db_path = Path(db_path)
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    if not force and catalog_is_current(db_path, count, seed):
        add_missing_indexes(db_path)
        return BuildReport(db_path, count, 0, 0, 0.0, skipped=True)
    if workers is None:
        workers = _auto_workers(count)
    started = time.perf_counter()
    # Workers fork first, so they never inherit the open database connection.
    with (_generator_pool(workers) as pool, replacing(db_path) as db,
          progress_bar(progress, count, "catalog") as bar):
        counts = _write_rows(db, _demo_rows(count, seed, pool, workers), bar)
        finish_catalog(db, db_path, source="generator", generator_seed=seed, generator_version=generator_version())
    return BuildReport(db_path, counts.products, counts.variants, counts.reviews, time.perf_counter() - started)


def open_catalog(db_path: Path) -> sqlite_utils.Database:
    """Open the catalog read-only (works on a read-only file or directory; nothing that reads products may change
    them), shareable across threads, waiting rather than failing if the file is busy.

    The file is memory-mapped (up to MMAP_BYTES): searches read pages straight from the operating system's
    cache instead of copying each into SQLite's own small one, which halves filtered searches on a 100,000
    product catalog (docs/benchmarks.md), and every process serving the same catalog shares those pages."""
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no catalog at {path}: build it with `python -m assistant catalog build`")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=settings().busy_timeout_s,
                           check_same_thread=False)
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    return sqlite_utils.Database(conn)
