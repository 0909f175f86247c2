"""Decide whether a generated answer says only what its source passages say.

A small model paraphrases well and invents confidently, so a draft is shown only if:
  - every number, price, percentage, duration, order number and email in it occurs in the sources;
  - every policy-bearing term in it (free, refund, lifetime, worldwide, a payment method, a country...) occurs in
    the sources;
  - each of its sentences is close in meaning to some source sentence, with the same polarity (a draft that says
    "you can" where the source says "cannot" is a contradiction, however similar the words);
  - it does not repeat the assistant's own instructions.
Anything else is rejected with the reasons, and the caller answers extractively instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from assistant.knowledge.documents import split_sentences

MIN_SENTENCE_SUPPORT = 0.62  # cosine to the closest source sentence (benchmarks/answers calibrates it)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WORD_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15",
                 "thirty": "30", "fifty": "50", "hundred": "100", "half": "50%"}
# Words that state a policy. If a draft uses one, the sources must too: "free", "lifetime" or "worldwide" is
# exactly what a small model adds on its own.
POLICY_TERMS = (
    "free", "refund", "refunded", "discount", "code", "coupon", "voucher", "% off", "off your", "lifetime",
    "warranty", "guarantee", "exchange", "store credit", "cash", "worldwide", "international", "price match",
    "match", "visa", "mastercard", "american express", "paypal", "apple pay", "google pay", "bitcoin", "klarna",
    "afterpay", "installment", "canada", "united states", "mexico", "europe", "uk", "express", "overnight",
    "same day", "no questions asked", "any reason", "anytime", "unlimited", "always", "never", "guaranteed",
    "waive", "waived", "approved", "confirmed", "credited",
)
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|can't|won't|don't|doesn't|isn't|aren't|unable)\b|n't\b")


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...] = field(default=())
    support: tuple[int, ...] = ()  # indices of the sources that the draft's sentences rest on, in first-use order

    @property
    def supported(self) -> bool:
        return not self.problems


def _numbers(text: str) -> set[str]:
    lowered = text.lower()
    found = {n.replace(",", "") for n in _NUMBER.findall(lowered)}
    found |= {v for w, v in _WORD_NUMBERS.items() if re.search(rf"\b{w}\b", lowered)}
    return {n.rstrip("0").rstrip(".") if "." in n else n for n in found}


def _has(term: str, text: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", text) is not None if term[0].isalnum() \
        else term in text


def _negated(sentence: str) -> bool:
    return _NEGATION.search(sentence.lower()) is not None


def check(draft: str, sources: Sequence[str], *, instructions: str = "") -> Verdict:
    """Every reason `draft` is not supported by `sources` (empty when it is)."""
    from assistant.search.embeddings import encode

    problems: list[str] = []
    source_text = " ".join(sources)
    lowered, source_lowered = draft.lower(), source_text.lower()
    number_pool = _numbers(source_text)
    for number in sorted(_numbers(draft) - number_pool):
        problems.append(f"number not in the sources: {number}")
    for email in set(_EMAIL.findall(lowered)) - set(_EMAIL.findall(source_lowered)):
        problems.append(f"email not in the sources: {email}")
    for term in POLICY_TERMS:
        if _has(term, lowered) and not _has(term, source_lowered):
            problems.append(f"policy term not in the sources: {term!r}")
    if instructions and _shares_run(lowered, instructions.lower(), 6):
        problems.append("repeats the assistant's instructions")
    sentences = split_sentences(draft)
    owners, source_sentences = zip(*[(n, s) for n, text in enumerate(sources) for s in split_sentences(text)]) \
        if any(sources) else ((), ())
    support: list[int] = []
    if sentences and source_sentences:
        vectors = encode(sentences + list(source_sentences))
        similarity = vectors[:len(sentences)] @ vectors[len(sentences):].T
        for i, sentence in enumerate(sentences):
            best = int(np.argmax(similarity[i]))
            if similarity[i, best] < MIN_SENTENCE_SUPPORT:
                problems.append(f"sentence not supported ({similarity[i, best]:.2f}): {sentence}")
            elif _negated(sentence) != _negated(source_sentences[best]):
                problems.append(f"contradicts its closest source sentence: {sentence}")
            elif owners[best] not in support:
                support.append(owners[best])
    elif sentences:
        problems.append("no sources to support it")
    return Verdict(tuple(problems), tuple(support))


def _shares_run(text: str, other: str, length: int) -> bool:
    """Whether `text` contains `length` consecutive words of `other`."""
    words, other_words = text.split(), other.split()
    runs = {tuple(other_words[i:i + length]) for i in range(len(other_words) - length + 1)}
    return any(tuple(words[i:i + length]) in runs for i in range(len(words) - length + 1))
