"""Find the passages that answer a question: BM25 over words and the bundled MiniLM over meaning, fused by
reciprocal rank, with an absolute relevance test so "who won the game last night?" retrieves nothing.

BM25 catches exact terms ("gift card", "HL-", "Alaska"); embeddings catch paraphrase ("send back" ~ "return").
Rank fusion orders the pool, but ranks say nothing about whether the best passage is any good, so relevance is
judged on the raw signals: cosine similarity, or a keyword phrase the passage declares for itself. A question
closest to one the knowledge declares it leaves unanswered ("do you deliver to parcel lockers?") finds nothing,
however near the shipping section's text it is.
"""
from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from assistant.knowledge.documents import Passage, store_name, store_passages, store_synonyms

RRF_K = 60  # the usual constant: damps the gap between rank 1 and rank 2
MIN_SIMILARITY = 0.50  # cosine below which a passage does not answer the question (benchmarks/answers calibrates)
KEYWORD_SIMILARITY = 0.30  # a declared keyword phrase in the question lowers the bar to this
ASKED_SIMILARITY = 0.60  # cosine to one of the questions a passage declares it answers (a paraphrase, not a topic)
ASKED_KEYWORD_SIMILARITY = 0.50  # the same with one of the passage's keywords in the question
FOCUS_SIMILARITY = 0.30  # the bar for the passages of the product the shopper is asking about ("is it warm?");
# for those, a keyword ("weigh" for a weight spec) is enough on its own
UNASKED_SIMILARITY = 0.70  # cosine to a question the knowledge declares it leaves unanswered, to decline ...
UNASKED_MARGIN = 0.10  # ... when that is also this much closer than every question a passage declares it answers

# A word as the knowledge is searched: letters, digits and "$", with inner hyphens and apostrophes ("e-gift",
# "don't"); product names are cut from questions with the same pattern (`without_name`).
WORD = re.compile(r"[a-z0-9$]+(?:[-'][a-z0-9]+)*", re.IGNORECASE | re.ASCII)
_STOP = frozenset(
    "a an the is are am was were be been do does did can could would should will i you your my me we our us of to "
    "in on for and or it its this that these those what how when where which who whom with if there any about "
    "at by from as so not no yes have has had get got please hi hello thanks just also than then them they "
    "he she his her much many".split()
)


def words(text: str) -> list[str]:
    """Lower-case content words with a light plural fold ("boots" ~ "boot")."""
    out = []
    for w in WORD.findall(text.lower()):
        if w in _STOP:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


@lru_cache(maxsize=256)
def _synonym_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")


def with_store_terms(question: str) -> str:
    """The question followed by the store's term for each shopper's word in it (knowledge/synonyms.md): "speedy
    shipping" is searched as "speedy shipping express". Only words are matched this way; meaning is compared on
    the question as written."""
    lowered = question.lower()
    terms = [term for term, phrases in store_synonyms().items()
             if any(_synonym_pattern(p).search(lowered) for p in phrases)]
    return " ".join([question, *terms])


def without_name(question: str, name: str) -> str:
    """The question without the product's name where it names it (two or more of the name's words in a row):
    the name says which product the question is about, not what about it. Left in, it brought every passage of the
    product (each sourced by that name) within 0.7 of the question, pulled the quote to the description sentence
    that repeats it, and read "iPhone" in "the Ultra Lite Wallet Case for iPhone 16 Pro" as a question about the
    phones it fits. A lone word of the name stays ("light enough for racing?" of a racing shoe)."""
    named = set(words(name))
    if not named:  # no product in the conversation: nothing to cut (every store question comes this way)
        return question
    tokens = list(WORD.finditer(question))
    in_name = [bool(w) and set(w) <= named for w in (words(t.group()) for t in tokens)]
    spans, run = [], []
    for token, part in zip([*tokens, None], [*in_name, False]):
        if part:
            run.append(token)
            continue
        if len(run) >= 2:
            spans.append((run[0].start(), run[-1].end()))
        run = []
    kept = question
    for start, end in reversed(spans):
        kept = kept[:start] + kept[end:]
    return " ".join(kept.split()) if words(kept) else question


@lru_cache(maxsize=8)
def _name_pattern(name: str) -> re.Pattern[str]:
    """The name as one word or several, in any case, with or without a possessive ("Harbor Lane's", "harborlane")."""
    joined = r"[\s-]*".join(re.escape(part) for part in name.split())
    return re.compile(rf"(?<![\w-]){joined}(?:['\u2019]s)?(?![\w-])", re.IGNORECASE)


def without_store_name(question: str) -> str:
    """The question with the store's own name read as the plain word "store". Every passage is about the store,
    so its name says nothing about what is asked, yet it pulls a question to the passages that happen to repeat
    it: "is there a Harbor Lane app?" came within 0.59 of the rewards programme's section ("Harbor Lane Rewards
    is free to join..."), and so did "how do I become a Harbor Lane affiliate?", where "is there a store app?" is
    close to nothing. Nothing is left of a message that is nothing but the name."""
    name = store_name()
    if not name.strip():
        return question
    pattern = _name_pattern(name)
    if not words(pattern.sub(" ", question)):
        return ""
    return " ".join(pattern.sub(" store ", question).split())


