"""Search relevance on the demo catalog: NDCG@10 of hybrid, full-text-only and embedding-only ranking over the
labelled queries in queries.yml, in one run on the same catalog.

Relevance comes from rules over catalog fields (see the header of queries.yml), so a product's grade can be
recomputed and checked by anyone; nothing here lists product ids. Each query is run twice: as raw text (the
engine alone) and as the assistant parses it (`build_query` with the catalog vocabulary, so brand, category,
colour, size and price words become hard filters and only the rest is ranking text).
"""
from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.catalog.vocabulary import BRAND_ALIASES, COLOR_SYNONYMS, category_aliases
from assistant.search.engine import SIGNALS, search
from assistant.search.query import SearchQuery, build_query
from assistant.search.vocab import Vocabulary

QUERIES = Path(__file__).with_name("queries.yml")
KINDS = ("exact", "attribute", "vague", "typo")
DEPTH = 10  # NDCG@10
PARSES = ("raw", "parsed")
_LIST_FIELDS = {"color": "colors", "tag": "tags"}
_PLAIN_FIELDS = ("category", "subcategory", "brand")
_PREDICATES = frozenset({"title", "title_has", "spec", "price_max", "price_min", *_PLAIN_FIELDS, *_LIST_FIELDS})


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    kind: str
    grades: tuple[tuple[int, Mapping], ...]  # (grade, condition), highest grade first

    def grade(self, product: Mapping) -> int:
        """The highest grade whose condition the product meets; 0 when none."""
        return next((grade for grade, condition in self.grades if matches(condition, product)), 0)


def _any_of(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _same(wanted: object, actual: object) -> bool:
    """Equal, ignoring case; a flag only equals a flag (True is not 1)."""
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual
    return _lower(wanted) == _lower(actual)


def _spec_matches(wanted: object, actual: object) -> bool:
    if isinstance(wanted, Mapping):  # {min: x, max: y}
        return (isinstance(actual, (int, float)) and not isinstance(actual, bool)
                and wanted.get("min", -math.inf) <= actual <= wanted.get("max", math.inf))
    return any(_same(w, actual) for w in _any_of(wanted))


def matches(condition: Mapping, product: Mapping) -> bool:
    """Whether a product (a decoded products row) meets every predicate of a condition."""
    title = str(product.get("title") or "").lower()
    for key, wanted in condition.items():
        if key == "title":
            ok = title == str(wanted).lower()
        elif key == "title_has":
            ok = all(str(part).lower() in title for part in _any_of(wanted))
        elif key in _PLAIN_FIELDS:
            ok = _lower(product.get(key)) in {_lower(w) for w in _any_of(wanted)}
        elif key in _LIST_FIELDS:
            have = {_lower(v) for v in product.get(_LIST_FIELDS[key]) or []}
            ok = bool(have & {_lower(w) for w in _any_of(wanted)})
        elif key == "spec":
            specs = product.get("specs") or {}
            ok = all(name in specs and _spec_matches(value, specs[name]) for name, value in wanted.items())
        elif key == "price_max":
            ok = product["final_price"] <= wanted
        elif key == "price_min":
            ok = product["final_price"] >= wanted
        else:
            raise ValueError(f"unknown predicate {key!r}")
        if not ok:
            return False
    return True


def load_queries(path: Path = QUERIES) -> list[LabelledQuery]:
    """The labelled queries, checked for known kinds and predicates."""
    queries = []
    for n, item in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")), 1):
        kind, grades = item.get("kind"), item.get("grades") or {}
        if kind not in KINDS or not item.get("q") or not grades:
            raise ValueError(f"{path.name}, query {n}: needs q, a kind in {KINDS} and grades")
        for condition in grades.values():
            unknown = set(condition) - _PREDICATES
            if unknown:
                raise ValueError(f"{path.name}, query {n}: unknown predicates {sorted(unknown)}")
        ordered = tuple(sorted(((int(g), c) for g, c in grades.items()), key=lambda gc: -gc[0]))
        queries.append(LabelledQuery(str(item["q"]), kind, ordered))
    return queries


def catalog_products(db) -> list[dict]:
    """Every product that search can return (in stock), decoded."""
    cursor = db.execute("SELECT id, title, brand, category, subcategory, colors, tags, specs, final_price "
                        "FROM products WHERE stock > 0")
    names = [d[0] for d in cursor.description]
    products = []
    for row in cursor:
        product = dict(zip(names, row))
        for column in ("colors", "tags", "specs"):
            product[column] = json.loads(product[column]) if product[column] else ([] if column != "specs" else {})
        products.append(product)
    return products


def dcg(grades: Iterable[int]) -> float:
    """Discounted cumulative gain with exponential gain (2^grade - 1), so a grade-3 hit outweighs several 1s."""
    return sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(grades))


