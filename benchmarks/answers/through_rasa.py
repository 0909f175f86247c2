"""The `assistant` mode of `python -m benchmarks.answers`: each question asked of the running assistant over REST,
as a shopper would ask it, so the NLU (its policy topic, or a product question), the dialogue and the action
server all take part; the other modes call the answerer directly.

Each question opens a new conversation; a product question first opens that product's details (the button a
search result carries), so "how thick is this mat?" has a product in focus. The reply is judged with the same
labels as the other modes: it is a refusal when the assistant says it doesn't know (the answer's "unknown" kind,
a product question it could not answer, or the not-understood and out-of-scope replies).
"""
from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from assistant.dialogue.render import NOT_UNDERSTOOD, ONLY_ENGLISH, OUT_OF_SCOPE
from assistant.generate.answer import UNKNOWN_REPLY, Answer

if TYPE_CHECKING:
    from benchmarks.answers.cli import Case, ModeResult

REFUSALS = (UNKNOWN_REPLY, NOT_UNDERSTOOD, OUT_OF_SCOPE)
# The assistant's own fixed texts, whose numbers are not claims for the knowledge to back: examples of what to ask
# ("red running shoes under $80"), and the support hours that the other-language replies give on the 24-hour clock
# ("de 9 a 18 h" for 9 am to 6 pm).
FIXED_TEXTS = (*REFUSALS, *ONLY_ENGLISH.values())


def as_answer(replies: Sequence[dict]) -> Answer:
    """The assistant's messages for one turn as an Answer: their texts joined, and the kind "unknown" when they
    only say it doesn't know, "generated" or "extractive" as its answer payload says, else "reply"."""
    text = "\n".join(r["text"] for r in replies if r.get("text"))
    payloads = [r.get("custom") or {} for r in replies]
    kinds = [p.get("kind") for p in payloads if p.get("type") == "answer"]
    unanswered = any(p.get("answered") == [False] for p in payloads)
    if "unknown" in kinds or unanswered or any(r.get("text", "").startswith(REFUSALS) for r in replies):
        return Answer(text, "unknown")
    return Answer(text, kinds[0] if kinds else "reply")


def ask_all(cases: Sequence[Case], result: ModeResult) -> Iterator[tuple[Answer, float]]:
    """Ask every case of a running assistant (tests/servers.py), yielding each reply as an Answer with its
    seconds; sets `result.peak_rss_mib` to both servers' resident memory at the end."""
    from tests.servers import running_assistant

    with tempfile.TemporaryDirectory() as scratch, running_assistant(Path(scratch)) as live:
        live.say("bench-warm-up", "how long do refunds take?", timeout=120)
        for n, case in enumerate(cases, 1):
            sender = f"bench-{n}"
            if case.product:
                live.say(sender, "/product_details" + json.dumps({"product_id": case.product}), timeout=60)
            began = time.perf_counter()
            replies = live.say(sender, case.question, timeout=60)
            yield as_answer(replies), time.perf_counter() - began
        result.peak_rss_mib = sum(_tree_rss(p.pid) for p in live.processes.values()) / 2**20


def _tree_rss(pid: int) -> int:
    """Resident bytes of a server process and its workers, now."""
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
