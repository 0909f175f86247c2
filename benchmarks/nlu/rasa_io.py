"""Conversion between the benchmark's `Example`s and Rasa's training data.

Every pipeline trains from the same Rasa YAML file, written by Rasa's own writer from exact character spans and
read back once to prove that the markup round-trips: a span Rasa would read differently is an error here, not a
silent change to the benchmark.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.nlu.examples import Example, Span


def examples_from(data: TrainingData) -> list[Example]:
    """The intent examples of Rasa training data (roles and groups are not benchmarked)."""
    return [Example(message.get(TEXT), message.get(INTENT),
                    [Span(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END], e[ENTITY_ATTRIBUTE_TYPE],
                          str(e.get(ENTITY_ATTRIBUTE_VALUE, ""))) for e in message.get(ENTITIES) or []])
            for message in data.intent_examples if message.get(TEXT)]


def extras_of(data: TrainingData) -> TrainingData:
    """Lookup tables and regexes, which are features of the data rather than examples, so every split keeps them.

    Synonyms are left out: Rasa derives them from the annotated examples, so carrying them over would leak test
    examples into training (they only change entity values, which are not scored, but a leak is a leak).
    """
    return TrainingData(regex_features=data.regex_features, lookup_tables=data.lookup_tables)


def write_training_data(examples: Sequence[Example], path: Path, oos_label: str | None,
                        extras: TrainingData | None = None) -> None:
    """Rasa YAML NLU data for `examples`; out-of-scope examples are written under `oos_label`."""
    data = TrainingData([_message(example, oos_label) for example in examples])
    if extras is not None:
        data = data.merge(extras)
    path.write_text(data.nlu_as_yaml(), encoding="utf-8")
    _check_round_trip(examples, load_data(str(path)), oos_label)


def _message(example: Example, oos_label: str | None) -> Message:
    if example.intent is None and oos_label is None:
        raise ValueError(f"out-of-scope example {example.text!r} needs --oos-label to be written as Rasa data")
    entities = [{ENTITY_ATTRIBUTE_START: s.start, ENTITY_ATTRIBUTE_END: s.end, ENTITY_ATTRIBUTE_TYPE: s.entity,
                 ENTITY_ATTRIBUTE_VALUE: s.value} for s in example.entities]
    return Message.build(example.text, example.intent or oos_label, entities or None)


def _check_round_trip(examples: Sequence[Example], data: TrainingData, oos_label: str | None) -> None:
    """Rasa must read back every text, intent and span exactly as written (duplicates are merged by Rasa)."""
    expected = {_key(e.text, e.intent or oos_label, e.entities) for e in examples}
    found = {_key(e.text, e.intent, e.entities) for e in examples_from(data)}
    if expected != found:
        raise ValueError(f"Rasa reads the written training data differently: {len(expected - found)} examples "
                         f"changed, e.g. {min(expected - found, default=None)} read as "
                         f"{min(found - expected, default=None)}")


def _key(text: str, intent: str | None, spans: Sequence[Span]) -> tuple:
    return text, intent or "", tuple(sorted((s.start, s.end, s.entity) for s in spans))
