"""Numbers from the turns of a load run: throughput, latency percentiles and errors, overall and per turn kind,
and the ratios between two bots. Pure functions, so they are tested without any server."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.nlu.metrics import percentile
from benchmarks.load.runner import OK, RunResult, TurnResult

ALL = "all turns"


@dataclass(frozen=True)
class Summary:
    kind: str
    turns: int
    turns_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: Counter[str]  # outcome -> count, failures only

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def summarise(kind: str, turns: Sequence[TurnResult], seconds: float) -> Summary:
    """Latency over every turn sent, failures included at the time they took to fail (a timeout is not left
    out, which would flatter the percentiles)."""
    latencies = [t.latency_ms for t in turns]
    return Summary(kind, len(turns), len(turns) / seconds if seconds > 0 else math.nan,
                   percentile(latencies, 0.50), percentile(latencies, 0.95), percentile(latencies, 0.99),
                   Counter(t.outcome for t in turns if t.outcome != OK))


def by_kind(result: RunResult, kinds: Sequence[str]) -> list[Summary]:
    """The overall summary first, then one per kind in the order given (kinds never sent are left out)."""
    rows = [summarise(ALL, result.turns, result.seconds)]
    for kind in kinds:
        turns = [t for t in result.turns if t.kind == kind]
        if turns:
            rows.append(summarise(kind, turns, result.seconds))
    return rows


def ratio(ours: float, baseline: float) -> float:
    return ours / baseline if baseline and not math.isnan(baseline) else math.nan


def _errors(summary: Summary) -> str:
    if not summary.errors:
        return "0"
    return f"{summary.error_count} (" + ", ".join(f"{n} {what}" for what, n in sorted(summary.errors.items())) + ")"


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"


def markdown_table(results: dict[str, tuple[RunResult, list[Summary]]]) -> str:
    """One block of rows per bot: overall (with conversations finished), then each turn kind."""
    lines = ["| bot | turn kind | turns | turns/s | conversations | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for bot, (run, summaries) in results.items():
        for s in summaries:
            overall = s.kind == ALL
            lines.append(f"| {bot if overall else ''} | {'**all**' if overall else s.kind} | {s.turns:,} | "
                         f"{s.turns_per_s:.1f} | {run.conversations if overall else ''} | {_ms(s.p50_ms)} | "
                         f"{_ms(s.p95_ms)} | {_ms(s.p99_ms)} | {_errors(s)} |")
    return "\n".join(lines)


def ratio_table(ours: list[Summary], baseline: list[Summary]) -> str:
    """ours / baseline for throughput and p95, overall and for every kind both bots were sent."""
    theirs = {s.kind: s for s in baseline}
    lines = ["| turn kind | throughput ours/baseline | p95 ours/baseline |", "|---|---:|---:|"]
    for s in ours:
        if s.kind in theirs:
            other = theirs[s.kind]
            lines.append(f"| {'**all**' if s.kind == ALL else s.kind} | "
                         f"{ratio(s.turns_per_s, other.turns_per_s):.2f} | {ratio(s.p95_ms, other.p95_ms):.2f} |")
    return "\n".join(lines)
