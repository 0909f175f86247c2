"""Runs every pipeline on the same splits, training and evaluating each in worker processes, and scores it.

With k folds the predictions of all folds are pooled before scoring (every example is tested once), latency
percentiles are over all timed parses, training time and model size are the mean of the folds and peak memory the
largest.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.nlu import metrics
from assistant.nlu.examples import Example, Span
from benchmarks.nlu.data import Source, Split

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = ROOT / "benchmarks" / "pipelines"
FALLBACK_INTENT = "nlu_fallback"  # what Rasa's FallbackClassifier predicts
OOS_KEY = "out_of_scope_intent"  # a pipeline step with this key gets the benchmark's out-of-scope label


@dataclass
class PipelineResult:
    """One pipeline's scores; a metric that does not apply to the data (no entities, no out of scope) is absent."""

    name: str
    scores: dict[str, float] = field(default_factory=dict)
    entity_types: dict[str, tuple[float, int]] = field(default_factory=dict)  # type -> (F1, gold spans)


@dataclass
class _Outcome:
    """What the workers of one pipeline returned, pooled over the folds."""

    gold: list[Example] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    validation_gold: list[Example] = field(default_factory=list)
    validation_predictions: list[dict[str, Any]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    model_bytes: list[int] = field(default_factory=list)
    peak_rss_bytes: list[int] = field(default_factory=list)


def pipeline_config(name: str) -> Path:
    """A shipped pipeline by name (benchmarks/pipelines/NAME.yml) or any Rasa config file by path."""
    shipped = PIPELINES / f"{name}.yml"
    path = shipped if shipped.exists() else Path(name)
    if not path.is_file():
        raise ValueError(f"pipeline {name!r}: neither {shipped} nor a config file")
    return path


def run_benchmark(source: Source, splits: Sequence[Split], pipelines: Sequence[Path], oos_label: str | None,
                  workdir: Path, on_done: Callable[[list[PipelineResult]], None] | None = None
                  ) -> list[PipelineResult]:
    """Train and evaluate each pipeline on each split; returns one scored result per pipeline, in order.

    `on_done` gets the results so far each time a pipeline has finished its last split, so that a long run
    (SNIPS, CLINC: an hour per pipeline on two cores) keeps what it measured if it is stopped later."""
    from benchmarks.nlu.rasa_io import write_training_data  # Rasa is imported only when a benchmark runs

    outcomes = {path: _Outcome() for path in pipelines}
    has_entities = any(e.entities for train, test in splits for e in (*train, *test))
    done: list[PipelineResult] = []
    for fold, (train, test) in enumerate(splits):
        folder = workdir / f"fold{fold}"
        folder.mkdir(parents=True)
        write_training_data(train, folder / "train.yml", oos_label, source.rasa_extras)
        (folder / "test.json").write_text(json.dumps([e.text for e in test]), encoding="utf-8")
        validation = source.validation if oos_label is not None else None
        if validation:
            (folder / "validation.json").write_text(json.dumps([e.text for e in validation]), encoding="utf-8")
        for path in pipelines:
            result = _run_worker(path, folder, oos_label, workdir)
            _pool(outcomes[path], test, result, validation or [])
            if fold == len(splits) - 1:
                done.append(PipelineResult(path.stem, _score(outcomes[path], oos_label, has_entities),
                                           _entity_types(outcomes[path]) if has_entities else {}))
                if on_done is not None:
                    on_done(list(done))
    return done


def _run_worker(pipeline: Path, folder: Path, oos_label: str | None, workdir: Path) -> dict[str, Any]:
    """Train in one worker process, evaluate the saved model in a fresh one; their results merged."""
    name = pipeline.stem
    config = folder / f"{name}.config.yml"
    config.write_text(yaml.safe_dump(with_oos_label(yaml.safe_load(pipeline.read_text(encoding="utf-8")),
                                                    oos_label), sort_keys=False), encoding="utf-8")
    job = {"name": name, "config": str(config), "train": str(folder / "train.yml"), "test": str(folder / "test.json"),
           "models": str(folder / "models"), "train_result": str(folder / f"{name}.train.json"), "evaluate_result": str(folder / f"{name}.eval.json")}
    if (folder / "validation.json").exists():
        job["validation"] = str(folder / "validation.json")
    job_path = folder / f"{name}.job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    results = []
    for phase in ("train", "evaluate"):
        print(f"[benchmark] {folder.name}: {phase} {name} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "benchmarks.nlu.worker", phase, str(job_path)],
                       cwd=ROOT, env=_worker_env(workdir), check=True)
        results.append(json.loads(Path(job[f"{phase}_result"]).read_text(encoding="utf-8")))
    trained, evaluated = results
    return {**trained, **evaluated, "peak_rss_bytes": max(trained["peak_rss_bytes"], evaluated["peak_rss_bytes"])}


def with_oos_label(config: dict[str, Any], oos_label: str | None) -> dict[str, Any]:
    """The config with the out-of-scope label filled into every pipeline step that declares `out_of_scope_intent`."""
    steps = [{**step, OOS_KEY: oos_label} if OOS_KEY in step else step for step in config.get("pipeline", [])]
    return {**config, "pipeline": steps}


def _worker_env(workdir: Path) -> dict[str, str]:
    """Offline, no telemetry, and a private, disabled training cache so every run really trains."""
    env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0", "RASA_CACHE_DIRECTORY": str(workdir / "cache"),
           "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _pool(outcome: _Outcome, test: Sequence[Example], result: dict[str, Any],
          validation: Sequence[Example]) -> None:
    outcome.gold += test
    outcome.predictions += result["predictions"]
    if validation:
        outcome.validation_gold += validation
        outcome.validation_predictions += result["validation_predictions"]
    outcome.latencies += result["latencies"]
    outcome.train_seconds.append(result["train_seconds"])
    outcome.model_bytes.append(result["model_bytes"])
    outcome.peak_rss_bytes.append(result["peak_rss_bytes"])


