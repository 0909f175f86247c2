"""The store's knowledge as passages with source names: policy and FAQ markdown, and one product's own data.

Each `## section` of a knowledge markdown file is one passage. A section may start with a comment
`<!-- topic: returns; keywords: send back, worn -->`: the keywords are searched with the text (the words
shoppers use that the policy prose does not) and the topic ties the passage to the NLU's `policy_topic`. A second
comment `<!-- asked: can I send back boots I wore once? | ... -->` lists questions the section answers, phrased as
shoppers phrase them: a question is compared with those as well as with the answer's text, because a question
resembles another question far more than it resembles the statement that answers it. A third comment
`<!-- unasked: do you deliver to parcel lockers? | ... -->` lists questions near the section's topic that no
section answers: a question closer to one of those than to anything the section answers is declined rather than
answered with a quote that only sounds related. policies.md declares the store's own name once
(`<!-- store name: Harbor Lane -->`), so that searching can leave it out of questions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.settings import settings

# Files in the knowledge folder, and how their sections are named as sources.
KNOWLEDGE_FILES = {"policies.md": "{title}", "faq.md": "FAQ: {title}"}

_HEADER = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)
_META = re.compile(r"<!--\s*topic:\s*(?P<topic>[\w_]+);\s*keywords:\s*(?P<keywords>.*?)\s*-->", re.DOTALL)
_ASKED = re.compile(r"<!--\s*asked:\s*(?P<questions>.*?)\s*-->", re.DOTALL)
_UNASKED = re.compile(r"<!--\s*unasked:\s*(?P<questions>.*?)\s*-->", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


@dataclass(frozen=True)
class Passage:
    id: str  # stable: "policies.md#returns", "product:123#reviews"
    source: str  # what the shopper is told: "from: Returns"
    text: str
    topic: str = ""
    keywords: tuple[str, ...] = ()
    asked: tuple[str, ...] = ()  # questions the passage answers, in shoppers' words (searched, never quoted)
    unasked: tuple[str, ...] = ()  # questions near its topic that it (and every other passage) leaves unanswered

    @property
    def sentences(self) -> list[str]:
        return split_sentences(self.text)

    @property
    def of_a_product(self) -> bool:
        """A product's description, specs or review, as opposed to a section of the store's policies and FAQ."""
        return self.id.startswith("product:")

    @property
    def subject(self) -> str:
        """What the passage is about: one product (all of its passages) or one policy section. An answer that
        joins facts about two subjects is usually a small model wandering from one passage to the next."""
        return self.id.split("#")[0] if self.of_a_product else self.id


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def capitalised(text: str) -> str:
    """The text with its first letter upper-cased and the rest as written ("iPhone" inside stays "iPhone")."""
    return text[:1].upper() + text[1:]


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def parse_markdown(markdown: str, file_name: str, source_format: str = "{title}") -> list[Passage]:
    """Split a knowledge document into one passage per `##` section (text before the first is a preface)."""
    headers = list(_HEADER.finditer(markdown))
    passages = []
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(markdown)
        body = markdown[header.end():end]
        meta, asked, unasked = _META.search(body), _ASKED.search(body), _UNASKED.search(body)
        title = header.group("title").strip()
        passages.append(Passage(
            id=f"{file_name}#{_slug(title)}",
            source=source_format.format(title=title),
            text=" ".join(_UNASKED.sub("", _ASKED.sub("", _META.sub("", body))).split()),
            topic=meta.group("topic") if meta else "",
            keywords=tuple(k.strip().lower() for k in meta.group("keywords").split(",") if k.strip()) if meta else (),
            asked=_questions(asked),
            unasked=_questions(unasked),
        ))
    return passages


def _questions(comment: re.Match[str] | None) -> tuple[str, ...]:
    """The `|`-separated questions of an `asked` or `unasked` comment, each on one line."""
    return tuple(" ".join(q.split()) for q in comment.group("questions").split("|") if q.strip()) if comment else ()


@lru_cache(maxsize=4)
def store_passages(folder: Path | None = None) -> tuple[Passage, ...]:
    """Every policy and FAQ passage of the store (the configured knowledge folder by default)."""
    folder = Path(folder or settings().knowledge_dir)
    passages: list[Passage] = []
    for name, source_format in KNOWLEDGE_FILES.items():
        path = folder / name
        if path.is_file():
            passages += parse_markdown(path.read_text(encoding="utf-8"), name, source_format)
    return tuple(passages)


_STORE_NAME = re.compile(r"<!--\s*store name:\s*(?P<name>.*?)\s*-->")


@lru_cache(maxsize=4)
def store_name(folder: Path | None = None) -> str:
    """The store's own name as policies.md declares it; "" when it declares none."""
    path = Path(folder or settings().knowledge_dir) / "policies.md"
    found = _STORE_NAME.search(path.read_text(encoding="utf-8")) if path.is_file() else None
    return found.group("name") if found else ""


SYNONYMS_FILE = "synonyms.md"
_SYNONYM_LINE = re.compile(r"^- (?P<term>[^:]+):(?P<words>.+)$", re.MULTILINE)


def parse_synonyms(markdown: str) -> dict[str, tuple[str, ...]]:
    """`- express: fast, speedy` lines as {"express": ("fast", "speedy")}, lower-cased."""
    return {m.group("term").strip().lower(): tuple(w.strip().lower() for w in m.group("words").split(",") if w.strip())
            for m in _SYNONYM_LINE.finditer(markdown)}


@lru_cache(maxsize=4)
def store_synonyms(folder: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The store's term for each word shoppers use instead (knowledge/synonyms.md; none when it is missing)."""
    path = Path(folder or settings().knowledge_dir) / SYNONYMS_FILE
    return parse_synonyms(path.read_text(encoding="utf-8")) if path.is_file() else {}


def product_passages(product: dict) -> list[Passage]:
    """A product's description, specs and reviews as passages named after it, so "does it run small?" can be
    answered (and attributed) from the product's own data."""
    from assistant.dialogue.product_qa import SPEC_WORDS
    from assistant.dialogue.render import spec_text

    title, pid = product["title"], product["id"]
    passages = []
    if product.get("description"):
        passages.append(Passage(f"product:{pid}#description", f"{title}: description", product["description"]))
    specs = product.get("specs") or {}
    if specs:
        # One sentence per spec (capitalised, so the sentence splitter sees it): a quote can then be "Waterproof:
        # yes." rather than the whole list, whose vector is too diluted to beat the description's first line.
        text = " ".join(f"{capitalised(spec_text(k, v))}." for k, v in specs.items())
        asked_as = tuple(w for w, fragments in SPEC_WORDS.items() if any(f in k for f in fragments for k in specs))
        passages.append(Passage(f"product:{pid}#specs", f"{title}: specifications", text, keywords=asked_as))
    for n, review in enumerate(product.get("reviews") or []):
        if review.get("text"):
            passages.append(Passage(f"product:{pid}#review-{n + 1}", f"{title}: a customer review", review["text"]))
    return passages
