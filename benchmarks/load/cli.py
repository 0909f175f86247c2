"""`python -m benchmarks.load`: simulated shoppers against our assistant and a stock Rasa baseline in one run;
prints the table and records it in the load section of docs/benchmarks.md (machine, date, exact command)."""
from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.load import baseline, runner, scripts, servers, stats

ROOT = Path(__file__).resolve().parents[2]
BOTS = ("ours", "baseline")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--shoppers", type=int, default=50, help="concurrent simulated shoppers")
    parser.add_argument("--seconds", type=float, default=60, help="how long the shoppers keep starting turns")
    parser.add_argument("--max-turns", type=int, default=100_000, help="hard cap on messages sent per bot")
    parser.add_argument("--timeout", type=float, default=10, help="seconds before a turn counts as timed out")
    parser.add_argument("--think", type=float, default=0, help="mean seconds a shopper waits between turns")
    parser.add_argument("--bots", default=",".join(BOTS), help="comma-separated: ours, baseline")
    parser.add_argument("--diet-epochs", type=int, default=30, help="DIET epochs of the baseline (2 CPU cores)")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "load",
                        help="baseline models (by hash) and the last run's server logs and stores")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="results file whose load section is written or replaced")
    args = parser.parse_args(argv)
    args.bots = [b.strip() for b in args.bots.split(",") if b.strip()]
    if not args.bots or set(args.bots) - set(BOTS):
        parser.error(f"--bots takes {', '.join(BOTS)}")
    return args


@dataclass(frozen=True)
class BotRun:
    result: runner.RunResult
    summaries: list[stats.Summary]
    cpu_seconds: dict[str, float]  # server process -> CPU seconds spent during the measured phase


def measure(start: Callable[[], AbstractContextManager[servers.Target]], plan: runner.LoadPlan) -> BotRun:
    """Start the bot, warm it up, put it under load, and stop it."""
    with start() as target:
        warm = asyncio.run(runner.warm_up(target.url, scripts.SCRIPTS))
        failed = [t for t in warm if t.outcome != runner.OK]
        if failed:
            print(f"warm-up: {len(failed)} of {len(warm)} turns failed ({failed[0]})", file=sys.stderr)
        before = {name: servers.cpu_seconds(pid) for name, pid in target.processes.items()}
        result = asyncio.run(runner.run_load(target.url, scripts.SCRIPTS, plan))
        cpu = {name: servers.cpu_seconds(pid) - before[name] for name, pid in target.processes.items()}
    return BotRun(result, stats.by_kind(result, scripts.kinds()), cpu)


def _cpu_note(runs: dict[str, BotRun]) -> str:
    parts = []
    for bot, run in runs.items():
        turns = max(len(run.result.turns), 1)
        each = ", ".join(f"{name} {1000 * seconds / turns:.0f} ms" for name, seconds in run.cpu_seconds.items())
        parts.append(f"{bot}: {each}")
    return "CPU time per turn spent in each server process during the measured phase (user + system): " + \
        "; ".join(parts) + "."


def _load_note(before: tuple[float, float, float], after: tuple[float, float, float]) -> str:
    return (f"Load average (1 min) {before[0]:.2f} before the run (5 min {before[1]:.2f}), {after[0]:.2f} after "
            "it; the generator itself runs on the same cores.")


def report(args: argparse.Namespace, argv: Sequence[str], runs: dict[str, BotRun], epochs: int | None,
           load: tuple[tuple[float, float, float], tuple[float, float, float]]) -> tuple[str, str]:
    """The printed table and the Markdown body of the docs section."""
    from benchmarks.nlu import report as doc

    table = stats.markdown_table({bot: (run.result, run.summaries) for bot, run in runs.items()})
    parts = [f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} on {doc.machine()}.",
             f"Command: `python -m benchmarks.load {shlex.join(argv)}`",
             _load_note(*load), table]
    if set(runs) == set(BOTS):
        parts.append(stats.ratio_table(runs["ours"].summaries, runs["baseline"].summaries))
    count = sum(len(s) for s in scripts.SCRIPTS)
    parts.append(
        f"{args.shoppers} shoppers for {args.seconds:.0f} s per bot, each playing the {len(scripts.SCRIPTS)} "
        f"scripted conversations of `benchmarks/load/scripts.py` ({count} turns) in turn, a new sender id per "
        f"conversation, the next message as soon as the reply arrives"
        + (f" plus about {args.think:g} s of thinking" if args.think else " (no think time: the server is kept "
           "saturated, so latency includes queueing)")
        + f". A turn fails on a non-200, on no reply within {args.timeout:g} s, or on a reply with no message; "
        "percentiles are over every turn sent, failures at the time they took. Both bots run with the embedded "
        "setup: SQLite tracker store, Rasa's in-process lock store, one Rasa server process (and, for ours, one "
        "action server), after one unmeasured warm-up pass through the scripts.")
    if "baseline" in runs:
        parts.append(f"*baseline*: stock Rasa 3.6 derived from our project by `benchmarks/load/baseline.py`: "
                     f"`benchmarks/pipelines/diet.yml` with DIET at {epochs} epochs (not 100: two CPU cores), "
                     "our NLU data, our policies, our stories and rules with every custom action replaced by a "
                     "fixed `utter_` response and the forms (and the rules and slots only they need) dropped; no "
                     "action server.")
    parts.append(_cpu_note(runs))
    body = "\n\n".join(parts)
    doc.write_section(args.out, "load", doc.section("load", "Load: shoppers over REST", body))
    return table, body


def main(argv: Sequence[str] | None = None) -> str:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TF_CPP_MIN_LOG_LEVEL", "3")):
        os.environ.setdefault(name, value)
    model = None
    if "baseline" in args.bots:
        started = time.perf_counter()
        model = baseline.trained_model(args.cache, args.diet_epochs)
        print(f"baseline model {model.name} ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    workdir = args.cache / "last-run"
    shutil.rmtree(workdir, ignore_errors=True)
    load_before = os.getloadavg()
    runs: dict[str, BotRun] = {}
    for bot in args.bots:
        plan = runner.LoadPlan(args.shoppers, args.seconds, args.max_turns, args.timeout, args.think,
                               run_id=f"{bot}-{time.time_ns()}")
        bot_dir = workdir / bot
        bot_dir.mkdir(parents=True)
        start = (lambda d=bot_dir: servers.ours(d)) if bot == "ours" else (lambda d=bot_dir: servers.baseline(model, d))
        print(f"{bot}: {args.shoppers} shoppers for {args.seconds:g} s", file=sys.stderr)
        runs[bot] = measure(start, plan)
    table, body = report(args, argv, runs, args.diet_epochs if model else None, (load_before, os.getloadavg()))
    print(body)
    return table
