"""`python -m benchmarks.load`: simulated shoppers against our assistant and a stock Rasa baseline in one run;
prints the table and records it in the load section of docs/benchmarks.md (machine, date, exact command)."""
from __future__ import annotations

import argparse
import asyncio
import os
import re
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
    parser.add_argument("--think", default="0,8",
                        help="comma-separated phases, each --seconds long on the same servers: the mean seconds a "
                             "shopper waits between a reply and its next message (0: saturate the server)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for the servers of both bots, e.g. OMP_NUM_THREADS=1 (repeatable)")
    parser.add_argument("--bots", default=",".join(BOTS), help="comma-separated: ours, baseline")
    parser.add_argument("--diet-epochs", type=int, default=30, help="DIET epochs of the baseline (2 CPU cores)")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "load",
                        help="baseline models (by hash) and the last run's server logs and stores")
    parser.add_argument("--note", default="", help="what else ran on the machine, written next to the load average")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="results file whose load section is written or replaced")
    args = parser.parse_args(argv)
    args.bots = [b.strip() for b in args.bots.split(",") if b.strip()]
    if not args.bots or set(args.bots) - set(BOTS):
        parser.error(f"--bots takes {', '.join(BOTS)}")
    try:
        args.think = [float(t) for t in args.think.split(",") if t.strip()]
        args.env = dict(item.split("=", 1) for item in args.env)
    except ValueError:
        parser.error("--think takes numbers, --env takes NAME=VALUE")
    return args


@dataclass(frozen=True)
class Phase:
    """One bot under one load plan."""

    result: runner.RunResult
    summaries: list[stats.Summary]
    cpu_seconds: dict[str, float]  # server process -> CPU seconds spent during this phase


def measure(start: Callable[[], AbstractContextManager[servers.Target]],
            plans: Sequence[runner.LoadPlan]) -> list[Phase]:
    """Start the bot, warm it up, put it under each plan in turn, and stop it."""
    phases = []
    with start() as target:
        warm = asyncio.run(runner.warm_up(target.url, scripts.SCRIPTS))
        failed = [t for t in warm if t.outcome != runner.OK]
        if failed:
            print(f"warm-up: {len(failed)} of {len(warm)} turns failed ({failed[0]})", file=sys.stderr)
        for plan in plans:
            before = {name: servers.cpu_seconds(pid) for name, pid in target.processes.items()}
            result = asyncio.run(runner.run_load(target.url, scripts.SCRIPTS, plan))
            cpu = {name: servers.cpu_seconds(pid) - before[name] for name, pid in target.processes.items()}
            phases.append(Phase(result, stats.by_kind(result, scripts.kinds()), cpu))
    return phases


def _cpu_note(runs: dict[str, Phase]) -> str:
    parts = []
    for bot, run in runs.items():
        turns = max(len(run.result.turns), 1)
        each = ", ".join(f"{name} {1000 * seconds / turns:.0f} ms" for name, seconds in run.cpu_seconds.items())
        parts.append(f"{bot}: {each}")
    return "CPU time per turn of each server process in this phase (user + system): " + "; ".join(parts) + "."


def _load_note(before: tuple[float, float, float], after: tuple[float, float, float]) -> str:
    return (f"Load average (1 min) {before[0]:.2f} before the run (5 min {before[1]:.2f}), {after[0]:.2f} after "
            "it; the generator itself runs on the same cores.")


def _phase_title(think: float) -> str:
    if not think:
        return "Saturated: the next message as soon as the reply arrives (latency includes queueing)"
    return f"Shoppers who read and type: {think:g} s on average between a reply and the next message"


