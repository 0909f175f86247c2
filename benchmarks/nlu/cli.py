"""`python -m benchmarks.nlu`: train and evaluate NLU pipelines side by side, print the table, record it in the docs.

A run with --limit-train or --limit-test is a smoke run: it goes to a section of its own, labelled as such, so it
never replaces a full result.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from assistant.nlu.examples import Example
from benchmarks.nlu import report
from benchmarks.nlu.data import Source, Split, load_source, splits, subsample
from benchmarks.nlu.runner import ROOT, PipelineResult, pipeline_config, run_benchmark

EXPLANATION = (
    "Scores in percent. A fallback counts as predicting out of scope, which is wrong for an in-scope message; "
    "intent accuracy and macro F1 count out of scope as one more label; entity F1 is micro-averaged over exact spans "
    "(type, start and end must match). Training time is Rasa's `train_nlu` wall time. Latency is one message "
    "through Rasa's parse, every test message one at a time after a warm-up, in a fresh process that loaded the "
    "trained model (as a server would); peak RSS is the larger of the training and the evaluating process's peak "
    "resident memory. Where the data has a validation split (CLINC's val and oos_val), the *tuned* columns score "
    "the test set at the one confidence threshold that maximises the mean of in-scope accuracy and OOS recall on "
    "that split, in place of the pipeline's FallbackClassifier threshold (its ambiguity rule left out); the "
    "*OOS 60 %* columns at the lowest threshold that declines 60 % of that split's out-of-scope messages (the "
    "OOS side of the CLINC150 target); the *in-scope 95 %* columns at the highest threshold that keeps in-scope "
    "accuracy on that split at 95 % (its other side); *no threshold* is in-scope accuracy when nothing is declined.")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nlu", description=__doc__)
    parser.add_argument("--data", required=True,
                        help="'project' (data/nlu.yml), a DIR with train/ and test/ (seq.in, seq.out, label), "
                             "a CLINC-style .json, or a text,label .csv")
    parser.add_argument("--test", help="test CSV for a .csv --data (else a held-out split)")
    parser.add_argument("--pipelines", default="ours,diet",
                        help="comma-separated names in benchmarks/pipelines/ or paths to Rasa configs")
    parser.add_argument("--oos-label", help="the label that marks out-of-scope examples (CLINC: oos)")
    parser.add_argument("--limit-train", type=int, help="train on a seeded, stratified subsample of N examples")
    parser.add_argument("--limit-test", type=int, help="test on a seeded, stratified subsample of N examples")
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--folds", type=int, help="k-fold cross-validation (data without a test set)")
    split.add_argument("--test-fraction", type=float, default=0.2,
                       help="held-out share of each intent (data without a test set; default 0.2)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="results file whose section for this dataset is written or replaced")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> list[PipelineResult]:
    args = parse_args(argv)
    pipelines = [pipeline_config(name.strip()) for name in args.pipelines.split(",") if name.strip()]
    source = load_source(args.data, ROOT, args.oos_label, args.test)
    runs = [_limited(train, test, args) for train, test in splits(source, args.folds, args.test_fraction, args.seed)]
    smoke = args.limit_train is not None or args.limit_test is not None
    key = f"{source.name}-smoke" if smoke else source.name
    title = f"{source.name}: smoke run on a subset, not a result" if smoke else source.name

    def write(results: list[PipelineResult]) -> None:
        pending = [p.stem for p in pipelines[len(results):]]
        body = _body(source, runs, pipelines, report.table(results), argv, pending, report.entity_table(results))
        report.write_section(args.out, key, report.section(key, title, body))

    with tempfile.TemporaryDirectory(prefix="nlu-benchmark-") as workdir:
        results = run_benchmark(source, runs, pipelines, args.oos_label, Path(workdir), on_done=write)
    print(report.table(results))
    by_type = report.entity_table(results)
    if by_type:
        print("\n" + by_type)
    print(f"\nWritten to {args.out} (section {key})")
    return results


def _limited(train: list[Example], test: list[Example], args: argparse.Namespace) -> Split:
    """The split cut down by --limit-train / --limit-test (a smoke run)."""
    if args.limit_train is not None:
        train = subsample(train, args.limit_train, args.seed)
    if args.limit_test is not None:
        test = subsample(test, args.limit_test, args.seed)
    return train, test


def _body(source: Source, runs: Sequence[Split], pipelines: Sequence[Path], table: str,
          argv: Sequence[str] | None, pending: Sequence[str], by_type: str = "") -> str:
    """Everything a reader needs to trust or repeat the numbers, around the table."""
    command = "python -m benchmarks.nlu " + shlex.join(sys.argv[1:] if argv is None else argv)
    lines = [f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {report.machine()}.", "",
             f"Command: `{command}`", "", _data_line(runs), *[f"{note}." for note in source.notes], "",
             "Pipelines: " + ", ".join(f"{p.stem} = `{_shown(p)}`" for p in pipelines) + ".", "", table, "",
             EXPLANATION]
    if by_type:
        lines += ["", "Entity F1 by type (exact spans, as above; a type no pipeline predicted or needed is left out):",
                  "", by_type]
    if pending:
        lines[2:2] = [f"**Incomplete: {', '.join(pending)} still running when this was written; the finished "
                      "rows stand on their own, the comparison does not.**", ""]
    published = report.references(source.origin)
    if published:
        lines += ["", "Quoted from the dataset's SOURCE.md (published, not measured here):", "", published]
    return "\n".join(lines)


def _data_line(runs: Sequence[Split]) -> str:
    train, test = runs[0]
    every = [e for pair in runs for part in pair for e in part]
    intents = {e.intent for e in every if e.intent is not None}
    entity_types = {s.entity for e in every for s in e.entities}
    oos = sum(e.intent is None for e in test), sum(e.intent is None for e in train)
    folds = f"{len(runs)} folds, per fold " if len(runs) > 1 else ""
    line = (f"Data: {folds}{len(train)} training / {len(test)} test examples, {len(intents)} intents, "
            f"{len(entity_types)} entity types")
    if any(oos):
        line += f", out of scope: {oos[1]} training / {oos[0]} test examples"
    return line + "."


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
