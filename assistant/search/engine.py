"""Product search over the catalog database: hard filters in SQL, free text through FTS5, and what to relax
when nothing matches.

Every structured constraint of a `SearchQuery` is a WHERE clause, so a result can never break one. The free
text only ranks: all its words must match (bm25 order), else any of them; when none match, the filters alone
answer and `text_match` says "none" so the reply can say the words were not found. A query that is nothing
but text returns nothing in that case instead of the whole catalog. User text never reaches MATCH as syntax:
it is cut into word tokens, each one quoted.

When the catalog has product embeddings (assistant.search.embeddings), free text also finds products by
meaning ("keep my coffee hot on a hike" -> insulated bottles): full-text and embedding candidates, each drawn
only from what the filters allow, are fused by reciprocal rank. Without embeddings search is full text only.
"""
from __future__ import annotations

import json
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from assistant.search.embeddings import EmbeddingIndex, index_for, per_catalog, query_vector
from assistant.search.prices import PriceRange
from assistant.search.query import PEOPLE_ROOM, SearchQuery, money

JSON_COLUMNS = ("colors", "sizes", "specs", "tags")
PRIOR_REVIEWS = 10  # reviews' worth of weight given to the catalog's mean rating (Bayesian average)
MAX_TEXT_TOKENS = 12
RELAXABLE = ("price", "size", "color", "brand", "rating", "on_sale")
_INTERNAL = ("_score", "_rank", "_rowid")
CANDIDATES = 100  # from each of full text and embeddings, before fusion
RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al.): damps the weight of the very first ranks
MIN_SIMILARITY = 0.3  # cosine below which an embedding neighbour is noise, not a match (MiniLM)
MMR_LAMBDA = 0.7  # relevance vs. novelty on a relevance page
SAME_KIND = 0.75  # cosine (MiniLM) typical of two products of the same kind: only closer pairs count as repeats
TEXT_WEIGHT = {"all": 1.0, "any": 0.5}  # a match on only some of the words is weaker evidence than meaning
FUNCTION_WORDS = frozenset("a an and are as at be by for from i in is it its me my of on or our so that the their "
                           "them this to us was we what when with you your".split())
PREFILTER_STEPS = (4, 32)  # filtered embedding search: nearest in-stock products checked, times the depth
TEXT_POOL = 3  # full-text ranking: best matches the index ranks on its own, times the depth, before filtering
ANY_POSTINGS = 20_000  # (product, word) pairs a match on some of the words may rank; see `_affordable`
WORD_COUNT_CACHE = 20_000  # words whose product counts are remembered per catalog
COUNT_LIMIT = 1000  # counting stops here ("1-5 of 1000+"): an exact count of a broad match reads every match
SIGNALS = ("hybrid", "text", "embeddings")  # what ranks free text; "text"/"embeddings" alone are for comparison


@dataclass
class SearchResult:
    products: list[dict]
    total: int
    text_match: str = ""  # "all" / "any" words of the text matched, "none" matched, "" no text given
    capped: bool = False  # counting stopped at COUNT_LIMIT: there are more than `total`

    @property
    def shown_total(self) -> str:
        return count_text(self.total, self.capped)


def count_text(count: int, capped: bool) -> str:
    """A result count as a shopper reads it: "1000+" when counting stopped at the limit."""
    return f"{count}+" if capped else str(count)


@dataclass(frozen=True)
class Relaxation:
    """One constraint changed so that results appear: `query` is the changed query, `count` its result count,
    `cheapest` the lowest price found above the old budget (price relaxations only)."""

    constraint: str
    count: int
    query: SearchQuery
    cheapest: float | None = None
    capped: bool = False  # there are more than `count`

    def describe(self) -> str:
        count = count_text(self.count, self.capped)
        there = "There is 1" if count == "1" else f"There are {count}"
        price = self.query.price or PriceRange()
        if self.constraint == "price" and price.max is not None and self.cheapest is not None:
            cheapest = f" (the cheapest is {money(self.cheapest)})" if self.cheapest != price.max else ""
            return f"{there} if you raise the budget to {money(price.max)}{cheapest}"
        if self.constraint == "price":
            return f"{there} if you go down to {money(price.min or 0)}"
        return there + {"size": " in other sizes", "color": " in other colours", "brand": " from other brands",
                         "rating": " with lower ratings", "on_sale": " at full price"}[self.constraint]


