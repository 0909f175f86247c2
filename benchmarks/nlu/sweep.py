"""`python -m benchmarks.nlu.sweep`: compare training settings of our joint model directly, without Rasa.

Each combination of the `--set` values is trained with `assistant.nlu.training.train_joint` on the same split and
scored on its test set (and, where the data has one, at thresholds chosen on its validation split). It runs where
Rasa does not - a GPU machine - so settings can be chosen where training is fast; a chosen setting is then confirmed
through Rasa's parse, on CPU, with `python -m benchmarks.nlu`. Scores are of the float model with no fallback
rule, so they sit beside that benchmark's figures, not in place of them.
"""
from __future__ import annotations

import argparse
import itertools
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.nlu import metrics
from assistant.nlu.examples import Example
from assistant.nlu.joint_model import JointNLU, Prediction
from assistant.nlu.training import TrainingConfig, TrainingReport, train_joint
from assistant.settings import torch_device
from benchmarks.nlu import report
from benchmarks.nlu.data import load_source, splits, subsample
from benchmarks.nlu.runner import ROOT, operating_points

_TYPES = {field.name: type(field.default) for field in fields(TrainingConfig)}


def settings_grid(assignments: Sequence[str]) -> list[dict[str, Any]]:
    """Every combination of `NAME=V1,V2,...` assignments to TrainingConfig fields, values typed like the field's
    default (a field whose default is None takes text)."""
    axes: list[list[tuple[str, Any]]] = []
    for assignment in assignments:
        name, sep, values = assignment.partition("=")
        name = name.strip()
        if not sep or name not in _TYPES:
            raise ValueError(f"{assignment!r}: expected NAME=VALUE[,VALUE...] with NAME one of {', '.join(_TYPES)}")
        kind = _TYPES[name]
        axes.append([(name, _typed(kind, value.strip())) for value in values.split(",") if value.strip()])
    return [dict(combination) for combination in itertools.product(*axes)]


def _typed(kind: type, value: str) -> Any:
    if kind is bool:
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{value!r}: expected true or false")
        return value.lower() == "true"
    return value if kind is type(None) else kind(value)


@dataclass
class Trial:
    settings: dict[str, Any]
    fitted: TrainingReport
    scores: dict[str, float]


def score(model: JointNLU, test: Sequence[Example], validation: Sequence[Example] | None) -> dict[str, float]:
    """Intent accuracy with nothing declined, exact-span entity F1, and the out-of-scope operating points."""
    found = model.predict([e.text for e in test])
    gold = [e.intent for e in test]
    scores = {"intent_accuracy": metrics.accuracy(gold, [p.intent for p in found])}
    if any(e.entities for e in test):
        scores["entity_f1"] = metrics.entity_micro_f1([e.entities for e in test], [p.entities for p in found])
    if validation and None in gold:
        checked = model.predict([e.text for e in validation])
        scores.update(operating_points(gold, _best(found), [e.intent for e in validation], _best(checked)))
    return scores


def _best(predictions: Sequence[Prediction]) -> list[tuple[str | None, float]]:
    return [(p.intent, p.confidence) for p in predictions]


# The benchmark table's columns (report.COLUMNS: header and format) that a settings sweep can fill.
SHOWN = ("intent_accuracy", "entity_f1", "in_scope_accuracy_any", "threshold_at_accuracy",
         "in_scope_accuracy_at_accuracy", "oos_recall_at_accuracy", "threshold_tuned", "in_scope_accuracy_tuned",
         "oos_recall_tuned")


def table(trials: Sequence[Trial]) -> str:
    shown = [column for column in report.COLUMNS
             if column[0] in SHOWN and any(column[0] in t.scores for t in trials)]
    head = ["settings", "epochs (best)", "train s", *(header for _, header, _ in shown)]
    rows = ["| " + " | ".join(head) + " |", "|---|---:|" + "---:|" * (len(head) - 2)]
    for trial in trials:
        cells = [", ".join(f"{k}={v}" for k, v in trial.settings.items()) or "defaults",
                 f"{trial.fitted.epochs_run} ({trial.fitted.best_epoch})", f"{trial.fitted.seconds:.0f}"]
        cells += [report.cell(trial.scores.get(key), style) for key, _, style in shown]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> list[Trial]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nlu.sweep", description=__doc__)
    parser.add_argument("--data", required=True, help="as for `python -m benchmarks.nlu`")
    parser.add_argument("--oos-label", help="the label that marks out-of-scope examples (CLINC: oos)")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="NAME=V1,V2",
                        help="a TrainingConfig field and the values to try; repeat for a grid")
    parser.add_argument("--device", help="default: cuda when available, else cpu")
    parser.add_argument("--limit-train", type=int, help="train on a seeded, stratified subsample (a smoke run)")
    parser.add_argument("--seed", type=int, default=42, help="for the split of data without a test set")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    grid = settings_grid(args.assignments)
    source = load_source(args.data, ROOT, args.oos_label)
    train, test = splits(source, None, 0.2, args.seed)[0]
    if args.limit_train:
        train = subsample(train, args.limit_train, args.seed)
    device = torch_device(args.device)
    trials = []
    for settings in grid:
        model, fitted = train_joint(train, replace(TrainingConfig(), device=device, progress=False, **settings))
        trials.append(Trial(settings, fitted, score(model, test, source.validation)))
        print(table(trials[-1:]).splitlines()[-1], flush=True)
    print(table(trials))
    command = "python -m benchmarks.nlu.sweep " + shlex.join(sys.argv[1:] if argv is None else argv)
    smoke = " (smoke run)" if args.limit_train else ""
    key = f"nlu-sweep-{source.name}-{device.split(':')[0]}{'-smoke' if smoke else ''}"
    body = "\n\n".join([
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {report.machine()}.",
        f"Command: `{command}`",
        f"Data: {len(train)} training / {len(test)} test examples.",
        table(trials),
        "Our joint model trained directly (`train_joint`, no Rasa), float weights, nothing declined for intent "
        "accuracy; the threshold columns are placed on the validation split as in the NLU benchmark's table. "
        "For choosing settings; the figures of record come from `python -m benchmarks.nlu` through Rasa."])
    report.write_section(args.out, key, report.section(key, f"NLU settings sweep: {source.name} on {device}{smoke}",
                                                         body))
    return trials


if __name__ == "__main__":
    main()