def ndcg(found: Sequence[int], ideal: Sequence[int], depth: int = DEPTH) -> float:
    """NDCG@depth of the grades of the products found, against the grades of the best possible ranking."""
    best = dcg(sorted(ideal, reverse=True)[:depth])
    return dcg(found[:depth]) / best if best else 0.0


@dataclass
class QueryScore:
    query: LabelledQuery
    parse: str
    signals: str
    ndcg: float
    top: list[str]  # titles of the first three results


def unreachable(queries: Sequence[LabelledQuery], products: Sequence[Mapping]) -> list[str]:
    """Queries whose top grade no in-stock product reaches: their labels no longer fit the catalog."""
    return [q.text for q in queries if not any(q.grade(p) == q.grades[0][0] for p in products)]


def vocabulary(db) -> Vocabulary:
    """The vocabulary the assistant parses messages with (Shop builds the same one)."""
    return Vocabulary.from_db(db, brand_aliases=BRAND_ALIASES, category_aliases=category_aliases(),
                              color_aliases=COLOR_SYNONYMS)


def evaluate(db, queries: Sequence[LabelledQuery], signals: Sequence[str] = SIGNALS,
             parses: Sequence[str] = PARSES) -> list[QueryScore]:
    """Every query, parsed each way, ranked with each set of signals."""
    products = catalog_products(db)
    missing = unreachable(queries, products)
    if missing:
        raise ValueError(f"no in-stock product meets the top grade of: {missing}")
    by_id = {p["id"]: p for p in products}
    vocab = vocabulary(db) if "parsed" in parses else None
    scores = []
    for query in queries:
        ideal = [g for g in (query.grade(p) for p in products) if g]
        for parse in parses:
            structured = build_query(query.text, [], vocab) if parse == "parsed" else SearchQuery(text=query.text)
            structured.sort = "relevance"  # ranking quality, not the "cheapest"/"best" cue's order
            for signal in signals:
                found = search(db, structured, limit=DEPTH, signals=signal).products
                grades = [query.grade(by_id[p["id"]]) for p in found]
                scores.append(QueryScore(query, parse, signal, ndcg(grades, ideal), [p["title"] for p in found[:3]]))
    return scores


def summary(scores: Sequence[QueryScore]) -> dict[tuple[str, str], dict[str, float]]:
    """Mean NDCG@10 per (parse, signals): overall ("all") and per query kind."""
    table: dict[tuple[str, str], dict[str, float]] = {}
    for key in dict.fromkeys((s.parse, s.signals) for s in scores):
        rows = [s for s in scores if (s.parse, s.signals) == key]
        table[key] = {"all": statistics.fmean(s.ndcg for s in rows)}
        for kind in KINDS:
            kind_rows = [s.ndcg for s in rows if s.query.kind == kind]
            if kind_rows:
                table[key][kind] = statistics.fmean(kind_rows)
    return table


def markdown_table(scores: Sequence[QueryScore]) -> str:
    """One row per (query parsing, ranking signals); columns: all queries, then each kind with its count."""
    counts = {kind: len({s.query.text for s in scores if s.query.kind == kind}) for kind in KINDS}
    kinds = [k for k in KINDS if counts[k]]
    total = len({s.query.text for s in scores})
    lines = ["| query | ranking | " + " | ".join([f"all ({total})", *(f"{k} ({counts[k]})" for k in kinds)]) + " |",
             "|---|---|" + "---:|" * (len(kinds) + 1)]
    for (parse, signals), row in summary(scores).items():
        cells = [f"{row[k]:.3f}" for k in ("all", *kinds)]
        lines.append(f"| {parse} | {signals} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
