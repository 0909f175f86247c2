"""Extractive answers to store-policy questions from knowledge/policies.md.

Each `## section` of the markdown is one topic. A question is matched to sections by the keywords declared in the
section's `<!-- topic: ...; keywords: ... -->` comment and by word overlap with the section text; the answer
quotes the best section verbatim and names it, so the assistant never states a policy the store did not write.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_POLICIES = Path(__file__).resolve().parents[2] / "knowledge" / "policies.md"

_HEADER = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)
_META = re.compile(r"<!--\s*topic:\s*(?P<topic>[\w_]+);\s*keywords:\s*(?P<keywords>.*?)\s*-->", re.DOTALL)
_WORD = re.compile(r"[a-z0-9$]+(?:-[a-z0-9]+)*")
_STOP = frozenset(
    "a an the is are do does did can could i you your my me we our of to in on for and or it its this that "
    "what how when where which who with be if there any about".split()
)


@dataclass(frozen=True)
class PolicySection:
    title: str
    topic: str
    keywords: tuple[str, ...]
    text: str

    @property
    def words(self) -> frozenset[str]:
        return frozenset(_content_words(self.text + " " + self.title))


@dataclass(frozen=True)
class PolicyAnswer:
    section: PolicySection
    score: float

    @property
    def source(self) -> str:
        return self.section.title


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def parse_sections(markdown: str) -> list[PolicySection]:
    """Split the policy document into its `##` sections."""
    sections = []
    headers = list(_HEADER.finditer(markdown))
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(markdown)
        body = markdown[header.end():end]
        meta = _META.search(body)
        topic = meta.group("topic") if meta else ""
        keywords = tuple(k.strip().lower() for k in meta.group("keywords").split(",")) if meta else ()
        text = " ".join(_META.sub("", body).split())
        sections.append(PolicySection(header.group("title").strip(), topic, keywords, text))
    return sections


@lru_cache(maxsize=4)
def load_sections(path: Path = DEFAULT_POLICIES) -> tuple[PolicySection, ...]:
    return tuple(parse_sections(path.read_text(encoding="utf-8")))


def _score(section: PolicySection, question: str, words: set[str], topic: str | None) -> float:
    padded = f" {question} "
    score = sum(2.0 + len(k.split()) for k in section.keywords if f" {k} " in padded)
    score += 0.5 * len(words & section.words)
    if topic and topic == section.topic:
        score += 6.0  # the NLU recognised the topic: trust it over loose keyword hits
    return score


def answer_policy(question: str, topic: str | None = None, *, min_score: float = 3.0,
                  sections: tuple[PolicySection, ...] | None = None) -> PolicyAnswer | None:
    """Best-matching policy section for a question, or None when nothing matches well enough."""
    sections = sections if sections is not None else load_sections()
    normalised = " ".join(_WORD.findall(question.lower()))
    words = set(_content_words(question))
    scored = [(_score(s, normalised, words, topic), i, s) for i, s in enumerate(sections)]
    best_score, _, best = max(scored, key=lambda t: (t[0], -t[1]), default=(0.0, 0, None))
    if best is None or best_score < min_score:
        return None
    return PolicyAnswer(best, best_score)
