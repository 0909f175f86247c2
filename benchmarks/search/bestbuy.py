"""Hybrid search on text nobody here wrote: the public Best Buy cell-phone catalog (../shared/datasets/
bestbuy_catalog, see its SOURCE.md), imported with our importer into a temporary catalog, embedded, and
searched. The file has no queries or relevance labels, so this shows results rather than scoring them. The data
is read where it lies and never copied into the repository.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from assistant.catalog.build import open_catalog
from assistant.catalog.importer import ImportReport, import_catalog
from assistant.search.embeddings import EmbedReport, embed_catalog
from assistant.search.engine import search
from assistant.search.query import SearchQuery

DATASET = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "bestbuy_catalog" / "ecommerce.json"
SHOWN = 3  # results listed per query

# Written for this catalog: exact names, attributes, needs in plain words, and a typo.
QUERIES = (
    "OtterBox Defender Series case for iPhone 7",
    "waterproof phone case",
    "keep my phone charged on a long trip",
    "mount my phone in the car so I can see the map",
    "unlocked Samsung Galaxy phone",
    "band for my Fitbit Charge 2",
    "take better photos with my phone",
    "screen protectr for iphone 6",
)


@dataclass(frozen=True)
class BestBuyRun:
    imported: ImportReport
    embedded: EmbedReport
    import_seconds: float
    results: list[tuple[str, list[dict]]]  # (query, top products)


def run(dataset: Path, workdir: Path, queries: tuple[str, ...] = QUERIES) -> BestBuyRun:
    """Import `dataset` into a catalog in `workdir`, embed it, and run each query through hybrid search."""
    db_path = workdir / "bestbuy.db"
    started = time.perf_counter()
    imported = import_catalog(db_path, dataset)
    import_seconds = time.perf_counter() - started
    embedded = embed_catalog(db_path, progress=False)
    db = open_catalog(db_path)
    results = [(text, search(db, SearchQuery(text=text), limit=SHOWN).products) for text in queries]
    db.conn.close()
    return BestBuyRun(imported, embedded, import_seconds, results)


def markdown(result: BestBuyRun) -> str:
    """Each query with its top results (title, category, price)."""
    lines = ["| query | top results (category, price) |", "|---|---|"]
    for text, products in result.results:
        shown = "<br>".join(f"{n}. {p['title']} ({p['category']}, ${p['final_price']:,.2f})"
                            for n, p in enumerate(products, 1)) or "(nothing found)"
        lines.append(f"| {text} | {shown.replace('|', '/')} |")
    return "\n".join(lines)
