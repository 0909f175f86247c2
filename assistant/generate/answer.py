"""Answer a free-form question from the store's own knowledge, and never from the model's imagination.

retrieve -> (nothing relevant: say so and offer a person)
         -> generate a short draft from the top passages -> guard -> show it, naming its sources
                                                            -> rejected: quote the best passage instead
A message that tries to steer the assistant ("ignore previous instructions...") never reaches the generator: it
gets the extractive answer, which can only quote the store's own text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from assistant.generate.backends import Backend, BackendUnavailable, Completion
from assistant.generate.guard import check
from assistant.knowledge.documents import Passage, capitalised, product_passages, split_sentences
from assistant.knowledge.retrieval import (Hit, closeness, retrieve, vectors, views, with_store_terms, without_name,
                                          without_store_name, words)

SYSTEM_PROMPT = (
    "You are the Harbor Lane store assistant. Answer the customer's question in one or two short sentences, "
    "using only facts stated in the passages. Do not add numbers, prices, discounts or promises that the "
    "passages do not state. If the passages do not answer the question, reply: I don't know."
)
UNKNOWN_REPLY = (
    "I don't know that, and I'd rather not guess. Our support team can help, Monday to Friday, 9 am to 6 pm "
    "Eastern Time, or by email at support@harborlane.example. Say \"human\" and I'll hand you over."
)
PARAPHRASE_WEIGHT = 0.5  # how much a passage's declared question close to the shopper's counts in choosing the quote
SHORT_PASSAGE = (3, 360)  # sentences, characters: a passage this short is quoted whole
# A store policy section up to this size is quoted whole too, its closest sentences first and the rest after them:
# one sentence of a policy can leave out its exception ("You can return most items within 30 days", asked about a
# smartwatch, whose window is 15 days).
SHORT_POLICY = (5, 450)
MAX_QUESTION_CHARS = 500  # longer messages are cut: nobody asks a shop question in a page of text
_STEERING = re.compile(
    r"ignore\b.{0,40}\b(?:instructions|rules|policies)|disregard|system prompt|(?:your|hidden|secret) instructions"
    r"|\binstructions\b.{0,30}\b(?:repeat|word for word|translate)|you are now|pretend|jailbreak|\bdan\b"
    r"|developer mode|debug mode|new policy|^\s*system\s*:|</?\s*(?:context|system|passages?)\s*>"
    r"|respond only with|and nothing else|make (?:one|it|something) up|you must answer|just confirm|play a game"
    r"|i authori[sz]e you|as the store manager",
    re.IGNORECASE,
)
_BARE_REPLY = re.compile(r"^(?:yes|no)[.!]?$", re.IGNORECASE)
_PRONOUN_START = re.compile(r"^(?:it|this|that|they|these|those|otherwise)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Answer:
    text: str  # what the shopper sees, ending with "(from: ...)" unless kind is "unknown"
    kind: str  # "generated" | "extractive" | "unknown"
    sources: tuple[str, ...] = ()
    draft: str = ""  # a generated draft that was not shown
    problems: tuple[str, ...] = ()  # why the guard rejected the draft
    completion: Completion | None = None
    passages: tuple[Passage, ...] = field(default=(), repr=False)


def looks_like_steering(question: str) -> bool:
    """Whether a message tries to change the assistant's rules rather than ask the store something."""
    return _STEERING.search(question) is not None


def _with_source(text: str, sources: Sequence[str]) -> str:
    return f"{text}\n(from: {'; '.join(dict.fromkeys(sources))})"