def _placeholders(values: list) -> str:
    return ", ".join("?" * len(values))


def _filters(query: SearchQuery) -> tuple[list[str], list]:
    """WHERE clauses (AND-ed) and their parameters for every hard constraint; in stock always."""
    clauses, params = ["p.stock > 0"], []

    def add(clause: str, *values) -> None:
        clauses.append(clause)
        params.extend(values)

    colors = [c.lower() for c in query.colors]
    if query.category:
        add("p.category = ? COLLATE NOCASE", query.category)
    if query.brands:
        add(f"p.brand COLLATE NOCASE IN ({_placeholders(query.brands)})", *query.brands)
    if query.exclude_brands:
        add(f"COALESCE(p.brand, '') COLLATE NOCASE NOT IN ({_placeholders(query.exclude_brands)})",
            *query.exclude_brands)
    if colors:
        add(f"EXISTS (SELECT 1 FROM json_each(p.colors) WHERE lower(value) IN ({_placeholders(colors)}))", *colors)
    if query.size:
        in_color = f" AND (v.color IS NULL OR lower(v.color) IN ({_placeholders(colors)}))" if colors else ""
        add("EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.size = ? COLLATE NOCASE "
            f"AND v.stock > 0{in_color})", query.size, *colors)
    if query.price and query.price.min is not None:
        add("p.final_price >= ?", query.price.min)
    if query.price and query.price.max is not None:
        add("p.final_price <= ?", query.price.max)
    if query.people:
        add("json_extract(p.specs, '$.capacity_persons') BETWEEN ? AND ?", query.people, query.people + PEOPLE_ROOM)
    if query.gender:  # titles name the style ("Trailpeak Basin Women's ..."); products naming neither stay
        add("(' ' || p.title || ' ') NOT LIKE ?", "% Men's %" if query.gender == "women" else "% Women's %")
    if query.max_weight_g:
        add("COALESCE(json_extract(p.specs, '$.weight_g'), json_extract(p.specs, '$.weight_kg') * 1000) < ?",
            query.max_weight_g)
    if query.min_rating is not None:
        add("p.rating >= ?", query.min_rating)
    if query.on_sale:
        add("p.on_sale = 1")
    return clauses, params


def _has_filters(query: SearchQuery) -> bool:
    return bool(query.category or query.brands or query.exclude_brands or query.colors or query.size
                or query.price or query.min_rating is not None or query.on_sale or query.max_weight_g
                or query.gender)


def words(text: str) -> list[str]:
    """The lower-case words of `text`; quotes, operators and other punctuation are dropped."""
    return re.findall(r"[^\W_]+", text.lower())


def text_tokens(text: str) -> list[str]:
    """The distinct words of the free text, at most MAX_TEXT_TOKENS."""
    return list(dict.fromkeys(words(text)))[:MAX_TEXT_TOKENS]


def _content_words(tokens: list[str]) -> list[str]:
    """The tokens without function words, unless that leaves none."""
    return [t for t in tokens if t not in FUNCTION_WORDS] or tokens


def _term(token: str) -> tuple[str, bool]:
    """The FTS5 term a token searches for and whether as a prefix: longer words match their longer forms, and
    without a plural s ('jackets' -> 'jacket'*); short ones match exactly."""
    if len(token) > 4 and token.endswith("s"):
        return token[:-1], True
    return token, len(token) >= 4


def match_expression(tokens: list[str], mode: str) -> str:
    """An FTS5 expression from plain word tokens: each quoted (so 'AND', 'NOT', '*' are just words), as its
    `_term`. "any" leaves out function words while others remain: "my" OR "on" OR "a" matches nearly every
    product, which costs time and ranks nothing."""
    if mode == "any":
        tokens = _content_words(tokens)
    terms = [f'"{term}"*' if prefix else f'"{term}"' for term, prefix in map(_term, tokens)]
    return (" AND " if mode == "all" else " OR ").join(terms)


