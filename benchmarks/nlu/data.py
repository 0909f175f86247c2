"""Where the benchmark's examples come from and how they are cut into train and test, the same way for every
pipeline. Only the project's own data needs Rasa (its YAML loader); everything else reads the public layouts with
`assistant.nlu.examples`, so a new dataset in a known layout needs no code change.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.nlu.examples import Example, load_bio, load_clinc, load_csv
from assistant.nlu.training import split_held_out

PROJECT = "project"
PROJECT_FILES = ("data/nlu.yml", "data/lookups.yml")
CLINC_TRAIN_KEYS = ("train", "oos_train")  # val and oos_val are left out, as in the published "Full" setting
CLINC_TEST_KEYS = ("test", "oos_test")
CLINC_VALIDATION_KEYS = ("val", "oos_val")  # used only to choose an out-of-scope threshold

Split = tuple[list[Example], list[Example]]


@dataclass
class Source:
    """Examples as the dataset ships them; `test` is None when it has no test split of its own."""

    name: str
    train: list[Example]
    test: list[Example] | None
    origin: Path  # the folder that may hold a SOURCE.md with published numbers
    rasa_extras: Any = None  # project only: a Rasa TrainingData with its lookup tables and regexes
    notes: list[str] = field(default_factory=list)
    validation: list[Example] | None = None  # a split of its own for choosing thresholds, never trained on


def load_source(data: str, root: Path, oos_label: str | None = None, test_file: str | None = None) -> Source:
    """`project`, a directory with train/ and test/ in the seq.in/seq.out/label layout, a CLINC-style json, or a
    `text,label` CSV (with `test_file` as its test set, else split later)."""
    if test_file and not data.endswith(".csv"):
        raise ValueError("--test applies only to a .csv --data; other sources bring their own test set or are split")
    if data == PROJECT:
        return _project(root, oos_label)
    path = Path(data)
    if path.is_dir():
        return Source(path.name, _relabel(load_bio(path / "train"), oos_label),
                      _relabel(load_bio(path / "test"), oos_label), path)
    if path.suffix == ".json":
        return _clinc(path, oos_label)
    if path.suffix == ".csv":
        test = load_csv(test_file, oos_label=oos_label) if test_file else None
        return Source(f"{path.parent.name}/{path.stem}", load_csv(path, oos_label=oos_label), test, path.parent)
    raise ValueError(f"--data {data}: expected '{PROJECT}', a directory, a .json or a .csv file")


def _project(root: Path, oos_label: str | None) -> Source:
    from rasa.shared.nlu.training_data.loading import load_data

    from benchmarks.nlu.rasa_io import examples_from, extras_of

    parts = [load_data(str(root / name)) for name in PROJECT_FILES if (root / name).exists()]
    data = parts[0].merge(*parts[1:])
    return Source(PROJECT, _relabel(examples_from(data), oos_label), None, root / "data", extras_of(data))


def _clinc(path: Path, oos_label: str | None) -> Source:
    """Train on the train keys present (in-scope and out-of-scope), test on the test keys present."""
    keys = set(json.loads(path.read_text(encoding="utf-8")))
    train_keys = [key for key in CLINC_TRAIN_KEYS if key in keys]
    test_keys = [key for key in CLINC_TEST_KEYS if key in keys]
    if not train_keys or not test_keys:
        raise ValueError(f"{path}: needs the keys {CLINC_TRAIN_KEYS[0]} and {CLINC_TEST_KEYS[0]}")
    validation_keys = [key for key in CLINC_VALIDATION_KEYS if key in keys]
    validation = load_clinc(path, validation_keys, oos_label) if validation_keys else None
    notes = f"train keys {', '.join(train_keys)}; test keys {', '.join(test_keys)}"
    if validation_keys:
        notes += f"; validation keys {', '.join(validation_keys)} (only to choose a threshold)"
    return Source(path.parent.name, load_clinc(path, train_keys, oos_label), load_clinc(path, test_keys, oos_label),
                  path.parent, notes=[notes], validation=validation)


def _relabel(examples: list[Example], oos_label: str | None) -> list[Example]:
    """Examples labelled `oos_label` become out of scope (intent None), as the json and CSV loaders do."""
    if oos_label is None:
        return examples
    return [replace(e, intent=None) if e.intent == oos_label else e for e in examples]


def splits(source: Source, folds: int | None, test_fraction: float, seed: int) -> list[Split]:
    """The (train, test) pairs to run: the shipped test set, else k stratified folds, else one held-out split."""
    if source.test is not None:
        if folds:
            raise ValueError(f"{source.name} has its own test set; --folds applies only to data without one")
        return [(source.train, source.test)]
    if folds:
        return stratified_folds(source.train, folds, seed)
    return [split_held_out(source.train, test_fraction, seed)]


def stratified_folds(examples: Sequence[Example], k: int, seed: int) -> list[Split]:
    """k (train, test) pairs; each intent's examples are dealt round-robin over the folds after a seeded shuffle,
    so every fold's test part holds about 1/k of every intent."""
    if k < 2:
        raise ValueError("k-fold needs at least 2 folds")
    fold_of: list[list[Example]] = [[] for _ in range(k)]
    rng = random.Random(seed)
    offset = 0
    for group in _groups(examples):
        rng.shuffle(group)
        for index, example in enumerate(group):
            fold_of[(offset + index) % k].append(example)
        offset += len(group)  # small intents do not all land in the first folds
    return [([e for j, fold in enumerate(fold_of) if j != i for e in fold], fold_of[i]) for i in range(k)]


def subsample(examples: Sequence[Example], count: int, seed: int) -> list[Example]:
    """`count` examples, each intent (out of scope as one) keeping its share of the whole as closely as it can."""
    if count >= len(examples):
        return list(examples)
    rng = random.Random(seed)
    ranked: list[tuple[float, float, Example]] = []
    for group in _groups(examples):
        rng.shuffle(group)
        ranked += [((index + 0.5) / len(group), rng.random(), example) for index, example in enumerate(group)]
    ranked.sort(key=lambda item: item[:2])
    return [example for _, _, example in ranked[:count]]


def _groups(examples: Sequence[Example]) -> list[list[Example]]:
    """Examples by intent (out of scope as one group), in a fixed order so seeded shuffles repeat."""
    by_intent: dict[str | None, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    return [by_intent[name] for name in sorted(by_intent, key=lambda name: (name is None, name or ""))]