# Where a message's clauses part: after a sentence's end, around a dash, and at a comma that opens a new ask
# ("..., is a refund still possible").
_CLAUSE = re.compile(r"(?<=[.?!])\s+|\s+[-\u2013\u2014]\s+|(?<=[a-z]),\s+(?=(?:so|but|and|is|are|am|can|do|does|"
                     r"will|would|how|what|when|where|which|who|any)\b)")
CLAUSE_WORDS = 3  # content words a clause needs to be compared on its own: "ok so" is no question


def views(question: str) -> list[str]:
    """The question and, when it has several clauses, each clause with CLAUSE_WORDS content words or more. A story
    before the ask ("thinking of a santoku as a wedding gift. what happens if the handle comes loose?") dilutes
    the whole message's vector; the ask alone is compared too, and the closer of the two counts."""
    clauses = [c.strip() for c in _CLAUSE.split(question) if c and len(words(c)) >= CLAUSE_WORDS]
    return [question, *(c for c in clauses if c != question)] if len(clauses) > 1 else [question]


@dataclass(frozen=True)
class Hit:
    passage: Passage
    fused: float  # reciprocal-rank fusion score: orders the hits
    similarity: float  # cosine between question and passage (the closer of its whole text and one sentence)
    bm25: float
    keyword: bool  # one of the passage's declared keyword phrases occurs in the question
    focus: bool = False  # the passage is about the product in the conversation's focus
    topical: bool = False  # the passage has the topic the NLU recognised in the message
    asked: float = 0.0  # cosine between the question and the closest question the passage declares it answers
    declined: bool = False  # the question is one the store's knowledge declares unanswered (`unanswered`)

    @property
    def relevant(self) -> bool:
        if self.declined:  # a store question: the product in focus counts only if its own text answers it outright
            return self.focus and self.similarity >= MIN_SIMILARITY
        if self.topical or (self.focus and self.keyword):
            return True
        bar = FOCUS_SIMILARITY if self.focus else KEYWORD_SIMILARITY if self.keyword else MIN_SIMILARITY
        return self.similarity >= bar or self.asked >= (ASKED_KEYWORD_SIMILARITY if self.keyword else ASKED_SIMILARITY)


class BM25:
    """Okapi BM25 over a small corpus (tens to hundreds of passages): plain Python is fast enough."""

    def __init__(self, documents: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.counts = [Counter(d) for d in documents]
        self.lengths = [len(d) for d in documents]
        self.average = (sum(self.lengths) / len(documents)) if documents else 0.0
        frequency = Counter(w for d in self.counts for w in d)
        n = len(documents)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in frequency.items()}

    def scores(self, query: list[str]) -> list[float]:
        out = []
        for counts, length in zip(self.counts, self.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / (self.average or 1))
            out.append(sum(self.idf.get(w, 0.0) * counts[w] * (self.k1 + 1) / (counts[w] + norm)
                           for w in set(query) if w in counts))
        return out


def _searchable(passage: Passage) -> str:
    return " ".join([passage.source, passage.text, *passage.keywords])


def _words_of(passage: Passage) -> list[str]:
    """What BM25 indexes: the searchable text and the shoppers' phrasings, for their vocabulary."""
    return words(" ".join([_searchable(passage), *passage.asked]))


_VECTORS: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> MiniLM vector, least recently used first
_VECTORS_KEPT = 4096  # the store's passages, sentences and declared questions, and recently asked-about products
_VECTORS_LOCK = threading.Lock()  # the action server answers in executor threads


def vectors(texts: Sequence[str]) -> list[np.ndarray]:
    """The MiniLM vector of each text, cached per process. The texts not cached yet are encoded in one batch: the
    first question after a start embeds a few hundred passage texts, which one at a time took seconds."""
    from assistant.search.embeddings import encode

    with _VECTORS_LOCK:
        found = {t: _VECTORS[t] for t in texts if t in _VECTORS}
    missing = list(dict.fromkeys(t for t in texts if t not in found))
    if missing:
        found.update(zip(missing, encode(missing)))
    with _VECTORS_LOCK:
        for text, value in found.items():
            _VECTORS[text] = value
            _VECTORS.move_to_end(text)
        while len(_VECTORS) > _VECTORS_KEPT:
            _VECTORS.popitem(last=False)
    return [found[t] for t in texts]


def closeness(texts: Sequence[np.ndarray], question: np.ndarray) -> np.ndarray:
    """Each text's cosine to the closest of the question's views (`question`: one row per view)."""
    return (np.stack(texts) @ question.T).max(axis=1)


def _similarity(passage: Passage, question: np.ndarray, vector_of: Mapping[str, np.ndarray]) -> float:
    """The closest of the passage as a whole and each of its sentences: a short question matches the one
    sentence that answers it better than a paragraph that also covers three other things."""
    texts = [_searchable(passage), *passage.sentences]
    return float(closeness([vector_of[t] for t in texts], question).max())