def _match(conn, tokens: list[str], mode: str) -> str:
    """The FTS5 expression a search runs: for "any", only the words `_affordable` keeps."""
    return match_expression(_affordable(conn, tokens) if mode == "any" else tokens, mode)


def _affordable(conn, tokens: list[str]) -> list[str]:
    """The content words a match on some of the words ranks by, in their order: the rarest first while the
    products they match add up to ANY_POSTINGS, and always the rarest one. bm25 scores every (product, word)
    pair of an OR, about 1.4 microseconds each, so on a large catalog one common word ("keep" in a third of
    100,000 descriptions) costs more than the rest of the search; and bm25 weighs such a word least, so the
    ranking loses little without it. On the demo catalog no combination of words comes near the budget."""
    content = _content_words(tokens)
    known = per_catalog(conn, _WORD_COUNTS, dict)
    counts = {token: _products_with(conn, token, known) for token in content}
    kept: set[str] = set()
    postings = 0
    for token in sorted(content, key=lambda t: counts[t]):
        if kept and postings + counts[token] > ANY_POSTINGS:
            break
        kept.add(token)
        postings += counts[token]
    return [t for t in content if t in kept]


_WORD_COUNTS: dict[str, tuple[tuple, dict[str, int]]] = {}  # catalog file -> (version, {token: products})


def _products_with(conn, token: str, known: dict[str, int]) -> int:
    """How many products the token's `_term` occurs in, from the full-text index's vocabulary; for a prefix,
    the sum over its forms (a product with two of them counts twice). Kept in `known` (one per catalog
    version)."""
    if token not in known:
        if len(known) >= WORD_COUNT_CACHE:
            known.clear()
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.products_fts_terms "
                     "USING fts5vocab(main, products_fts, row)")
        term, prefix = _term(token)
        known[token] = conn.execute("SELECT COALESCE(SUM(doc), 0) FROM temp.products_fts_terms "
                                    "WHERE term >= ? AND term <= ?",
                                    [term, term + chr(0x10FFFF) if prefix else term]).fetchone()[0]
    return known[token]


_INDEX_ORDERED = ("price_asc", "price_desc")  # orders an index on the price can give without sorting every match
_ORDER = {
    "relevance": "_rank, _score DESC, p.final_price, p.id",
    "price_asc": "p.final_price, _rank, _score DESC, p.id",
    "price_desc": "p.final_price DESC, _rank, _score DESC, p.id",
    "rating": "_score DESC, _rank, p.final_price, p.id",
}


_MEAN_RATINGS: dict[str, tuple[tuple, float]] = {}  # catalog file -> (version, mean rating)


def _mean_rating(conn) -> float:
    """The prior of the Bayesian average: what an unreviewed product is assumed to score; computed once per
    catalog build (it is a scan of every product)."""
    def scan() -> float:
        mean = conn.execute("SELECT AVG(rating) FROM products WHERE rating IS NOT NULL").fetchone()[0]
        return float(mean) if mean is not None else 3.0

    return per_catalog(conn, _MEAN_RATINGS, scan)


# the rating as a Bayesian average: PRIOR_REVIEWS reviews at the catalog's mean, plus the product's own
_SCORE = "(? * ? + COALESCE(p.rating, ?) * COALESCE(p.review_count, 0)) / (? + COALESCE(p.review_count, 0))"


def _score_params(conn) -> list:
    mean = _mean_rating(conn)
    return [PRIOR_REVIEWS, mean, mean, PRIOR_REVIEWS]


def decode_row(row: dict) -> dict:
    """A products row as plain Python: JSON columns decoded, ranking helpers dropped."""
    for column in JSON_COLUMNS:
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    for column in _INTERNAL:
        row.pop(column, None)
    return row


