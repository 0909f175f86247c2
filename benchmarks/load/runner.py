"""The load generator: simulated shoppers, each playing scripted conversations over Rasa's REST channel with a
fresh sender id per conversation, for a fixed time or a fixed number of turns, whichever comes first.

Closed loop: a shopper sends its next message when the previous reply has arrived (plus `think` seconds), so
with no think time the server is kept saturated and latency includes the queueing a burst of shoppers causes.
Only loopback URLs are accepted: this is a benchmark of a local server, never a way to load someone else's.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from benchmarks.load.scripts import Turn

OK, TIMEOUT, EMPTY, CONNECTION = "ok", "timeout", "empty reply", "connection"


@dataclass(frozen=True)
class TurnResult:
    kind: str
    latency_ms: float  # for a failed turn, the time it took to fail
    outcome: str  # OK, TIMEOUT, EMPTY, CONNECTION or "HTTP <status>"


@dataclass
class RunResult:
    turns: list[TurnResult] = field(default_factory=list)
    conversations: int = 0  # finished from the first turn to the last
    seconds: float = 0.0  # from the first message sent to the last reply received


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{url}: the load generator only talks to loopback addresses")


def outcome_of(status: int, body: bytes) -> str:
    """A reply counts only when it is a 200 with at least one message that says or shows something."""
    if status != 200:
        return f"HTTP {status}"
    try:
        messages = json.loads(body)
    except ValueError:
        return EMPTY
    if isinstance(messages, list) and any(isinstance(m, dict) and (m.get("text") or m.get("custom") or m.get("image"))
                                          for m in messages):
        return OK
    return EMPTY


async def send(session: aiohttp.ClientSession, url: str, sender: str, kind: str, text: str,
               timeout: float) -> TurnResult:
    started = time.perf_counter()
    try:
        async with session.post(url, json={"sender": sender, "message": text},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            outcome = outcome_of(response.status, await response.read())
    except asyncio.TimeoutError:
        outcome = TIMEOUT
    except aiohttp.ClientError:
        outcome = CONNECTION
    return TurnResult(kind, 1000 * (time.perf_counter() - started), outcome)


@dataclass(frozen=True)
class LoadPlan:
    shoppers: int
    seconds: float
    max_turns: int  # a hard cap on messages sent, whatever the duration
    timeout: float = 10.0  # per turn; a slower reply counts as a timeout
    think: float = 0.0  # seconds a shopper waits between a reply and its next message
    run_id: str = "load"  # prefix of sender ids, so two runs never share a conversation
    seed: int = 0


async def _shopper(index: int, session: aiohttp.ClientSession, url: str, scripts: Sequence[Sequence[Turn]],
                   plan: LoadPlan, deadline: float, budget: list[int], result: RunResult) -> None:
    """Conversation after conversation, each from a different script, each with a new sender id."""
    rng = random.Random(plan.seed * 100_003 + index)
    if plan.think:  # arrive spread over one think time, not all in the first second (a burst nobody sends)
        await asyncio.sleep(rng.uniform(0, plan.think))
    number = 0
    while time.monotonic() < deadline:
        script = scripts[(index + number) % len(scripts)]
        sender = f"{plan.run_id}-{index}-{number}"
        number += 1
        for turn in script:
            if time.monotonic() >= deadline or budget[0] <= 0:
                return
            budget[0] -= 1
            result.turns.append(await send(session, url, sender, turn.kind, turn.text(rng), plan.timeout))
            if plan.think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * plan.think)
        result.conversations += 1


async def run_load(url: str, scripts: Sequence[Sequence[Turn]], plan: LoadPlan) -> RunResult:
    """All shoppers at once against `url` (the REST webhook) until the time or the turn budget runs out; replies
    still in flight at the deadline are awaited (each is bounded by the timeout)."""
    check_loopback(url)
    result = RunResult()
    budget = [plan.max_turns]
    connector = aiohttp.TCPConnector(limit=plan.shoppers)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        deadline = started + plan.seconds
        await asyncio.gather(*(_shopper(i, session, url, scripts, plan, deadline, budget, result)
                               for i in range(plan.shoppers)))
        result.seconds = time.monotonic() - started
    return result


async def warm_up(url: str, scripts: Sequence[Sequence[Turn]], timeout: float = 120.0) -> list[TurnResult]:
    """Each script once in its first wording, one message at a time, not measured: the first turns load
    indexes and models."""
    check_loopback(url)
    prefix = f"warmup-{time.time_ns()}"
    async with aiohttp.ClientSession() as session:
        return [await send(session, url, f"{prefix}-{number}", turn.kind, turn.texts[0], timeout)
                for number, script in enumerate(scripts) for turn in script]
