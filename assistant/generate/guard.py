"""Decide whether a generated answer says only what its source passages say.

A small model paraphrases well and invents confidently, so a draft is shown only if:
  - every number, price, percentage, duration, order number and email in it occurs in the sources;
  - every name in it (a capitalised word inside a sentence: a country, a brand, a shop) occurs in the sources:
    "Yes, we ship to Australia" must not pass on the strength of "We ship to the United States and Canada";
  - every policy-bearing term in it (free, refund, lifetime, worldwide, a payment method, a country...) occurs in
    the sources;
  - each of its sentences rests on one source sentence that is close in meaning, states the same numbers and has
    the same polarity (a draft that says "you can" where the source says "cannot" is a contradiction, however
    similar the words);
  - it does not bring into a sentence a word from another source sentence (splicing "electronics" into the
    30-day sentence makes a new, false policy);
  - it keeps at least one number of each source sentence it rests on ("Yes, shipping is free." rests on "free on
    orders of $50 or more" and drops the condition that makes it true);
  - its sentences rest on passages about one subject (one policy section, or one product): "Shipping is free on
    orders of $50. $5.99 is deducted from your refund." joins two true sentences into an answer to neither;
  - it mentions what the question asked about, where the sources do ("how fast is express shipping?" answered
    with the standard shipping sentence is on topic for the words but not for the shopper);
  - it does not repeat the assistant's own instructions.
Anything else is rejected with the reasons, and the caller answers extractively instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from assistant.knowledge.documents import split_sentences
from assistant.knowledge.retrieval import vectors, words

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
_NAME = re.compile(r"(?<![\w'])[A-Z][a-zA-Z]+")
_VERDICT = re.compile(r"^(?:yes|no)\b[,.!]?\s*", re.IGNORECASE)
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


def check(draft: str, sources: Sequence[str], *, instructions: str = "", question: str = "",
          subjects: Sequence[str] = ()) -> Verdict:
    """Every reason `draft` is not supported by `sources` (empty when it is); with `question`, also whether it
    answers what was asked; with `subjects` (what each source is about), also whether it keeps to one."""
    problems: list[str] = []
    source_text = " ".join(sources)
    lowered, source_lowered = draft.lower(), source_text.lower()
    number_pool = _numbers(source_text)
    for number in sorted(_numbers(draft) - number_pool):
        problems.append(f"number not in the sources: {number}")
    for email in set(_EMAIL.findall(lowered)) - set(_EMAIL.findall(source_lowered)):
        problems.append(f"email not in the sources: {email}")
    for name in sorted({n for n in _names(draft) if not _has(n.lower(), source_lowered)}):
        problems.append(f"name not in the sources: {name}")
    source_stems = _stems(source_text)
    for term in POLICY_TERMS:
        if _has(term, lowered) and not _has(term, source_lowered) and not (_stems(term) or {""}) <= source_stems:
            problems.append(f"policy term not in the sources: {term!r}")
    if instructions and _shares_run(lowered, instructions.lower(), 6):
        problems.append("repeats the assistant's instructions")
    sentences = split_sentences(draft)
    owners, source_sentences = zip(*[(n, s) for n, text in enumerate(sources) for s in split_sentences(text)]) \
        if any(sources) else ((), ())
    support: list[int] = []
    if sentences and source_sentences:
        # A leading "Yes,"/"No," is the answer's verdict, not a claim to match (its polarity is still checked).
        # Source sentences come from retrieved passages, so retrieval's cache already holds their vectors; the
        # draft's sentences are new and are encoded together in one batch.
        embedded = np.stack(vectors([_VERDICT.sub("", s) for s in sentences] + list(source_sentences)))
        similarity = embedded[:len(sentences)] @ embedded[len(sentences):].T
        source_numbers = [_numbers(s) for s in source_sentences]
        source_words = [_stems(s) for s in source_sentences]
        everywhere = set().union(*source_words)
        for i, sentence in enumerate(sentences):
            # The sentence must rest on one source sentence that is close in meaning AND states its numbers:
            # "Refunds take 14 days" is near the refunds sentence, but its 14 comes from the price-match one.
            needed = _numbers(sentence)
            covering = [j for j in range(len(source_sentences)) if needed <= source_numbers[j]]
            best = max(covering, key=lambda j: similarity[i, j], default=None)
            closest = float(similarity[i].max())
            if best is None or similarity[i, best] < MIN_SENTENCE_SUPPORT:
                reason = "its numbers are not in the sentence it paraphrases" if closest >= MIN_SENTENCE_SUPPORT \
                    else f"closest source sentence at {closest:.2f}"
                problems.append(f"sentence not supported ({reason}): {sentence}")
            elif _negated(sentence) != _negated(source_sentences[best]):
                problems.append(f"contradicts its closest source sentence: {sentence}")
            elif borrowed := sorted((_stems(sentence) & everywhere) - source_words[best]):
                # A word from another source sentence: facts spliced together ("Electronics ... 30 days").
                problems.append(f"mixes in {', '.join(borrowed)} from another source sentence: {sentence}")
            elif source_numbers[best] and not needed:
                problems.append(f"drops every number of the sentence it rests on: {sentence}")
            elif owners[best] not in support:
                support.append(owners[best])
        if subjects and len(joined := list(dict.fromkeys(subjects[i] for i in support))) > 1:
            problems.append(f"joins sentences about different subjects: {', '.join(joined)}")
        if question and (unasked := sorted((_stems(question) & everywhere) - _stems(draft))):
            problems.append(f"does not mention {', '.join(unasked)} from the question")
    elif sentences:
        problems.append("no sources to support it")
    return Verdict(tuple(problems), tuple(support))


def _names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence (or follow its "Yes,"): names, as far as case tells."""
    found = set()
    for sentence in split_sentences(text):
        found.update(_NAME.findall(_VERDICT.sub("", sentence)[1:]))
    return found


def _stems(text: str) -> set[str]:
    """Content words folded to a crude stem ("returned", "returns" -> "return"; "shipping" -> "ship"), longer
    than three letters: enough to tell the same word from a different one."""
    out = set()
    for word in words(text):
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[:-len(suffix)]
                break
        if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
            word = word[:-1]
        if len(word) > 3:
            out.add(word)
    return out


def _shares_run(text: str, other: str, length: int) -> bool:
    """Whether `text` contains `length` consecutive words of `other`."""
    tokens, other_tokens = text.split(), other.split()
    runs = {tuple(other_tokens[i:i + length]) for i in range(len(other_tokens) - length + 1)}
    return any(tuple(tokens[i:i + length]) in runs for i in range(len(tokens) - length + 1))