def _score(outcome: _Outcome, oos_label: str | None, has_entities: bool) -> dict[str, float]:
    """The table's numbers: quality as fractions, time in seconds / milliseconds, sizes in MiB."""
    gold = [e.intent for e in outcome.gold]
    predicted = [predicted_label(p["intent"], oos_label) for p in outcome.predictions]
    scores = {"intent_accuracy": metrics.accuracy(gold, predicted), "macro_f1": metrics.macro_f1(gold, predicted)}
    if has_entities:
        scores["entity_f1"] = metrics.entity_micro_f1([e.entities for e in outcome.gold], _found(outcome))
    if None in gold:
        scores["in_scope_accuracy"] = metrics.in_scope_accuracy(gold, predicted)
        scores["oos_recall"] = metrics.oos_recall(gold, predicted)
        if outcome.validation_predictions:
            scores.update(_tuned(outcome, gold, oos_label))
    scores.update(train_seconds=sum(outcome.train_seconds) / len(outcome.train_seconds),
                  p50_ms=1000 * metrics.percentile(outcome.latencies, 0.50),
                  p95_ms=1000 * metrics.percentile(outcome.latencies, 0.95),
                  model_mib=sum(outcome.model_bytes) / len(outcome.model_bytes) / 2**20,
                  peak_rss_mib=max(outcome.peak_rss_bytes) / 2**20)
    return scores


def _found(outcome: _Outcome) -> list[list[Span]]:
    return [[Span(start, end, entity, "") for start, end, entity in p["entities"]] for p in outcome.predictions]


def _entity_types(outcome: _Outcome) -> dict[str, tuple[float, int]]:
    return metrics.entity_f1_by_type([e.entities for e in outcome.gold], _found(outcome))


OOS_RECALL_TARGET = 0.60  # the CLINC150 target of issue 3: in-scope accuracy >= 95 % and OOS recall >= 60 % ...
IN_SCOPE_TARGET = 0.95  # ... at one threshold; each bar placed on the validation split gives one operating point


def _tuned(outcome: _Outcome, gold: list[str | None], oos_label: str | None) -> dict[str, float]:
    def best(predictions: list[dict[str, Any]]) -> list[tuple[str | None, float]]:
        return [(predicted_label(p["best"][0], oos_label), p["best"][1]) for p in predictions]

    return operating_points(gold, best(outcome.predictions), [e.intent for e in outcome.validation_gold],
                            best(outcome.validation_predictions))


def operating_points(gold: Sequence[str | None], test: Sequence[tuple[str | None, float]],
                     validation_gold: Sequence[str | None], validation: Sequence[tuple[str | None, float]]
                     ) -> dict[str, float]:
    """In-scope accuracy and OOS recall on the test set at thresholds chosen on the validation split instead of
    the pipeline's configured one: the one that balances the two best (`metrics.balanced_threshold`), the
    lowest that declines OOS_RECALL_TARGET of the out-of-scope messages there and the highest that keeps in-scope
    accuracy at IN_SCOPE_TARGET there; and, for the ceiling, in-scope accuracy with no threshold at all.
    `test` and `validation` hold each message's best (label, confidence), None for out of scope."""
    scores = {"in_scope_accuracy_any": metrics.in_scope_accuracy(gold, metrics.declined_below(test, 0.0))}
    for suffix, threshold in (("tuned", metrics.balanced_threshold(validation_gold, validation)),
                              ("at_recall",
                               metrics.threshold_for_recall(validation_gold, validation, OOS_RECALL_TARGET)),
                              ("at_accuracy",
                               metrics.threshold_for_accuracy(validation_gold, validation, IN_SCOPE_TARGET))):
        predicted = metrics.declined_below(test, threshold)
        scores.update({f"threshold_{suffix}": threshold,
                       f"in_scope_accuracy_{suffix}": metrics.in_scope_accuracy(gold, predicted),
                       f"oos_recall_{suffix}": metrics.oos_recall(gold, predicted)})
    return scores


def predicted_label(intent: str | None, oos_label: str | None) -> str | None:
    """None (out of scope) for a fallback, the trained out-of-scope class, or no intent at all."""
    return None if intent in (None, FALLBACK_INTENT, oos_label) else intent