def _where(query: SearchQuery, match: str | None) -> tuple[str, str, list]:
    """FROM and WHERE (with parameters) selecting the products that meet the hard filters and `match`, an FTS5
    expression, when given."""
    clauses, params = _filters(query)
    source = "products p"
    if match is not None:
        source += " JOIN products_fts ON products_fts.rowid = p.rowid"
        clauses.insert(0, "products_fts MATCH ?")
        params.insert(0, _narrowed(match, query))
    return source, " AND ".join(clauses), params


def _count(conn, query: SearchQuery, match: str | None) -> tuple[int, bool]:
    """How many products meet the filters (and `match`), counting no further than COUNT_LIMIT; and whether
    it stopped there."""
    source, where, params = _where(query, match)
    count = conn.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT ?)",
                         [*params, COUNT_LIMIT + 1]).fetchone()[0]
    return min(count, COUNT_LIMIT), count > COUNT_LIMIT


def _run(conn, query: SearchQuery, limit: int, match: str | None) -> SearchResult:
    """One page of the products meeting the filters (and `match`, an FTS5 expression), in `query.sort` order,
    with their count. A price order can come from an index, so its page stops early, after a capped count.
    Relevance and rating sort every match whatever the LIMIT, so one statement ranks up to COUNT_LIMIT + 1 of
    them, which is the count as well, and only the page's rows are then read whole."""
    source, where, params = _where(query, match)
    rank = "0" if match is None else "bm25(products_fts)"
    order = _ORDER.get(query.sort, _ORDER["relevance"])
    offset, limit = max(query.offset, 0), max(limit, 0)
    if query.sort in _INDEX_ORDERED or offset + limit > COUNT_LIMIT + 1:
        total, capped = _count(conn, query, match)
        cursor = conn.execute(f"SELECT p.*, {_SCORE} AS _score, {rank} AS _rank FROM {source} WHERE {where} "
                              f"ORDER BY {order} LIMIT ? OFFSET ?", [*_score_params(conn), *params, limit, offset])
        columns = [d[0] for d in cursor.description]
        return SearchResult([decode_row(dict(zip(columns, row))) for row in cursor], total, capped=capped)
    ranked = [r[0] for r in conn.execute(f"SELECT p.rowid, {_SCORE} AS _score, {rank} AS _rank FROM {source} "
                                         f"WHERE {where} ORDER BY {order} LIMIT ?",
                                         [*_score_params(conn), *params, COUNT_LIMIT + 1])]
    page = ranked[offset:offset + limit]
    rows = _products(conn, page) if page else {}
    return SearchResult([decode_row(rows[r]) for r in page], min(len(ranked), COUNT_LIMIT),
                        capped=len(ranked) > COUNT_LIMIT)


def search(db, query: SearchQuery, limit: int = 5, *, signals: str = "hybrid") -> SearchResult:
    """Products meeting every constraint of `query`, in `query.sort` order. "relevance" means text match first
    (bm25 fused with embedding similarity when the catalog has embeddings, see `_hybrid`), then the rating
    weighted by its review count (a Bayesian average), then the lower price.

    `db` is a sqlite_utils.Database or a sqlite3.Connection. Ties end on the product id, so results are
    deterministic; `query.offset` pages through them. `signals` ranks the free text with one signal alone, so
    benchmarks can compare: "text" is full text only (as without embeddings), "embeddings" is meaning only
    (ValueError when the catalog has none); the default "hybrid" uses both when it can.
    """
    if signals not in SIGNALS:
        raise ValueError(f"signals must be one of {SIGNALS}, not {signals!r}")
    if query.hint and not text_tokens(query.text):  # rank by the narrower words, say nothing about them
        ranked = search(db, replace(query, text=query.hint, hint=""), limit, signals=signals)
        return replace(ranked, text_match="")
    conn = getattr(db, "conn", db)
    tokens = text_tokens(query.text)
    if not tokens:
        return _run(conn, query, limit, None)
    index = index_for(conn) if signals != "text" else None
    if index is not None:
        return _hybrid(conn, index, query, limit, tokens, with_text=signals == "hybrid")
    if signals == "embeddings":
        raise ValueError("signals='embeddings' needs a catalog with product embeddings and the encoder")
    for mode in _modes(tokens):
        result = _run(conn, query, limit, _match(conn, tokens, mode))
        if result.total:
            return replace(result, text_match=mode)
    return _text_not_found(conn, query, limit)


