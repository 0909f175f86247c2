"""The search benchmarks' own logic on tiny data: grading rules, NDCG, the labelled query set still fitting the
generator's catalog, the comparison modes of search, synthetic vectors and the latency run, and the docs section."""
from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from assistant.catalog.build import build_catalog, open_catalog
from assistant.catalog.generate import generate_products
from assistant.search import embeddings
from assistant.search.engine import search
from assistant.search.query import SearchQuery
from benchmarks.search import cli, latency, relevance

BOTTLE = {"id": "B1", "title": "CamelBak Trail Chug 24 oz Insulated Water Bottle", "brand": "CamelBak",
          "category": "water bottles", "subcategory": "insulated", "colors": ["teal", "navy"], "tags": ["insulated"],
          "specs": {"capacity_oz": 24, "insulated": True, "keeps_hot_h": 8}, "final_price": 41.99}


def test_conditions_match_catalog_fields() -> None:
    assert relevance.matches({"category": "water bottles", "spec": {"insulated": True}}, BOTTLE)
    assert relevance.matches({"title_has": ["trail chug", "24 OZ"], "brand": ["Nalgene", "camelbak"]}, BOTTLE)
    assert relevance.matches({"color": ["red", "navy"], "tag": "insulated", "price_max": 50}, BOTTLE)
    assert relevance.matches({"spec": {"capacity_oz": {"min": 20, "max": 32}, "keeps_hot_h": [6, 8]}}, BOTTLE)
    assert not relevance.matches({"spec": {"insulated": 1}}, BOTTLE)  # a flag is not a number
    assert not relevance.matches({"spec": {"dishwasher_safe": True}}, BOTTLE)  # an absent spec never matches
    assert not relevance.matches({"category": "water bottles", "price_min": 50}, BOTTLE)
    query = relevance.LabelledQuery("x", "vague", ((2, {"spec": {"insulated": True}}), (1, {"category": "tents"})))
    assert query.grade(BOTTLE) == 2 and query.grade({**BOTTLE, "specs": {}}) == 0


def test_ndcg() -> None:
    assert relevance.ndcg([3, 1, 0], [3, 1]) == pytest.approx(1.0)
    assert relevance.ndcg([0, 3], [3]) == pytest.approx(1 / math.log2(3))
    assert relevance.ndcg([], [2]) == 0.0 and relevance.ndcg([1], []) == 0.0


def test_the_query_set_is_big_mixed_and_fits_the_generated_catalog() -> None:
    queries = relevance.load_queries()
    kinds = {kind: sum(q.kind == kind for q in queries) for kind in relevance.KINDS}
    assert len(queries) >= 150 and min(kinds.values()) >= 25, kinds
    assert len({q.text for q in queries}) == len(queries)
    products = []
    for product in generate_products(2400, 7):
        if product.stock > 0:
            row = product.to_row()
            products.append({**row, **{c: json.loads(row[c]) for c in ("colors", "tags", "specs")}})
    assert relevance.unreachable(queries, products) == []


def test_unknown_predicates_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "queries.yml"
    bad.write_text('- {q: "tent", kind: attribute, grades: {1: {categroy: tents}}}\n')
    with pytest.raises(ValueError, match="categroy"):
        relevance.load_queries(bad)


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "catalog.db"
    build_catalog(path, count=120, progress=False)
    return path


def test_full_text_only_ranks_without_embeddings(small_catalog: Path) -> None:
    db = open_catalog(small_catalog)
    queries = [relevance.LabelledQuery("insulated water bottle", "attribute",
                                       ((2, {"category": "water bottles", "spec": {"insulated": True}}),
                                        (1, {"category": "water bottles"})))]
    scores = relevance.evaluate(db, queries, signals=("text",), parses=("raw",))
    assert len(scores) == 1 and scores[0].ndcg > 0.5
    assert "| raw | text |" in relevance.markdown_table(scores)
    with pytest.raises(ValueError, match="embeddings"):
        search(db, SearchQuery(text="bottle"), signals="embeddings")
    with pytest.raises(ValueError, match="signals"):
        search(db, SearchQuery(text="bottle"), signals="bm25")


