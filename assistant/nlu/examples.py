"""Labelled NLU examples and loaders for the public dataset layouts, independent of Rasa.

The model code trains on `Example`s only, so any source (Rasa's training data, SNIPS-style BIO files, CLINC json,
a CSV) works once converted. Entity spans are character offsets into `text`; `intent=None` marks an example that
belongs to no intent (out of scope), which training pushes towards an even spread over all intents.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Span:
    """An entity: `text[start:end]` is what was typed, `value` what it stands for (often the same)."""

    start: int
    end: int
    entity: str
    value: str


@dataclass(frozen=True)
class Example:
    text: str
    intent: str | None
    entities: list[Span] = field(default_factory=list)


def load_bio(directory: str | Path) -> list[Example]:
    """Read the seq.in / seq.out / label layout (one utterance per line, tokens split on whitespace)."""
    directory = Path(directory)
    lines = [(directory / name).read_text(encoding="utf-8").splitlines() for name in ("seq.in", "seq.out", "label")]
    if not len(lines[0]) == len(lines[1]) == len(lines[2]):
        raise ValueError(f"{directory}: seq.in, seq.out and label have different line counts")
    return [_bio_example(words.split(), tags.split(), label.strip(), f"{directory}:{n}")
            for n, (words, tags, label) in enumerate(zip(*lines), start=1)]


def _bio_example(words: list[str], tags: list[str], label: str, where: str) -> Example:
    """Join the tokens with single spaces and turn the BIO tags into character spans of that text."""
    if len(words) != len(tags):
        raise ValueError(f"{where}: {len(words)} tokens but {len(tags)} tags")
    text = " ".join(words)
    bounds, position = [], 0
    for word in words:
        bounds.append((position, position + len(word)))
        position += len(word) + 1
    return Example(text, label or None, [span_of(text, bounds[first][0], bounds[last - 1][1], entity)
                                         for first, last, entity in bio_ranges(tags)])


def span_of(text: str, start: int, end: int, entity: str) -> Span:
    """The entity exactly as typed: its value is the text it covers."""
    return Span(start, end, entity, text[start:end])


def bio_ranges(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Each entity in a BIO tag sequence as (first word, last word + 1, entity type).

    An I- tag that does not continue an entity of its own type starts one, as conlleval reads it.
    """
    ranges: list[tuple[int, int, str]] = []
    for index, tag in enumerate(tags):
        prefix, _, entity = tag.partition("-")
        if prefix == "I" and ranges and ranges[-1][1] == index and ranges[-1][2] == entity:
            ranges[-1] = (ranges[-1][0], index + 1, entity)
        elif prefix in ("B", "I") and entity:
            ranges.append((index, index + 1, entity))
    return ranges


def load_clinc(path: str | Path, keys: Iterable[str] = ("train",), oos_label: str | None = None) -> list[Example]:
    """Read CLINC150's json layout: each key holds [text, label] pairs.

    `oos_label` names the out-of-scope label ("oos" in CLINC); its examples come back with `intent=None`.
    Leave it unset to keep that label as an ordinary intent.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Example(text, None if label == oos_label else label)
            for key in keys for text, label in data[key]]


def load_csv(path: str | Path, text_column: str = "text", label_column: str = "label",
             oos_label: str | None = None) -> list[Example]:
    """Read a CSV with a header row holding (at least) a text and a label column."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [Example(row[text_column], None if row[label_column] == oos_label else row[label_column])
                for row in csv.DictReader(handle)]
