"""Semantic and hybrid search: vague needs find the right kind of product, hard filters still hold, exact names
still win, embeddings follow catalog changes, and search without embeddings is full text only."""
from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.catalog.build import build_catalog, open_catalog, read_meta
from assistant.dialogue.shop import Shop
from assistant.search import embeddings
from assistant.search.embeddings import TABLE, EmbeddingIndex, embed_catalog, index_for
from assistant.search.engine import (MIN_SIMILARITY, _allowed_rowids, _has_filters, _Meaning, _mmr, _neighbours,
                                     _pool, search)
from assistant.search.prices import PriceRange
from assistant.search.query import SearchQuery, build_query
from tests.test_search_engine import _violations

pytestmark = pytest.mark.skipif(not embeddings.encoder_available(), reason="sentence-transformers not installed")

PRODUCTS = 240  # about 13 per category: enough to rank, quick to embed


@pytest.fixture(scope="session")
def embedded_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo catalog with its embeddings, built once per session."""
    path = tmp_path_factory.mktemp("embedded") / "catalog.db"
    build_catalog(path, count=PRODUCTS, seed=7, progress=False)
    embed_catalog(path, progress=False)
    return path


@pytest.fixture(scope="session")
def db(embedded_catalog: Path) -> sqlite_utils.Database:
    return open_catalog(embedded_catalog)


@pytest.fixture
def copy(embedded_catalog: Path, tmp_path: Path) -> Path:
    """A private copy of the embedded catalog, for tests that change it."""
    return Path(shutil.copy(embedded_catalog, tmp_path / "catalog.db"))


def _vectors(path: Path) -> dict[str, bytes]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute(f"SELECT product_id, vector FROM {TABLE}"))


# ---- relevance -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("need", "category"), [
    ("I get cold at night when camping", "sleeping bags"),
    ("something to keep my drinks hot for hours", "water bottles"),
    ("music on my commute without the noise of the train", "headphones"),
    ("protect my phone when I drop it", "phone cases"),
    ("stay dry when it pours on my walk to work", "rain jackets"),
    ("my skin gets dry and tight", "skincare"),
])
def test_vague_needs_find_the_right_kind_of_product(embedded_catalog: Path, tmp_path: Path, need: str,
                                                   category: str) -> None:
    shop = Shop(embedded_catalog, tmp_path / "store.db")
    query = build_query(need, [], shop.vocab)
    found = search(shop.catalog, query, limit=5).products
    assert len(found) >= 2 and {p["category"] for p in found[:2]} == {category}, [p["title"] for p in found]


def test_an_exact_title_comes_first(db: sqlite_utils.Database) -> None:
    titles = [r[0] for r in db.execute("SELECT title FROM products WHERE stock > 0 ORDER BY id LIMIT 40")]
    for title in titles[::4]:
        assert search(db, SearchQuery(text=title), limit=5).products[0]["title"] == title


def test_a_page_is_not_five_near_identical_products(db: sqlite_utils.Database) -> None:
    index = index_for(db.conn)
    found = search(db, SearchQuery(text="warm jacket for winter"), limit=5).products
    rowids = [db.execute("SELECT rowid FROM products WHERE id = ?", [p["id"]]).fetchone()[0] for p in found]
    similarity = index.similarities(rowids)
    assert len(found) == 5 and (similarity[np.triu_indices(5, 1)] < 0.97).any()


def test_mmr_puts_a_different_product_before_a_near_duplicate() -> None:
    vectors = np.array([[1, 0, 0], [0.999, 0.045, 0], [0, 1, 0]], dtype=np.float32)
    index = EmbeddingIndex(np.array([1, 2, 3]), vectors, np.ones(3, dtype=bool), "cpu")
    assert _mmr([1, 2, 3], {1: 1.0, 2: 0.95, 3: 0.8}, index, 3) == [1, 3, 2]


# ---- hard filters ----------------------------------------------------------------------------------------
NEEDS = ["keep my coffee hot", "cold at night camping", "quiet commute", "waterproof", "gift for a runner",
         "Nike", "something light for travel"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hybrid_results_never_break_a_filter(db: sqlite_utils.Database, data: st.DataObject) -> None:
    brands = [r[0] for r in db.execute("SELECT DISTINCT brand FROM products ORDER BY 1")]
    categories = [r[0] for r in db.execute("SELECT DISTINCT category FROM products ORDER BY 1")]
    query = SearchQuery(
        text=data.draw(st.sampled_from(NEEDS)),
        category=data.draw(st.none() | st.sampled_from(categories)),
        brands=data.draw(st.lists(st.sampled_from(brands), max_size=3, unique=True)),
        exclude_brands=data.draw(st.lists(st.sampled_from(brands), max_size=2, unique=True)),
        colors=data.draw(st.lists(st.sampled_from(["black", "blue", "green", "red", "grey"]), max_size=2)),
        size=data.draw(st.none() | st.sampled_from(["M", "L", "10", "9"])),
        price=data.draw(st.none() | st.builds(PriceRange, st.none() | st.integers(0, 200).map(float),
                                              st.none() | st.integers(10, 400).map(float))),
        min_rating=data.draw(st.none() | st.sampled_from([3.5, 4.0, 4.5])),
        on_sale=data.draw(st.booleans()),
        sort=data.draw(st.sampled_from(["relevance", "price_asc", "price_desc", "rating"])),
    )
    result = search(db, query, limit=20)
    for product in result.products:
        assert _violations(db, query, product) == [], product["id"]
    assert result.total >= len(result.products)
    assert [p["id"] for p in search(db, query, limit=20).products] == [p["id"] for p in result.products]


@pytest.fixture(scope="module")
def random_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[sqlite_utils.Database, EmbeddingIndex]:
    """A 400-product catalog with random 8-dimensional vectors: cosines spread widely, so a filtered neighbour
    search ends in each of its ways (enough allowed, below the similarity floor, everything seen, fallback)."""
    path = tmp_path_factory.mktemp("random") / "catalog.db"
    build_catalog(path, count=400, seed=7, progress=False)
    rng = np.random.default_rng(5)
    with sqlite3.connect(path) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM products")]
        conn.executemany(f"INSERT INTO {TABLE} VALUES (?, 'x', ?)",
                         [(i, rng.normal(size=8).astype(np.float32).tobytes()) for i in ids])
    db = open_catalog(path)
    return db, EmbeddingIndex.load(db.conn, "cpu")


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_filtered_neighbours_are_the_exact_top_k_of_the_allowed_products(
        random_index: tuple[sqlite_utils.Database, EmbeddingIndex], data: st.DataObject) -> None:
    db, index = random_index
    categories = [r[0] for r in db.execute("SELECT DISTINCT category FROM products ORDER BY 1")]
    brands = [r[0] for r in db.execute("SELECT DISTINCT brand FROM products ORDER BY 1")]
    query = SearchQuery(
        category=data.draw(st.none() | st.sampled_from(categories)),
        brands=data.draw(st.lists(st.sampled_from(brands), max_size=2, unique=True)),
        colors=data.draw(st.lists(st.sampled_from(["black", "blue", "red", "grey"]), max_size=2)),
        size=data.draw(st.none() | st.sampled_from(["M", "10"])),
        price=data.draw(st.none() | st.builds(PriceRange, st.none() | st.integers(0, 150).map(float),
                                              st.none() | st.integers(20, 400).map(float))),
        on_sale=data.draw(st.booleans()))
    vector = np.random.default_rng(data.draw(st.integers(0, 10_000))).normal(size=8).astype(np.float32)
    depth = data.draw(st.sampled_from([1, 3, 10, 20]))
    expected = [r for r, _ in index.top_k(vector, depth, _allowed_rowids(db.conn, query), MIN_SIMILARITY)]
    scores = index.all_scores(vector)
    meaning = _Meaning(vector, scores, _pool(index, scores, depth, _has_filters(query)))
    assert _neighbours(db.conn, index, query, meaning, depth) == expected


def test_top_k_is_exact_and_respects_the_allowed_set() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    in_stock = rng.random(50) > 0.2
    index = EmbeddingIndex(np.arange(100, 150), vectors, in_stock, "cpu")
    query = rng.normal(size=8).astype(np.float32)
    scores = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (query / np.linalg.norm(query))
    allowed = [101, 107, 120, 121, 133, 149]
    assert [r for r, _ in index.top_k(query, 3, allowed)] == sorted(allowed, key=lambda r: -scores[r - 100])[:3]
    expected = sorted((r for r in range(100, 150) if in_stock[r - 100]), key=lambda r: -scores[r - 100])[:10]
    assert [r for r, _ in index.top_k(query, 10)] == expected
    scored = index.all_scores(query)  # one pass, then any filter over the same scores
    assert index.best(scored, 10) == index.top_k(query, 10)
    assert index.best(scored, 3, allowed) == index.top_k(query, 3, allowed)
    assert index.best(scored, 10, [], min_score=-1.0) == []


@pytest.mark.parametrize("bfloat16", [False, True])
def test_a_query_vector_is_the_encoder_s_vector(monkeypatch: pytest.MonkeyPatch, bfloat16: bool) -> None:
    """The single-query path pools like the sentence-transformers pipeline it skips: the same vector in float32,
    and a cosine of at least 0.9999 with it when the transformer runs in bfloat16."""
    monkeypatch.setattr(embeddings, "native_bfloat16", lambda: bfloat16)
    embeddings._query_encoder.cache_clear()
    embeddings.query_vector.cache_clear()
    try:
        texts = ["  something to keep my coffee hot on a hike", "Osprey Compass 30L Laptop Backpack", "snekers",
                 "protect my phone when I drop it " * 20]  # the last one is cut at MAX_SEQ_TOKENS, as products are
        ours = np.stack([embeddings.query_vector(t) for t in texts])
        theirs = embeddings.encode(texts)
        assert ours.dtype == np.float32 and np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert (ours * theirs).sum(axis=1).min() >= (0.9999 if bfloat16 else 0.999999)
    finally:
        embeddings._query_encoder.cache_clear()
        embeddings.query_vector.cache_clear()


# ---- keeping embeddings current --------------------------------------------------------------------------
def test_only_a_changed_product_is_re_embedded(copy: Path) -> None:
    before = _vectors(copy)
    changed, removed = sorted(before)[:2]
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE products SET description = 'Keeps soup hot for twelve hours.' WHERE id = ?", [changed])
        conn.execute("DELETE FROM variants WHERE product_id = ?", [removed])
        conn.execute("DELETE FROM reviews WHERE product_id = ?", [removed])
        conn.execute("DELETE FROM products WHERE id = ?", [removed])
    report = embed_catalog(copy, progress=False)
    assert (report.embedded, report.removed, report.kept) == (1, 1, PRODUCTS - 2)
    after = _vectors(copy)
    assert removed not in after and after[changed] != before[changed]
    assert all(after[i] == before[i] for i in after if i != changed)
    assert embed_catalog(copy, progress=False).up_to_date


def test_search_follows_a_product_whose_text_changed(copy: Path) -> None:
    """Re-embedding is what moves a product in meaning (the full-text index here is stale on purpose: only
    the embeddings are looked at), and a running process picks up the new vectors."""
    need = SearchQuery(text="a soft wool blanket for picnics in the park")
    before = search(open_catalog(copy), need, limit=3, signals="embeddings").products  # loads this version's index
    with sqlite3.connect(copy) as conn:
        changed = conn.execute("SELECT id FROM products WHERE category = 'tents' AND stock > 0 LIMIT 1").fetchone()[0]
        conn.execute("UPDATE products SET title = 'Harbor Lane Picnic Blanket', "
                     "description = 'A soft wool blanket for picnics in the park.' WHERE id = ?", [changed])
    assert changed not in [p["id"] for p in before]
    assert embed_catalog(copy, progress=False).embedded == 1
    assert search(open_catalog(copy), need, limit=3, signals="embeddings").products[0]["id"] == changed


def test_a_rebuild_keeps_the_vectors_of_unchanged_products(copy: Path) -> None:
    before, stamp = _vectors(copy), read_meta(copy)["embedding_model"]
    build_catalog(copy, count=PRODUCTS, seed=7, force=True, progress=False)
    assert _vectors(copy) == before
    assert read_meta(copy)["embedding_model"] == stamp  # the vectors still say which model made them
    assert embed_catalog(copy, progress=False).up_to_date


def test_a_rebuild_that_keeps_no_vectors_drops_their_stamp(copy: Path) -> None:
    build_catalog(copy, count=PRODUCTS, seed=8, force=True, progress=False)  # other seed: every text differs
    assert not _vectors(copy) and "embedding_model" not in read_meta(copy)


def test_embed_if_stale_leaves_a_current_catalog_alone(copy: Path, capsys: pytest.CaptureFixture) -> None:
    from assistant.__main__ import main

    modified = copy.stat().st_mtime_ns
    assert main(["catalog", "embed", "--if-stale", "--db", str(copy)]) == 0
    assert "up to date" in capsys.readouterr().out and copy.stat().st_mtime_ns == modified


# ---- device and fallback ---------------------------------------------------------------------------------
def test_the_index_falls_back_to_cpu_without_cuda(db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from assistant.settings import torch_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("HARBOR_DEVICE", raising=False)
    assert torch_device() == "cpu"
    monkeypatch.setenv("HARBOR_DEVICE", "cuda")
    assert torch_device() == "cpu"
    assert EmbeddingIndex.load(db.conn, torch_device()).vectors.device.type == "cpu"


def _fts_only_ids(path: Path, query: SearchQuery) -> list[str]:
    with sqlite3.connect(path) as conn:
        conn.execute(f"DROP TABLE {TABLE}")
    return [p["id"] for p in search(open_catalog(path), query, limit=5).products]


@pytest.mark.parametrize("why", ["no embeddings", "no encoder"])
def test_without_embeddings_search_is_full_text_only(copy: Path, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture, why: str) -> None:
    query = SearchQuery(text="insulated bottle", sort="relevance")
    if why == "no encoder":
        monkeypatch.setattr(embeddings, "encoder_available", lambda: False)
    else:
        with sqlite3.connect(copy) as conn:
            conn.execute(f"DELETE FROM {TABLE}")
    catalog = open_catalog(copy)
    with caplog.at_level(logging.WARNING, logger=embeddings.__name__):
        first = search(catalog, query, limit=5)
        again = search(catalog, query, limit=5)
    assert len([r for r in caplog.records if "Semantic search off" in r.message]) == 1
    assert first == again and first.text_match == "all"
    assert [p["id"] for p in first.products] == _fts_only_ids(copy, query)