def _fake_demo(path: Path, dim: int = 16) -> None:
    """Random unit vectors in place of real ones: the synthetic ones only copy them."""
    rng = np.random.default_rng(0)
    with sqlite3.connect(path) as conn:
        embeddings.create_table(conn)
        ids = [r[0] for r in conn.execute("SELECT id FROM products")]
        vectors = rng.normal(size=(len(ids), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        conn.executemany(f"INSERT INTO {embeddings.TABLE} VALUES (?, 'x', ?)",
                         [(i, v.tobytes()) for i, v in zip(ids, vectors)])


def test_synthetic_vectors_stay_near_their_kind(small_catalog: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo.db"
    demo.write_bytes(small_catalog.read_bytes())
    _fake_demo(demo)
    path = latency.prepare_catalog(tmp_path, 300, demo)
    assert path == latency.catalog_path(tmp_path, 300)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT p.category, e.content_hash, e.vector FROM {embeddings.TABLE} e "
                            "JOIN products p ON p.id = e.product_id").fetchall()
    assert len(rows) == 300 and {r[1] for r in rows} == {latency.SYNTHETIC_HASH}
    vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    demo_groups = latency._demo_vectors(demo)
    for (category, _, blob) in rows[:20]:  # each is close to some demo vector of its category
        pool = np.concatenate([v for (c, _), v in demo_groups.items() if c == category])
        assert (pool @ np.frombuffer(blob, dtype=np.float32)).max() > 0.9
    stamp = path.stat().st_mtime_ns
    latency.prepare_catalog(tmp_path, 300, demo)  # current: left alone
    assert path.stat().st_mtime_ns == stamp


@pytest.mark.skipif(not embeddings.encoder_available(), reason="sentence-transformers not installed")
def test_latency_run_and_its_docs_section(small_catalog: Path, tmp_path: Path, monkeypatch) -> None:
    demo = tmp_path / "demo.db"
    demo.write_bytes(small_catalog.read_bytes())
    _fake_demo(demo, dim=384)
    monkeypatch.setattr(latency, "MIX", latency.MIX[:2] + latency.MIX[-3:])
    out = tmp_path / "benchmarks.md"
    table = cli.main(["latency", "--sizes", "200", "--rounds", "1", "--dir", str(tmp_path), "--demo", str(demo),
                      "--out", str(out)])
    assert "| 200 |" in table
    text = out.read_text()
    assert "<!-- benchmark:search-latency:start -->" in text and "--sizes 200" in text and "synthetic" in text
    assert "one thread p50 / p95" in table


def test_overlapping_the_two_halves_of_a_search_changes_no_result(small_catalog: Path, tmp_path: Path) -> None:
    """The latency benchmark's one-thread baseline and the default worker thread find the same products."""
    demo = tmp_path / "demo.db"
    demo.write_bytes(small_catalog.read_bytes())
    _fake_demo(demo, dim=384)
    db = open_catalog(demo)
    overlapped = [[p["id"] for p in search(db, query, limit=5).products] for _, query in latency.MIX]
    with latency._one_thread():
        one_thread = [[p["id"] for p in search(db, query, limit=5).products] for _, query in latency.MIX]
    assert overlapped == one_thread and any(overlapped)


def test_batched_top_k_matches_a_plain_full_sort_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from benchmarks.search import topk

    monkeypatch.setattr(topk, "CHUNK_ROWS", 7)  # several chunks, the last one short
    vectors = torch.nn.functional.normalize(torch.randn(50, 8, generator=torch.Generator().manual_seed(1)), dim=1)
    queries = torch.randn(3, 8, generator=torch.Generator().manual_seed(2))
    expected = (queries @ vectors.t()).topk(5, dim=1).indices
    assert torch.equal(topk._batched_top_k(vectors, queries, 5), expected)
    results = topk.measure(200, 8, "cpu", batches=(1, 4), k=5, repeats=1)
    assert [r.batch for r in results] == [1, 4] and all(r.ms_per_batch > 0 and r.bound_ms > 0 for r in results)
