"""`python -m benchmarks.nlu.speed`: how long fine-tuning our joint model takes on this machine, without Rasa.

The GPU machines have no Rasa, so this trains `assistant.nlu.training.train_joint` directly on examples exported
beforehand (`--export FILE` reads the project's data with Rasa, on a machine that has it) or on any folder in the
seq.in / seq.out / label layout. Run it on a CPU and on a GPU machine with the same examples for the speed-up.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import torch

from assistant.nlu.examples import Example, Span, load_bio
from assistant.nlu.training import TrainingConfig, train_joint
from assistant.settings import torch_device
from benchmarks.nlu import report
from benchmarks.nlu.sweep import settings_grid

ROOT = Path(__file__).resolve().parents[2]


def export_project(path: Path) -> int:
    from benchmarks.nlu.data import PROJECT, load_source

    examples = load_source(PROJECT, ROOT).train
    path.write_text(json.dumps([asdict(e) for e in examples]), encoding="utf-8")
    return len(examples)


def read_examples(path: Path) -> list[Example]:
    """A JSON list written by --export, or a seq.in / seq.out / label folder (its train/ part if it has one)."""
    if path.is_dir():
        return load_bio(path / "train" if (path / "train").is_dir() else path)
    return [Example(e["text"], e["intent"], [Span(**s) for s in e["entities"]])
            for e in json.loads(path.read_text(encoding="utf-8"))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nlu.speed", description=__doc__)
    parser.add_argument("--export", type=Path, help="write the project's NLU examples to this JSON file and stop")
    parser.add_argument("--examples", type=Path, help="a JSON file from --export, or a seq.in/seq.out folder")
    parser.add_argument("--device", help="default: cuda when available, else cpu")
    parser.add_argument("--epochs", type=int, default=TrainingConfig.epochs)
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
                        help="a TrainingConfig field to change (config.yml's settings, say); repeatable")
    parser.add_argument("--threads", type=int, help="torch CPU threads (2: the project's 2-core machine)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if args.export:
        print(f"wrote {export_project(args.export)} examples to {args.export}")
        return 0
    if not args.examples:
        parser.error("--examples or --export is required")
    settings = settings_grid(args.assignments)
    if len(settings) != 1:
        parser.error("--set takes one value per field here (the sweep tries several)")
    if args.threads:
        torch.set_num_threads(args.threads)
    examples = read_examples(args.examples)
    device = torch_device(args.device)
    config = replace(TrainingConfig(), device=device, epochs=args.epochs, progress=False, **settings[0])
    _, fitted = train_joint(examples, config)
    line = (f"| {device} | {args.examples.name} | {len(examples)} | {fitted.epochs_run} (best {fitted.best_epoch}) | "
            f"{fitted.seconds:.0f} | {fitted.examples_per_second:.0f} |")
    table = ("| device | examples | count | epochs | train s | examples/s |\n|---|---|---:|---:|---:|---:|\n" + line)
    print(table)
    command = "python -m benchmarks.nlu.speed " + shlex.join(sys.argv[1:] if argv is None else argv)
    threads = f", {args.threads} threads" if args.threads and device == "cpu" else ""
    key = f"nlu-speed-{device.split(':')[0]}{args.threads if threads else ''}-{args.examples.stem}"
    body = "\n\n".join([f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {report.machine()}.",
                        f"Command: `{command}`", table,
                        "Fine-tuning alone (`train_joint`, early stopping on a held-out 10 %), no Rasa. The GPU "
                        "speed-up is the ratio to a CPU run of the same examples on the same machine at the same "
                        "time (`benchmarks/gpu_checks.sh` runs both)."])
    title = f"NLU training speed: {args.examples.stem} on {device}{threads}"
    report.write_section(args.out, key, report.section(key, title, body))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