def _modes(tokens: list[str]) -> tuple[str, ...]:
    return ("all", "any")[: 1 if len(tokens) == 1 else 2]


def _text_not_found(conn, query: SearchQuery, limit: int) -> SearchResult:
    if not _has_filters(query):
        return SearchResult([], 0, "none")
    return replace(_run(conn, query, limit, None), text_match="none")


# ---- hybrid: full text and embeddings, fused -----------------------------------------------------------------
_worker: tuple[int, ThreadPoolExecutor] | None = None


def _search_thread() -> ThreadPoolExecutor:
    """One worker thread per process for the embedding half of a hybrid search (encoding the query, top-k in
    torch), which overlaps the full-text half in SQLite: both release the GIL, so on two cores the slower half
    sets the time, not their sum. Made in the process that uses it, as a thread does not survive a fork."""
    global _worker
    if _worker is None or _worker[0] != os.getpid():
        _worker = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="search"))
    return _worker[1]


def _select(conn, query: SearchQuery, columns: str, match: str | None, order: str, limit: int | None) -> list:
    """Rows of `columns` from the products meeting the hard filters (and `match`, an FTS5 expression)."""
    source, where, params = _where(query, match)
    tail = f" ORDER BY {order}" if order else ""
    if limit is not None:
        tail += " LIMIT ?"
        params.append(limit)
    return conn.execute(f"SELECT {columns} FROM {source} WHERE {where}{tail}", params).fetchall()


def _text_candidates(conn, query: SearchQuery, tokens: list[str], depth: int) -> tuple[list[int], int, bool, str]:
    """The best `depth` full-text matches (rowids, bm25 order), how many match in all (counted only for a
    match on all the words; a match on some words is counted by the caller), whether counting stopped at
    COUNT_LIMIT, and the mode that matched ("" when none did)."""
    for mode in _modes(tokens):
        match = _match(conn, tokens, mode)
        rowids, total = _ranked_matches(conn, query, match, depth)
        if rowids:
            if total is None:
                total, capped = _count(conn, query, match) if mode == "all" else (len(rowids), False)
            else:
                total, capped = min(total, COUNT_LIMIT), total > COUNT_LIMIT
            return rowids, total, capped, mode
    return [], 0, False, ""


def _ranked_matches(conn, query: SearchQuery, match: str, depth: int) -> tuple[list[int], int | None]:
    """The `depth` best matches of `match` that the filters allow, bm25 order (ties by rowid), as the filtered
    join of `_select` ranks them, only cheaper: the full-text index first ranks its best TEXT_POOL x depth
    matches on its own, without reading a product row per match, and the filters then check that pool a row
    each. Only when they leave fewer than `depth` of a full pool does the join rank every match.

    Also how many matches the filters allow, when that came for free: every match was in the pool, or the join
    read them all (up to COUNT_LIMIT + 1, so the caller can say "1000+"); else None."""
    pool_size = depth * TEXT_POOL
    pool = [r[0] for r in conn.execute("SELECT rowid FROM products_fts WHERE products_fts MATCH ? "
                                       "ORDER BY rank, rowid LIMIT ?", [_narrowed(match, query), pool_size])]
    allowed = _allowed_among(conn, query, pool)
    kept = [rowid for rowid in pool if rowid in allowed]
    if len(pool) < pool_size:
        return kept[:depth], len(kept)
    if len(kept) >= depth:
        return kept[:depth], None
    ranked = [r[0] for r in _select(conn, query, "p.rowid", match, "bm25(products_fts), p.rowid",
                                    max(depth, COUNT_LIMIT + 1))]
    return ranked[:depth], len(ranked)


