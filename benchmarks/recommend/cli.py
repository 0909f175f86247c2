"""`python -m benchmarks.recommend`: leave-one-out next-item ranking for ours, popularity and item-kNN in one run.

Input is one shopper per line, `user item item ...` oldest first (the S3-Rec layout, e.g. Amazon Beauty); item
ids are used as they are. Prints a table per protocol and writes them into docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import torch

from assistant.recommend.evaluation import (Case, full_ranks, leave_one_out, metrics, sample_negatives,
                                            sampled_ranks)
from assistant.recommend.models import ItemKNN, Popularity, SASRecConfig, Scorer
from assistant.recommend.training import FitConfig, fit
from benchmarks.nlu import report

ROOT = Path(__file__).resolve().parents[2]
FULL_COLUMNS = ("HR@5", "NDCG@5", "HR@10", "NDCG@10", "HR@20", "NDCG@20")
SAMPLED_COLUMNS = ("HR@1", "HR@5", "NDCG@5", "HR@10", "NDCG@10", "MRR")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recommend", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="sequence file: `user item item ...` per line")
    parser.add_argument("--epochs", type=int, default=FitConfig.epochs, help="most epochs (early stopping)")
    parser.add_argument("--patience", type=int, default=FitConfig.patience)
    parser.add_argument("--dim", type=int, default=SASRecConfig.dim)
    parser.add_argument("--batch-size", type=int, default=FitConfig.batch_size)
    parser.add_argument("--negatives", type=int, default=FitConfig.negatives,
                        help="sampled-softmax negatives per batch (0: full softmax over all items)")
    parser.add_argument("--device", help="default: cuda when available")
    parser.add_argument("--limit-users", type=int, help="first N shoppers only (a smoke run)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    return parser.parse_args(argv)


def read_sequences(path: Path, limit: int | None = None) -> tuple[list[list[int]], int]:
    """The sequences and the largest item id."""
    sequences = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if len(fields) > 1:
                sequences.append([int(f) for f in fields[1:]])
            if limit and len(sequences) >= limit:
                break
    return sequences, max(max(s) for s in sequences)


def _evaluate(scorer: Scorer, test: list[Case], drawn) -> tuple[dict, dict]:
    """Full-ranking and sampled-negative metrics of one scorer."""
    with torch.no_grad():
        return metrics(full_ranks(scorer, test)), metrics(sampled_ranks(scorer, test, drawn), ks=(1, 5, 10))


def _table(rows: list[tuple[str, dict]], columns: Sequence[str], seconds: dict[str, float] | None = None) -> str:
    """One row per model; a `train s` column when `seconds` is given."""
    head = ["model", *columns, *(["train s"] if seconds else [])]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name, scores in rows:
        cells = [f"{scores.get(c, float('nan')):.4f}" for c in columns]
        cells += [f"{seconds[name]:.0f}"] if seconds else []
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def _loss_words(negatives: int) -> str:
    return f"sampled softmax with {negatives} shared negatives" if negatives else "full cross-entropy"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sequences, num_items = read_sequences(args.data, args.limit_users)
    train, valid, test = leave_one_out(sequences)
    drawn = sample_negatives(test, num_items)
    rows_full, rows_sampled, seconds = [], [], {}
    for name, build in (("popularity", lambda: Popularity(train, num_items)),
                        ("item-kNN", lambda: ItemKNN(train, num_items))):
        started = time.perf_counter()
        scorer = build()
        seconds[name] = time.perf_counter() - started
        full, sampled = _evaluate(scorer, test, drawn)
        rows_full.append((name, full))
        rows_sampled.append((name, sampled))
        print(f"{name}: NDCG@10 {full['NDCG@10']:.4f} (full), {sampled['NDCG@10']:.4f} (99 sampled)", flush=True)
    config = replace(FitConfig(), epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
                     negatives=args.negatives, device=args.device, model=replace(SASRecConfig(), dim=args.dim))
    model, fitted = fit(train, num_items, valid, config)
    seconds["ours (SASRec)"] = fitted.seconds
    full, sampled = _evaluate(model, test, drawn)
    rows_full.append(("ours (SASRec)", full))
    rows_sampled.append(("ours (SASRec)", sampled))
    tables = (_table(rows_full, FULL_COLUMNS, seconds), _table(rows_sampled, SAMPLED_COLUMNS))
    print("\nFull ranking\n" + tables[0] + "\n\n99 sampled negatives\n" + tables[1])
    smoke = args.limit_users is not None
    accelerator = "" if fitted.device == "cpu" else fitted.device.split(":")[0]  # beside the CPU result, not over it
    key = (f"recommend-{args.data.stem.lower()}" + (f"-{accelerator}" if accelerator else "")
           + ("-smoke" if smoke else ""))
    command = "python -m benchmarks.recommend " + shlex.join(sys.argv[1:] if argv is None else argv)
    body = "\n".join([
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {report.machine()}, training on "
        f"{fitted.device}.", "", f"Command: `{command}`", "",
        f"Data: {len(sequences)} shoppers, {num_items} items, {sum(map(len, sequences))} interactions; "
        f"leave-one-out (last item test, second-to-last validation).", "",
        f"Ours: SASRec, {config.model.blocks} blocks, dim {config.model.dim}, "
        f"{_loss_words(config.negatives)}; early stopping "
        f"on validation NDCG@10 kept epoch {fitted.best_epoch} of {fitted.epochs_run} "
        f"(validation NDCG@10 {fitted.best_ndcg10:.4f}).", "",
        "Full ranking over all items, the shopper's history masked:", "", tables[0], "",
        "The target against 99 negatives drawn uniformly from items the shopper never interacted with (numpy seed "
        "12345, as S3-Rec's generate_test.py; the original draw is not published):", "", tables[1], "",
        "`train s` is wall time to build the model (item-kNN: the similarity matrix; ours: every epoch with its "
        "validation ranking). Ties count half (expected rank under random tie-breaking)."])
    published = report.references(args.data.parent)
    if published:
        body += "\n\nQuoted from the dataset's SOURCE.md (published, not measured here):\n\n" + published
    title = (f"Recommender: {args.data.stem}" + (f" on {accelerator}" if accelerator else "")
             + (" (smoke run on a subset, not a result)" if smoke else ""))
    report.write_section(args.out, key, report.section(key, title, body))
    print(f"\nWritten to {args.out} (section {key})")
    return 0
