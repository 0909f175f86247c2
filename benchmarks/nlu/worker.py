"""Train one pipeline on one split, or evaluate a trained model, in a process of its own.

Run by `benchmarks.nlu` as `python -m benchmarks.nlu.worker train|evaluate JOB.json`. Training and evaluation are
separate processes, as in production, where `rasa train` and the server that parses messages never share one: the
trained model is loaded fresh, so no thread pool, cache or allocator state left over from training colours the
latency, and each phase's peak memory is its own. Training is Rasa's `train_nlu`; evaluation sends every test text
alone through the loaded model's parse, the call the server makes for a user message, and times it.
"""
from __future__ import annotations

import asyncio
import importlib
import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.nlu.runner import FALLBACK_INTENT

WARM_UP = 5  # parses before timing starts: the first calls pay for lazy initialisation


def train(job: dict[str, Any]) -> dict[str, Any]:
    """Rasa's training of the job's config on its training file; the model's path, size and the wall time."""
    from rasa.model_training import train_nlu

    _import_components(Path(job["config"]))
    started = time.perf_counter()
    model_path = train_nlu(job["config"], job["train"], job["models"], fixed_model_name=job["name"])
    seconds = time.perf_counter() - started
    if model_path is None:
        raise RuntimeError(f"Rasa trained no model for {job['config']}")
    return {"model": model_path, "train_seconds": seconds, "model_bytes": Path(model_path).stat().st_size,
            "peak_rss_bytes": _peak_rss_bytes()}


def evaluate(job: dict[str, Any]) -> dict[str, Any]:
    """Load the trained model and parse every test text one by one; predictions and per-message latency."""
    from rasa.core.agent import Agent

    agent = Agent.load(json.loads(Path(job["train_result"]).read_text(encoding="utf-8"))["model"])
    texts = json.loads(Path(job["test"]).read_text(encoding="utf-8"))
    parsed, latencies = asyncio.run(_parse_all(agent, texts))
    result = {"predictions": [_prediction(p) for p in parsed], "latencies": latencies}
    if job.get("validation"):  # parsed after the timed test set, not timed
        validation = json.loads(Path(job["validation"]).read_text(encoding="utf-8"))
        result["validation_predictions"] = [_prediction(p) for p in asyncio.run(_parse_all(agent, validation))[0]]
    return {**result, "peak_rss_bytes": _peak_rss_bytes()}


def _import_components(config: Path) -> None:
    """Import custom components before the clock starts, so training time is not import time."""
    for step in yaml.safe_load(config.read_text(encoding="utf-8")).get("pipeline", []):
        module, _, _ = str(step["name"]).rpartition(".")
        if module:
            importlib.import_module(module)


async def _parse_all(agent: Any, texts: list[str]) -> tuple[list[dict[str, Any]], list[float]]:
    for text in texts[:WARM_UP]:
        await agent.parse_message(text)
    parsed, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        parsed.append(await agent.parse_message(text))
        latencies.append(time.perf_counter() - started)
    return parsed, latencies


def _prediction(parsed: dict[str, Any]) -> dict[str, Any]:
    """What the scores need: the intent name, each entity's span and type, and the best intent other than the
    fallback with its confidence (the FallbackClassifier keeps the ranking), so other thresholds can be scored."""
    ranked = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    best = max(ranked, key=lambda r: r.get("confidence") or 0.0, default=None)
    return {"intent": (parsed.get("intent") or {}).get("name"),
            "entities": [[e["start"], e["end"], e["entity"]] for e in parsed.get("entities") or []
                         if "start" in e and "end" in e],
            "best": [best["name"], float(best.get("confidence") or 0.0)] if best else [None, 0.0]}


def _peak_rss_bytes() -> int:
    """Largest resident set of this process or any child it waited for (Linux reports kilobytes)."""
    return 1024 * max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def _quiet_rasa() -> None:
    """Warnings only: unconfigured, Rasa's structlog prints a debug line per parse, and that would be timed."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def main(argv: list[str]) -> None:
    phase, job_path = argv
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    _quiet_rasa()
    result = {"train": train, "evaluate": evaluate}[phase](job)
    Path(job[f"{phase}_result"]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