def _narrowed(match: str, query: SearchQuery) -> str:
    """`match` restricted to rows whose category (and brand, when there is exactly one) column holds the
    query's as a phrase: a superset of the rows the exact filters allow, found in the index alone, so a
    category's few matches are not picked out of every product's. The phrase also counts in bm25, with the
    same weight in every row of the category except for bm25's length normalisation: shorter listings gain
    a little."""
    columns = [("category", query.category)] if query.category else []
    if len(query.brands) == 1:
        columns.append(("brand", query.brands[0]))
    phrases = [f'{column} : "{value.replace(chr(34), chr(34) * 2)}"' for column, value in columns
               if words(value)]
    return " AND ".join([f"({match})", *phrases]) if phrases else match


def _allowed_rowids(conn, query: SearchQuery) -> list[int] | None:
    """The products the hard filters allow; None when only the in-stock rule applies (the index knows that)."""
    return [r[0] for r in _select(conn, query, "p.rowid", None, "", None)] if _has_filters(query) else None


def _allowed_among(conn, query: SearchQuery, rowids: list[int]) -> set[int]:
    """Which of the given products the hard filters allow: one rowid lookup each (NOT INDEXED keeps the planner
    from scanning a filter's index instead), so the cost follows the list, not the catalog."""
    clauses, params = _filters(query)
    rows = conn.execute("SELECT p.rowid FROM products p NOT INDEXED WHERE p.rowid IN (SELECT value FROM json_each(?)) "
                        f"AND {' AND '.join(clauses)}", [json.dumps(rowids), *params])
    return {r[0] for r in rows}


def _pool(index: EmbeddingIndex, scores, depth: int, filtered: bool) -> list[tuple[int, float]]:
    """The nearest in-stock products (rowid, cosine), best first: `depth` of them, or for a filtered search the
    prefix `_neighbours` checks against the filters. `scores` are `index.all_scores` of the query."""
    return index.best(scores, depth * PREFILTER_STEPS[-1] if filtered else depth)


@dataclass(frozen=True)
class _Meaning:
    """The half of a hybrid search that needs no database, so it runs on the search thread while SQLite ranks
    the full text: the query's vector, its score against every product, and their `_pool`."""

    vector: np.ndarray
    scores: object  # a torch tensor, index order
    pool: list[tuple[int, float]]


def _meaning(index: EmbeddingIndex, text: str, depth: int, filtered: bool) -> _Meaning:
    vector = query_vector(text)
    scores = index.all_scores(vector)
    return _Meaning(vector, scores, _pool(index, scores, depth, filtered))


def _neighbours(conn, index: EmbeddingIndex, query: SearchQuery, meaning: _Meaning, depth: int) -> list[int]:
    """The `depth` products the filters allow that are nearest in meaning (cosine >= MIN_SIMILARITY), best
    first, from the `meaning` of the query.

    A filtered search keeps the allowed products of the nearest in-stock ones, checking a growing prefix of the
    pool (PREFILTER_STEPS times `depth`). That answer is exact once `depth` of them are allowed, or once the
    prefix reaches below MIN_SIMILARITY or holds every in-stock product, since nothing outside it is nearer.
    Only filters too narrow for that fetch every allowed rowid and pick the nearest of them from the scores
    already computed, where fetching the allowed rowids of a broad filter (a price range: a third of the
    catalog) costs far more than checking the pool. (Skipping the second step when the first allows few was
    tried: the pool is clustered, so the second step often still succeeds, and fetching the allowed rowids of
    a brand and colour filter cost more than the check it saved.)"""
    pool = meaning.pool
    if not _has_filters(query):
        return [rowid for rowid, score in pool[:depth] if score >= MIN_SIMILARITY]
    allowed: set[int] = set()
    checked = 0
    for factor in PREFILTER_STEPS:
        seen = pool[:depth * factor]
        allowed |= _allowed_among(conn, query, [rowid for rowid, _ in seen[checked:]])
        checked = len(seen)
        kept = [(rowid, score) for rowid, score in seen if rowid in allowed]
        everything = len(seen) == len(pool) < depth * PREFILTER_STEPS[-1]
        if len(kept) >= depth or everything or (seen and seen[-1][1] < MIN_SIMILARITY):
            return [rowid for rowid, score in kept[:depth] if score >= MIN_SIMILARITY]
    return [rowid for rowid, _ in index.best(meaning.scores, depth, _allowed_rowids(conn, query), MIN_SIMILARITY)]