def report(args: argparse.Namespace, argv: Sequence[str], runs: dict[str, list[Phase]], epochs: int | None,
           load: tuple[tuple[float, float, float], tuple[float, float, float]]) -> str:
    """Write the docs section; returns its Markdown body."""
    from benchmarks.nlu import report as doc

    parts = [f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} on {doc.machine()}.",
             f"Command: `{shlex.join(['python', '-m', 'benchmarks.load', *argv])}`",
             " ".join(filter(None, [_load_note(*load), args.note]))]
    for index, think in enumerate(args.think):
        phase = {bot: phases[index] for bot, phases in runs.items()}
        parts += [f"### {_phase_title(think)}",
                  stats.markdown_table({bot: (p.result, p.summaries) for bot, p in phase.items()})]
        if set(phase) == set(BOTS):
            parts.append(stats.ratio_table(phase["ours"].summaries, phase["baseline"].summaries))
        parts.append(_cpu_note(phase))
    count = sum(len(s) for s in scripts.SCRIPTS)
    parts.append(
        f"### How\n\n{args.shoppers} shoppers for {args.seconds:g} s per phase, each playing the "
        f"{len(scripts.SCRIPTS)} scripted conversations of `benchmarks/load/scripts.py` ({count} turns; searches "
        "vary colour and price) one after another, a new sender id per conversation; a thinking shopper waits "
        f"0.5 to 1.5 times the mean, and thinking shoppers start spread over one think time. A turn fails on a non-200, on no reply within {args.timeout:g} s, or on a "
        "reply with no message; percentiles are over every turn sent, failures at the time they took. Both bots "
        "run with the embedded setup: SQLite tracker store, Rasa's in-process lock store, one Rasa server process "
        "(and, for ours, one action server), after one unmeasured warm-up pass through the scripts; the phases "
        "run one after the other on the same servers."
        + (f" Server environment: {', '.join(f'`{k}={v}`' for k, v in args.env.items())}." if args.env else ""))
    if epochs is not None:
        parts.append(f"*baseline*: stock Rasa 3.6 derived from our project by `benchmarks/load/baseline.py`: "
                     f"`benchmarks/pipelines/diet.yml` with DIET at {epochs} epochs (not 100: two CPU cores), "
                     "our NLU data, our policies, our stories and rules with every custom action replaced by a "
                     "fixed `utter_` response and the forms (and the rules and slots only they need) dropped; no "
                     "action server.")
    body = "\n\n".join(parts)
    key, title = section_of(args.env)
    doc.write_section(args.out, key, doc.section(key, title, body))
    return body


def section_of(env: dict[str, str]) -> tuple[str, str]:
    """The docs section of a run: a run with a changed server environment is an experiment and gets its own, so
    it never replaces the measurement of the servers as shipped."""
    if not env:
        return "load", "Load: shoppers over REST"
    setting = ", ".join(f"{k}={v}" for k, v in sorted(env.items()))
    return "load-" + re.sub(r"[^a-z0-9]+", "-", setting.lower()).strip("-"), f"Load: shoppers over REST ({setting})"


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
    os.environ.update(args.env)  # the servers inherit it; the generator does no model work
    workdir = args.cache / "last-run"
    shutil.rmtree(workdir, ignore_errors=True)
    load_before = os.getloadavg()
    runs: dict[str, list[Phase]] = {}
    for bot in args.bots:
        stamp = time.time_ns()
        plans = [runner.LoadPlan(args.shoppers, args.seconds, args.max_turns, args.timeout, think,
                                 run_id=f"{bot}-{stamp}-{index}") for index, think in enumerate(args.think)]
        bot_dir = workdir / bot
        bot_dir.mkdir(parents=True)
        start = (lambda d=bot_dir: servers.ours(d)) if bot == "ours" else (lambda d=bot_dir: servers.baseline(model, d))
        print(f"{bot}: {args.shoppers} shoppers, {args.seconds:g} s per phase, think {args.think}", file=sys.stderr)
        runs[bot] = measure(start, plans)
    body = report(args, argv, runs, args.diet_epochs if model else None, (load_before, os.getloadavg()))
    print(body)
    return body