@lru_cache(maxsize=1024)
def _declared(questions: tuple[str, ...]) -> tuple[str, ...]:
    """A passage's declared questions read as the shopper's question is (`without_store_name`), so that "is the
    warranty through Harbor Lane?" declared matches the same words asked. Cached: every question asked reads all
    of them, and they only change with the knowledge files."""
    return tuple(without_store_name(q) for q in questions)


def _declared_similarity(declared: tuple[str, ...], question: np.ndarray,
                         vector_of: Mapping[str, np.ndarray]) -> float:
    """Cosine to the closest of a passage's declared questions (answered or unanswered)."""
    if not declared:
        return 0.0
    return float(closeness([vector_of[q] for q in _declared(declared)], question).max())


def unanswered(asked: np.ndarray, unasked: np.ndarray) -> bool:
    """Whether a question is one the knowledge says it leaves unanswered: close to one of the store's declared
    unanswered questions ("can I choose the courier?") and clearly closer to it than to any question a passage
    declares it answers. The shipping section is still the nearest text to "can I choose the courier?", and
    quoting it would read as an answer; a person is more use. Similarity to the passages' own text is no guide
    here: a near-topic question is close to it either way (benchmarks/answers, "declared unanswered questions")."""
    best = float(unasked.max(initial=0.0))
    return best >= UNASKED_SIMILARITY and best > float(asked.max(initial=0.0)) + UNASKED_MARGIN


@lru_cache(maxsize=2048)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword phrase as a pattern that lets one word into each gap: "send back" also finds "send it back",
    "return fee" also "return shipping fee"."""
    gap = r" (?:\S+ )?"
    return re.compile(" " + gap.join(re.escape(word) for word in keyword.split()) + " ")


def _has_keyword(passage: Passage, padded_question: str) -> bool:
    return any(_keyword_pattern(k).search(padded_question) for k in passage.keywords)


def retrieve(question: str, k: int = 3, extra: Sequence[Passage] = (),
             passages: Sequence[Passage] | None = None, *, topic: str | None = None,
             relevant_only: bool = True) -> list[Hit]:
    """The `k` best relevant passages for `question` among the store's passages (or `passages`) plus `extra` (a
    product's own passages), best first; with `relevant_only=False`, the best whether relevant or not.

    A `topic` the NLU recognised ("refunds") counts only when no passage is relevant on the question's own
    evidence: then it makes that topic's passages relevant and puts them first, so a terse follow-up ("how
    long?") still finds its section. It never overrides a section the question itself matches: the NLU tags one
    word ("ship it back" -> shipping), where the question's words and declared phrasings weigh all of it
    (benchmarks/answers: the override cost two questions and gained none over five question sets)."""
    pool = list(store_passages() if passages is None else passages) + list(extra)
    question = without_store_name(question)
    if not pool or not question.strip():
        return []
    searched = with_store_terms(question)
    bm25 = BM25([_words_of(p) for p in pool]).scores(words(searched))
    asks = views(question)
    texts = [*asks, *(t for p in pool
                      for t in (_searchable(p), *p.sentences, *_declared(p.asked), *_declared(p.unasked)))]
    vector_of = dict(zip(texts, vectors(texts)))  # one cache visit (and one batch for new texts) per question
    question_vector = np.stack([vector_of[v] for v in asks])
    similarity = np.array([_similarity(p, question_vector, vector_of) for p in pool])
    asked = np.array([_declared_similarity(p.asked, question_vector, vector_of) for p in pool])
    unasked = np.array([_declared_similarity(p.unasked, question_vector, vector_of) for p in pool])
    focus = len(pool) - len(extra)
    declined = unanswered(asked[:focus], unasked[:focus])
    padded = " " + " ".join(WORD.findall(searched.lower())) + " "
    keyword = [_has_keyword(p, padded) for p in pool]
    by_meaning = np.argsort(-np.maximum(similarity, asked), kind="stable")
    by_words = sorted(range(len(pool)), key=lambda i: -bm25[i])
    fused = np.zeros(len(pool))
    for rank, i in enumerate(by_meaning):
        fused[i] += 1 / (RRF_K + rank + 1)
    for rank, i in enumerate(by_words):
        if bm25[i] > 0:
            fused[i] += 1 / (RRF_K + rank + 1)

    def ranked(topical: list[bool]) -> list[Hit]:
        boosted = fused + np.array(topical, dtype=float)  # above any rank-fusion score (at most 2 / 61)
        return [Hit(pool[i], float(boosted[i]), float(similarity[i]), float(bm25[i]), keyword[i], i >= focus,
                    topical[i], float(asked[i]), declined)
                for i in sorted(range(len(pool)), key=lambda i: -boosted[i])]

    hits = ranked([False] * len(pool))
    if topic and not any(h.relevant for h in hits):
        hits = ranked([p.topic == topic for p in pool])
    return [h for h in hits if h.relevant or not relevant_only][:k]