def extract(question: str, hits: Sequence[Hit], max_sentences: int = 2,
            name: str = "") -> tuple[str, tuple[Passage, ...]]:
    """The passage among `hits` that holds the sentence closest to `question`: all of it when it is short,
    else its best sentences, quoted verbatim in their original order; and the passages quoted. A sentence that
    leans on the one before it ("It is free on orders of $50...") brings that one along. A bare "Yes." or "No."
    is left out: it answers the question the passage was written for, which need not be the shopper's.

    Another passage follows, quoted the same way, when its best sentence is nearly as close to the question
    (`_second_source`): one question often spans two sections ("what does it cost to send back a jacket I don't
    like?": the shipping price is closest, the return fee answers), and a spec line and a review may each answer
    half of a product question."""
    question = without_store_name(without_name(question, name))
    question_words = set(words(with_store_terms(question))) - set(words(name))  # a word of the name says which
    candidates = [(h.passage, n) for h in hits for n in range(len(h.passage.sentences))]
    texts = [p.sentences[n] for p, n in candidates]
    paraphrased = [h.asked for h in hits for _ in h.passage.sentences]
    scores = (closeness(vectors(texts), np.stack(vectors(views(question))))
              + 0.05 * np.array([len(question_words & set(words(t))) for t in texts])
              + PARAPHRASE_WEIGHT * np.array(paraphrased))
    passage = candidates[int(np.argmax(scores))][0]
    quote = _quote(passage, {n: float(scores[i]) for i, (p, n) in enumerate(candidates) if p is passage},
                   max_sentences)
    second = _second_source(quote, float(scores.max()),
                            [(p, p.sentences[n], float(scores[i])) for i, (p, n) in enumerate(candidates)
                             if p is not passage])
    if second is None:
        return quote, (passage,)
    more = _quote(second, {n: float(scores[i]) for i, (p, n) in enumerate(candidates) if p is second}, 1)
    return " ".join([quote, *(t for t in split_sentences(more) if t not in quote)]), (passage, second)


def _quote(passage: Passage, scores: dict[int, float], max_sentences: int) -> str:
    """What `extract` quotes of its passage, given each sentence's score."""
    sentences = passage.sentences
    bare = {n for n, sentence in enumerate(sentences) if _BARE_REPLY.match(sentence)}
    if len(sentences) <= SHORT_PASSAGE[0] and len(passage.text) <= SHORT_PASSAGE[1]:
        if not bare or len(bare) == len(sentences):  # a policy section or a review: the whole of it, in context
            return passage.text
        return " ".join(t for n, t in enumerate(sentences) if n not in bare)
    own = {n: score for n, score in scores.items() if n not in bare}
    ranked = sorted(own, key=lambda n: -own[n])
    chosen = {ranked[0]}
    if len(ranked) > 1 and own[ranked[1]] >= own[ranked[0]] - 0.08 and len(sentences) > 1:
        chosen.add(ranked[1])
    for n in sorted(chosen):
        if n > 0 and _PRONOUN_START.match(sentences[n]) and n - 1 not in bare:
            chosen.add(n - 1)
    kept = sorted(chosen)[:max_sentences + 1]
    if not passage.of_a_product and len(sentences) <= SHORT_POLICY[0] and len(passage.text) <= SHORT_POLICY[1]:
        kept += [n for n in range(len(sentences)) if n not in kept and n not in bare]  # the rest, after the answer
    return " ".join(sentences[n] for n in kept)


SECOND_SOURCE_MARGIN = 0.08  # how far below the best sentence another passage's best may score and still be quoted
REPEAT_SIMILARITY = 0.75  # cosine at which a sentence says again what the quote already says
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _second_source(quote: str, best: float, others: list[tuple[Passage, str, float]]) -> Passage | None:
    """The passage of the other passages' best sentence, when that sentence scores within SECOND_SOURCE_MARGIN of
    the quote's best and adds something: not a repeat of the quote in other words ("Battery life: 21 days." after
    "The battery lasts up to 21 days."), nor only numbers the quote already gives, nor a sentence that leans on
    one not quoted, nor a question ("Looking for a versatile rain jacket?" in a description answers nothing)."""
    usable = [(p, t, score) for p, t, score in others
              if not _BARE_REPLY.match(t) and not _PRONOUN_START.match(t) and not t.endswith("?") and t not in quote]
    if not usable:
        return None
    passage, sentence, score = max(usable, key=lambda o: o[2])
    numbers = set(_NUMBER.findall(sentence))
    if score < best - SECOND_SOURCE_MARGIN or (numbers and numbers <= set(_NUMBER.findall(quote))):
        return None
    quoted = split_sentences(quote)
    if float((np.stack(vectors(quoted)) @ vectors([sentence])[0]).max()) >= REPEAT_SIMILARITY:
        return None
    return passage


# One worked example: a 135M model copies a shape far better than it follows a description of one.
_EXAMPLE = ("Passages:\n- (Gift wrap) Gift wrap costs $3 per item and is not available for furniture.\n\n"
            "Customer question: can you gift wrap a lamp?",
            "Yes, gift wrap costs $3 per item; only furniture cannot be wrapped.")


