"""The load benchmark's own logic, without Rasa: percentiles and summaries, the shopper loop against a tiny fake
REST server on loopback (fresh sender per conversation, failure kinds, the turn cap), and the derived baseline."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from aiohttp import web

from benchmarks.load import baseline, runner, scripts, stats
from benchmarks.load.runner import LoadPlan, RunResult, TurnResult
from benchmarks.load.scripts import Turn

ROOT = Path(__file__).resolve().parents[1]


def test_percentile_matches_numpy_and_handles_edges() -> None:
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 50, 95, 99, 100):
        assert stats.percentile(values, q / 100) == pytest.approx(np.percentile(values, q))
    assert stats.percentile([4.0], 0.95) == 4.0
    assert np.isnan(stats.percentile([], 0.50))


def test_summaries_count_failures_in_latency_and_errors() -> None:
    turns = [TurnResult("search", 100.0, runner.OK), TurnResult("search", 300.0, runner.OK),
             TurnResult("greet", 10.0, runner.OK), TurnResult("search", 10_000.0, runner.TIMEOUT),
             TurnResult("greet", 5.0, "HTTP 500")]
    rows = stats.by_kind(RunResult(turns, conversations=1, seconds=2.0), ["greet", "search", "goodbye"])
    assert [r.kind for r in rows] == [stats.ALL, "greet", "search"]
    overall, greet, search = rows
    assert overall.turns == 5 and overall.turns_per_s == 2.5 and overall.error_count == 2
    assert search.p99_ms > 9_000  # the timeout is in the percentiles, not dropped
    assert greet.errors == {"HTTP 500": 1} and search.errors == {runner.TIMEOUT: 1}
    ours = stats.by_kind(RunResult(turns[:3], seconds=1.0), ["search"])
    ratios = stats.ratio_table(ours, stats.by_kind(RunResult(turns[:3], seconds=2.0), ["search"]))
    assert "| **all** | 2.00 | 1.00 |" in ratios
    table = stats.markdown_table({"ours": (RunResult(turns, 1, 2.0), rows)})
    assert "2 (1 HTTP 500, 1 timeout)" in table and "| search | 3 |" in table


def test_reply_outcomes() -> None:
    assert runner.outcome_of(200, b'[{"text": "hi"}]') == runner.OK
    assert runner.outcome_of(200, b'[{"custom": {"type": "cart"}}]') == runner.OK
    assert runner.outcome_of(200, b"[]") == runner.EMPTY
    assert runner.outcome_of(200, b'[{"recipient_id": "x"}]') == runner.EMPTY
    assert runner.outcome_of(200, b"not json") == runner.EMPTY
    assert runner.outcome_of(503, b'[{"text": "hi"}]') == "HTTP 503"


def test_only_loopback_targets_are_accepted() -> None:
    runner.check_loopback("http://127.0.0.1:5005/webhooks/rest/webhook")
    runner.check_loopback("http://localhost:5005/x")
    runner.check_loopback("http://[::1]:5005/x")
    for url in ("http://example.com/x", "http://10.0.0.5:5005/x", "http://0.0.0.0:5005/x"):
        with pytest.raises(ValueError, match="loopback"):
            runner.check_loopback(url)


async def _with_fake_server(play):
    """A REST webhook that answers by message text and records what each sender said."""
    said: dict[str, list[str]] = {}

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        said.setdefault(body["sender"], []).append(body["message"])
        text = body["message"]
        if text == "slow":
            await asyncio.sleep(1.0)
        if text == "broken":
            return web.Response(status=500)
        return web.json_response([] if text == "silent" else [{"recipient_id": body["sender"], "text": "ok"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app_runner = web.AppRunner(app)
    await app_runner.setup()
    site = web.TCPSite(app_runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        return await play(f"http://127.0.0.1:{port}/webhooks/rest/webhook"), said
    finally:
        await app_runner.cleanup()


def test_shoppers_play_whole_scripts_with_a_fresh_sender_each_time() -> None:
    script_a = (Turn("greet", ("hi",)), Turn("search", ("boots", "shoes")), Turn("goodbye", ("bye",)))
    script_b = (Turn("search", ("tents",)), Turn("goodbye", ("ciao",)))
    plan = LoadPlan(shoppers=3, seconds=0.5, max_turns=10_000, timeout=2, run_id="t")
    result, said = asyncio.run(_with_fake_server(lambda url: runner.run_load(url, [script_a, script_b], plan)))
    assert result.turns and all(t.outcome == runner.OK for t in result.turns)
    conversations = list(said.values())
    expected = (["hi", "boots", "bye"], ["hi", "shoes", "bye"], ["tents", "ciao"])
    # every sender id is one conversation: a prefix of one script (the last may be cut by the deadline)
    assert all(any(c == e[:len(c)] for e in expected) for c in conversations)
    assert result.conversations == sum(c in expected for c in conversations)
    assert result.conversations >= 3 and {c[0] for c in conversations} == {"hi", "tents"}
    assert {"boots", "shoes"} <= {c[1] for c in conversations if len(c) > 1}  # wordings vary by conversation
    assert 0.5 <= result.seconds < 2.0


def test_failures_are_classified_and_the_turn_cap_holds() -> None:
    script = (Turn("a", ("broken",)), Turn("b", ("silent",)), Turn("c", ("slow",)), Turn("d", ("fine",)))
    plan = LoadPlan(shoppers=2, seconds=30, max_turns=7, timeout=0.2, run_id="f")
    result, said = asyncio.run(_with_fake_server(lambda url: runner.run_load(url, [script], plan)))
    assert len(result.turns) == 7 and sum(len(v) for v in said.values()) == 7
    outcomes = {t.kind: t.outcome for t in result.turns}
    assert outcomes == {"a": "HTTP 500", "b": runner.EMPTY, "c": runner.TIMEOUT, "d": runner.OK}
    slow = [t.latency_ms for t in result.turns if t.kind == "c"]
    assert all(150 < ms < 900 for ms in slow)
    assert result.seconds < 5


def test_scripts_are_realistic_multi_turn_conversations() -> None:
    assert len(scripts.SCRIPTS) >= 4 and all(len(s) >= 6 for s in scripts.SCRIPTS)
    assert {"search", "refine", "details", "add_to_cart", "view_cart", "policy", "goodbye"} <= set(scripts.kinds())
    searches = {text for s in scripts.SCRIPTS for t in s if t.kind == "search" for text in t.texts}
    assert len(searches) > 150 and "red running shoes under $80" in searches


def test_baseline_has_no_custom_code_and_keeps_the_dialogue_structure(tmp_path: Path) -> None:
    files = {p.name: yaml.safe_load(p.read_text()) for p in baseline.write_project(tmp_path, epochs=7)}
    ours = yaml.safe_load((ROOT / "domain.yml").read_text())
    domain, config = files["domain.yml"], files["config.yml"]
    assert "forms" not in domain and "actions" not in domain
    assert domain["intents"] == ours["intents"] and domain["entities"] == ours["entities"]
    assert set(domain["slots"]) == {"size", "color", "quantity"}  # the ones filled from entities, no action needed
    assert next(c for c in config["pipeline"] if c["name"] == "DIETClassifier")["epochs"] == 7
    assert not any(c["name"].startswith("components.") for c in config["pipeline"])
    steps = [s for key in ("stories", "rules") for entry in files[f"{key}.yml"][key] for s in entry["steps"]]
    actions = {s["action"] for s in steps if "action" in s}
    assert actions <= set(domain["responses"]), actions - set(domain["responses"])
    assert {"utter_search_products", "utter_view_cart", "utter_answer_question"} <= actions
    assert not any("active_loop" in s or "slot_was_set" in s for s in steps)
    rules = files["rules.yml"]["rules"]
    assert len({json.dumps(r["steps"]) for r in rules}) == len(rules)
    policy = next(p for p in config["policies"] if p["name"] == "RulePolicy")
    assert policy["core_fallback_action_name"] == "utter_answer_question"
    assert files["nlu.yml"] == yaml.safe_load((ROOT / "data" / "nlu.yml").read_text())


def test_command_line_phases_and_server_environment() -> None:
    from benchmarks.load import cli

    args = cli.parse_args(["--think", "0,8", "--env", "OMP_NUM_THREADS=1", "--bots", "ours"])
    assert args.think == [0.0, 8.0] and args.env == {"OMP_NUM_THREADS": "1"} and args.bots == ["ours"]
    assert cli.parse_args([]).shoppers == 50 and cli.parse_args([]).seconds == 60
    with pytest.raises(SystemExit):
        cli.parse_args(["--bots", "ours,rival"])
    assert cli.section_of({}) == ("load", "Load: shoppers over REST")
    assert cli.section_of(args.env)[0] == "load-omp-num-threads-1"  # an experiment never replaces the real run