def _fuse(*rankings: tuple[list[int], float]) -> dict[int, float]:
    """Weighted reciprocal-rank fusion: each (list, weight) adds weight / (RRF_K + rank) to a product's score."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, rowid in enumerate(ranking, start=1):
            fused[rowid] = fused.get(rowid, 0.0) + weight / (RRF_K + rank)
    return fused


def _products(conn, rowids: list[int]) -> dict[int, dict]:
    """Rows by rowid, with the Bayesian-average rating as `_score` (for the rating sort)."""
    cursor = conn.execute(f"SELECT p.rowid AS _rowid, p.*, {_SCORE} AS _score FROM products p "
                          f"WHERE p.rowid IN ({_placeholders(rowids)})", [*_score_params(conn), *rowids])
    columns = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(columns, row)) for row in cursor}


def _mmr(order: list[int], relevance: dict[int, float], index: EmbeddingIndex, count: int) -> list[int]:
    """Maximal marginal relevance over the first `count` places: each next product is the one most relevant and
    least redundant with those already chosen, so a page is not five near-identical items. Similarity only
    counts as redundancy above SAME_KIND (products of one kind are alike; that is not repetition), else
    diversity would pull unrelated products onto the page. The rest keep `order`."""
    if count <= 1 or len(order) <= 1:
        return order
    similarity = index.similarities(order)
    top = max(relevance[r] for r in order) or 1.0
    gain = [MMR_LAMBDA * relevance[r] / top for r in order]
    chosen: list[int] = []
    redundancy = [0.0] * len(order)  # each candidate's redundancy with the closest chosen one
    left = list(range(len(order)))
    while left and len(chosen) < count:
        best = max(left, key=lambda i: (gain[i] - (1 - MMR_LAMBDA) * redundancy[i], -i))
        left.remove(best)
        chosen.append(best)
        redundancy = [max(r, (float(similarity[i, best]) - SAME_KIND) / (1 - SAME_KIND))
                      for i, r in enumerate(redundancy)]
    return [order[i] for i in chosen] + [order[i] for i in left]


_SORT_KEYS = {
    "price_asc": lambda p, rel: (p["final_price"], -rel, -p["_score"], p["id"]),
    "price_desc": lambda p, rel: (-p["final_price"], -rel, -p["_score"], p["id"]),
    "rating": lambda p, rel: (-p["_score"], -rel, p["final_price"], p["id"]),
}


def _hybrid(conn, index: EmbeddingIndex, query: SearchQuery, limit: int, tokens: list[str], *,
            with_text: bool = True) -> SearchResult:
    """Full-text (bm25) and embedding neighbours, both drawn only from the products the hard filters allow,
    fused by reciprocal rank; matches on only some of the words are kept only when close in meaning too. A
    product whose title is exactly the text comes first; the rest of a relevance page is diversified (MMR).
    Other sorts order the fused candidates by price or rating. Without `with_text`, embeddings alone rank."""
    depth = CANDIDATES * max(1, math.ceil((query.offset + limit) / CANDIDATES))  # same pool for nearby pages
    meaning = _search_thread().submit(_meaning, index, query.text, depth, _has_filters(query))
    text_ids, text_total, capped, mode = (_text_candidates(conn, query, tokens, depth) if with_text
                                          else ([], 0, False, ""))
    meant = meaning.result()
    if mode == "any":  # some of the words, not the meaning: a product far from the query is noise
        scores = index.scores(meant.vector, text_ids)
        text_ids = [r for r in text_ids if scores.get(r, MIN_SIMILARITY) >= MIN_SIMILARITY]
        text_total = len(text_ids)
    near_ids = _neighbours(conn, index, query, meant, depth)
    fused = _fuse((text_ids, TEXT_WEIGHT.get(mode, 0.0)), (near_ids, 1.0))
    if not fused:
        return _text_not_found(conn, query, limit)
    rows = _products(conn, list(fused))
    wanted = words(query.text)
    exact = sorted((r for r in fused if words(rows[r]["title"]) == wanted), key=lambda r: rows[r]["id"])
    ranked = sorted((r for r in fused if r not in exact), key=lambda r: (-fused[r], rows[r]["id"]))
    if query.sort in _SORT_KEYS:
        ranked = sorted(exact + ranked, key=lambda r: _SORT_KEYS[query.sort](rows[r], fused[r]))
    else:
        ranked = exact + _mmr(ranked, fused, index, query.offset + limit - len(exact))
    page = ranked[max(query.offset, 0): max(query.offset, 0) + max(limit, 0)]
    total = text_total + len(set(near_ids) - set(text_ids))
    return SearchResult([decode_row(rows[r]) for r in page], total, mode or "any", capped=capped)


# ---- nothing found: what would help ------------------------------------------------------------------------
_DROPPED = {"size": {"size": None}, "color": {"colors": []}, "brand": {"brands": []},
            "rating": {"min_rating": None}, "on_sale": {"on_sale": False}}


def _constrains(query: SearchQuery, constraint: str) -> bool:
    return bool({"price": query.price, "size": query.size, "color": query.colors, "brand": query.brands,
                 "rating": query.min_rating, "on_sale": query.on_sale}[constraint])


def _edge_price(db, query: SearchQuery) -> float | None:
    found = search(db, replace(query, offset=0), limit=1).products
    return found[0]["final_price"] if found else None


def _price_relaxation(db, query: SearchQuery) -> Relaxation | None:
    """Raise the budget to the cheapest match above it (or lower the minimum to the dearest match below)."""
    price = query.price
    above = below = None
    if price.max is not None:
        above = _edge_price(db, replace(query, price=PriceRange(price.min, None), sort="price_asc"))
    if above is not None:
        relaxed = replace(query, price=PriceRange(price.min, float(math.ceil(above))), offset=0)
    elif price.min is not None:
        below = _edge_price(db, replace(query, price=PriceRange(None, price.max), sort="price_desc"))
        if below is None:
            return None
        relaxed = replace(query, price=PriceRange(float(math.floor(below)), price.max), offset=0)
    else:
        return None
    found = search(db, relaxed, limit=0)
    return Relaxation("price", found.total, relaxed, cheapest=above, capped=found.capped) if found.total else None


def suggest_relaxation(db, query: SearchQuery) -> list[Relaxation]:
    """When `query` finds nothing: each single constraint change (price, size, colour, brand, rating, sale)
    that would find something, in that order, with its result count."""
    if search(db, query, limit=0).total:
        return []
    found = []
    for constraint in RELAXABLE:
        if not _constrains(query, constraint):
            continue
        if constraint == "price":
            relaxation = _price_relaxation(db, query)
        else:
            relaxed = replace(query, offset=0, **_DROPPED[constraint])
            result = search(db, relaxed, limit=0)
            relaxation = Relaxation(constraint, result.total, relaxed, capped=result.capped) if result.total else None
        if relaxation:
            found.append(relaxation)
    return found


def allowed_ids(db, query: SearchQuery, product_ids: list[str]) -> list[str]:
    """The given products that meet every hard filter of `query` (in stock included), in the given order: how
    recommendations, which come from a model rather than from a search, obey the conversation's constraints."""
    if not product_ids:
        return []
    conn = getattr(db, "conn", db)
    clauses, params = _filters(query)
    rows = conn.execute(f"SELECT p.id FROM products p WHERE p.id IN (SELECT value FROM json_each(?)) "
                        f"AND {' AND '.join(clauses)}", [json.dumps(product_ids), *params])
    keep = {r[0] for r in rows}
    return [i for i in product_ids if i in keep]