def prompt(question: str, hits: Sequence[Hit]) -> list[dict[str, str]]:
    context = "\n".join(f"- ({h.passage.source}) {h.passage.text}" for h in hits)
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _EXAMPLE[0]}, {"role": "assistant", "content": _EXAMPLE[1]},
            {"role": "user", "content": f"Passages:\n{context}\n\nCustomer question: {question}"}]


class Answerer:
    """Holds the generator (None: extractive only); one per process, shared by every conversation."""

    def __init__(self, backend: Backend | None, *, k: int = 3, max_tokens: int = 48,
                 passages: Sequence[Passage] | None = None) -> None:
        self.backend, self.k, self.max_tokens, self.passages = backend, k, max_tokens, passages

    def answer(self, question: str, product: dict | None = None, *, topic: str | None = None,
               generate: bool = True, products_only: bool = False) -> Answer:
        """`product`: the one the conversation is about (its data is knowledge too); `topic`: the policy topic the
        NLU recognised, if any; `products_only`: answer from the product's passages alone (a question about it)."""
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        extra = product_passages(product) if product else ()
        # without the product's name, which crowded the spec that answers "does the Hydro Flask Cascade Pro keep
        # coffee hot?" ("Insulated: no.") out of the passages quoted from
        searched = without_name(question, product["title"]) if product else question
        hits = retrieve(searched, self.k, extra, () if products_only else self.passages, topic=topic)
        if not hits:
            return Answer(UNKNOWN_REPLY, "unknown")
        text, quoted_from = extract(question, hits, name=product["title"] if product else "")
        sources = tuple(dict.fromkeys(p.source for p in quoted_from))
        quoted = Answer(_with_source(text, sources), "extractive", sources, passages=tuple(h.passage for h in hits))
        if self.backend is None or not generate or looks_like_steering(question):
            return quoted
        try:
            completion = self.backend.complete(prompt(question, hits), self.max_tokens, enough=_draft_complete)
        except BackendUnavailable:
            return quoted
        draft = _first_sentences(completion.text)
        if not draft or "don't know" in draft.lower() or "do not know" in draft.lower():
            return replace(quoted, draft=completion.text, problems=("the model did not answer",),
                            completion=completion)
        verdict = check(draft, [h.passage.text for h in hits], instructions=SYSTEM_PROMPT, question=question,
                        subjects=[h.passage.subject for h in hits])
        if not verdict.supported:
            return replace(quoted, draft=draft, problems=verdict.problems, completion=completion)
        sources = tuple(hits[i].passage.source for i in verdict.support)
        return Answer(_with_source(draft, sources), "generated", sources, completion=completion,
                      passages=tuple(h.passage for h in hits))


_PREAMBLE = re.compile(r"^(?:the )?answer(?: to (?:your|the) (?:customer's )?question)? is:?\s*|^-?\s*\([^)]*\)\s*",
                       re.IGNORECASE)


DRAFT_SENTENCES = 2  # a draft longer than this is cut: a short answer is easier to check and to read


def _draft_complete(text: str) -> bool:
    """Whether generation can stop: the first DRAFT_SENTENCES sentences of the draft are complete (the next one
    has begun), so more tokens could not change it."""
    return len(split_sentences(_draft_text(text))) > DRAFT_SENTENCES


# An opening "Yes," / "No." verdict: the guard checks the facts after it against the sources, but not whether
# the verdict answers the question ("do you ship to London?" -> "Yes, we ship to the United States and Canada").
_VERDICT = re.compile(r"^(?:yes|no)\s*[,.!;:-]\s*", re.IGNORECASE)


def _draft_text(text: str) -> str:
    """The model's text without a preamble ("The answer to your question is:"), an echoed source label or an
    opening verdict (`_VERDICT`: the facts that follow answer on their own), capitalised."""
    return capitalised(_VERDICT.sub("", _PREAMBLE.sub("", " ".join(text.split()), count=1), count=1))


def _first_sentences(text: str, limit: int = DRAFT_SENTENCES) -> str:
    """The draft's first sentences (`_draft_text`); a sentence cut off by max_tokens is dropped."""
    sentences = split_sentences(_draft_text(text))
    complete = [s for s in sentences if s[-1] in ".!?"]
    return " ".join(complete[:limit])
