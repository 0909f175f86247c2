"""The results table and its section in docs/benchmarks.md.

Each dataset owns one section between HTML comment markers, so a rerun replaces its own numbers and leaves the
other datasets' alone. A section records what is needed to trust or repeat it: machine, date, exact command, the
sizes of the splits, and the published reference numbers from the dataset's SOURCE.md when there is one.
"""
from __future__ import annotations

import math
import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks.nlu.runner import PipelineResult

DOC_TITLE = ("# Benchmarks\n\nWritten by the scripts under benchmarks/ (`python -m benchmarks.nlu`, `benchmarks.search`, "
             "`benchmarks.recommend`; see benchmarks/README.md); each section names its machine, date and command "
             "and is replaced only by a rerun of the same benchmark.\n")
COLUMNS = [  # (score key, header, how to show it)
    ("intent_accuracy", "intent acc %", "pct"),
    ("macro_f1", "macro F1 %", "pct"),
    ("entity_f1", "entity F1 %", "pct"),
    ("in_scope_accuracy", "in-scope acc %", "pct"),
    ("oos_recall", "OOS recall %", "pct"),
    ("in_scope_accuracy_any", "in-scope acc % (no threshold)", "pct"),
    ("threshold_tuned", "tuned threshold", "2"),
    ("in_scope_accuracy_tuned", "in-scope acc % (tuned)", "pct"),
    ("oos_recall_tuned", "OOS recall % (tuned)", "pct"),
    ("threshold_at_recall", "threshold for OOS 60 %", "2"),
    ("in_scope_accuracy_at_recall", "in-scope acc % (OOS 60 %)", "pct"),
    ("oos_recall_at_recall", "OOS recall % (OOS 60 %)", "pct"),
    ("threshold_at_accuracy", "threshold for in-scope 95 %", "2"),
    ("in_scope_accuracy_at_accuracy", "in-scope acc % (in-scope 95 %)", "pct"),
    ("oos_recall_at_accuracy", "OOS recall % (in-scope 95 %)", "pct"),
    ("train_seconds", "train s", "1"),
    ("p50_ms", "p50 ms", "1"),
    ("p95_ms", "p95 ms", "1"),
    ("model_mib", "model MiB", "1"),
    ("peak_rss_mib", "peak RSS MiB", "0"),
]


def table(results: Sequence[PipelineResult]) -> str:
    """A Markdown table with a row per pipeline and a column per score any pipeline has."""
    columns = [c for c in COLUMNS if any(c[0] in r.scores for r in results)]
    lines = ["| pipeline | " + " | ".join(header for _, header, _ in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    lines += [f"| {r.name} | " + " | ".join(cell(r.scores.get(key), style) for key, _, style in columns) + " |"
              for r in results]
    return "\n".join(lines)


def entity_table(results: Sequence[PipelineResult]) -> str:
    """Exact-span F1 per entity type, a column per pipeline; empty when no pipeline reports types."""
    shown = [r for r in results if r.entity_types]
    types = sorted({entity for r in shown for entity in r.entity_types})
    if not types:
        return ""
    lines = ["| entity type | gold spans | " + " | ".join(f"{r.name} F1 %" for r in shown) + " |",
             "|---|---:|" + "---:|" * len(shown)]
    for entity in types:
        support = max(r.entity_types.get(entity, (0.0, 0))[1] for r in shown)
        cells = [cell(r.entity_types[entity][0], "pct") if entity in r.entity_types else "-" for r in shown]
        lines.append(f"| {entity} | {support} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cell(value: float | None, style: str) -> str:
    """A score as the tables show it: a fraction as a percentage ("pct"), else with `style` decimals; "-" if none."""
    if value is None or math.isnan(value):
        return "-"
    return f"{100 * value:.1f}" if style == "pct" else f"{value:.{style}f}"


def machine() -> str:
    """CPU model and cores, and the GPU when torch sees one."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(encoding="utf-8"), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    gpu = f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores available, {gpu}"


def references(origin: Path) -> str | None:
    """The published reference numbers of the dataset: from the line naming them in SOURCE.md (a heading becomes
    plain text) to the last table before the next heading, each table set off by a blank line; None without one."""
    path = origin / "SOURCE.md"
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((n for n, line in enumerate(lines) if "reference numbers" in line.lower()), None)
    if start is None:
        return None
    stop = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("#")), len(lines))
    last_row = max((n for n in range(start + 1, stop) if lines[n].startswith("|")), default=None)
    if last_row is None:
        return None
    quoted = [lines[start].lstrip("#").strip()]
    for line in lines[start + 1:last_row + 1]:
        if line.startswith("|") and quoted[-1] and not quoted[-1].startswith("|"):
            quoted.append("")
        quoted.append(line)
    return "\n".join(quoted)


def section(key: str, title: str, body: str) -> str:
    return f"<!-- benchmark:{key}:start -->\n## {title}\n\n{body.strip()}\n<!-- benchmark:{key}:end -->\n"


def write_section(path: Path, key: str, text: str) -> None:
    """Replace the section `key` in the results file, or append it (creating the file if needed)."""
    current = path.read_text(encoding="utf-8") if path.exists() else DOC_TITLE
    pattern = re.compile(rf"<!-- benchmark:{re.escape(key)}:start -->.*?<!-- benchmark:{re.escape(key)}:end -->\n?",
                         re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated, encoding="utf-8")
