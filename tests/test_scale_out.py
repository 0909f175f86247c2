"""Scale-out on Rasa's own production pieces, for real: two Rasa servers with two Sanic workers each, one PostgreSQL
tracker store, one Redis lock store (deploy/endpoints.scale.yml, the file docs/deploy.md tells you to use) and one
action server. Conversations alternate between the servers turn by turn: nothing may be lost, repeated or reordered.

redis-server and PostgreSQL come from Debian packages that scripts/system-packages.sh installs (`make test` runs it);
without them this test fails rather than skips, so CI cannot pass without running it. Logs of every process are in
the test's temporary folder (named in failure messages).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.servers import MODEL, ROOT, LiveAssistant, free_port, payload, text_of, wait_for

pytestmark = [pytest.mark.rasa, pytest.mark.server]

SCALE_ENDPOINTS = ROOT / "deploy" / "endpoints.scale.yml"
WORKERS = 2  # Sanic workers per Rasa server and in the action server
INSTALL_HINT = "install it with scripts/system-packages.sh (`make test` runs it)"
READY_LINE = "Rasa server is up and running."  # Rasa logs it once per Sanic worker


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass(frozen=True)
class Redis:
    port: int
    password: str

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, db=1, socket_timeout=5)


@contextmanager
def redis_server(workdir: Path) -> Iterator[Redis]:
    """A throwaway redis-server on a free port, with a password (as in production), persisting nothing."""
    binary = shutil.which("redis-server") or pytest.fail(f"redis-server not found: {INSTALL_HINT}")
    service = Redis(free_port(), secrets.token_hex(12))
    log_path = workdir / "redis.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen([binary, "--port", str(service.port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--requirepass", service.password, "--dir", str(workdir)],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: service.client().ping(), f"redis-server; log: {log_path}", [process], 30, interval=0.2)
        yield service
    finally:
        _stop(process)


@dataclass(frozen=True)
class Postgres:
    port: int
    password: str
    user: str = "harbor"
    db: str = "harbor"

    def connect(self, db: str | None = None):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                dbname=db or self.db, connect_timeout=5)


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail(f"PostgreSQL (/usr/lib/postgresql/<version>/bin/postgres) not found: {INSTALL_HINT}")
    return found[-1].parent


def _as_postgres_user() -> dict:
    """PostgreSQL refuses to run as root: as root (here and in CI) run it as the `postgres` user the Debian
    package creates; anyone else runs it as themselves."""
    import pwd

    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(f"no `postgres` user to run PostgreSQL as: {INSTALL_HINT}")
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


@contextmanager
def postgres_server(workdir: Path) -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a free port (unix socket in its own folder) with a `harbor` database and a
    password-protected `harbor` user. Its data lives in a folder of its own because pytest's temporary folders are
    private to the user running the tests, which the `postgres` user cannot enter."""
    bin_dir = _postgres_bin()
    user = _as_postgres_user()
    service = Postgres(free_port(), secrets.token_hex(12))
    home = Path(tempfile.mkdtemp(prefix="harbor-pg-"))
    log_path = workdir / "postgres.log"
    process = None
    try:
        (home / "password").write_text(service.password)
        if user:
            for path in (home, home / "password"):
                shutil.chown(path, user="postgres", group="postgres")
        with open(log_path, "ab") as log:
            initdb = subprocess.run([str(bin_dir / "initdb"), "-D", str(home / "data"), "-U", service.user,
                                     f"--pwfile={home / 'password'}", "--auth=scram-sha-256", "--encoding=UTF8",
                                     "--no-sync"], cwd=home, stdout=log, stderr=subprocess.STDOUT, timeout=120,
                                    **user)
            if initdb.returncode:
                pytest.fail(f"initdb failed; log: {log_path}")
            process = subprocess.Popen([str(bin_dir / "postgres"), "-D", str(home / "data"), "-p", str(service.port),
                                        "-k", str(home), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                                       cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **user)
        wait_for(lambda: service.connect("postgres").close() is None, f"PostgreSQL; log: {log_path}", [process], 30,
                 interval=0.2)
        admin = service.connect("postgres")
        try:
            admin.autocommit = True  # CREATE DATABASE refuses to run in a transaction
            admin.cursor().execute(f"CREATE DATABASE {service.db}")
        finally:
            admin.close()
        yield service
    finally:
        if process is not None:
            _stop(process, signal.SIGINT)  # fast shutdown: don't wait for clients to disconnect
        shutil.rmtree(home, ignore_errors=True)


def scale_env(postgres: Postgres, redis: Redis, actions_port: int) -> dict[str, str]:
    """What deploy/endpoints.scale.yml reads, and the workers, as an operator would export them. Warm start is on:
    each forked action worker loads the answer pipeline itself (actions/actions.py)."""
    return {
        "HARBOR_ACTIONS_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "HARBOR_POSTGRES_HOST": "127.0.0.1", "HARBOR_POSTGRES_PORT": str(postgres.port),
        "HARBOR_POSTGRES_DB": postgres.db, "HARBOR_POSTGRES_USER": postgres.user,
        "HARBOR_POSTGRES_PASSWORD": postgres.password, "HARBOR_POSTGRES_SSLMODE": "disable",
        "HARBOR_REDIS_HOST": "127.0.0.1", "HARBOR_REDIS_PORT": str(redis.port),
        "HARBOR_REDIS_PASSWORD": redis.password,
        "SANIC_WORKERS": str(WORKERS), "ACTION_SERVER_SANIC_WORKERS": str(WORKERS), "HARBOR_WARM_START": "1",
    }


@dataclass
class Cluster:
    servers: list[LiveAssistant]
    postgres: Postgres
    redis: Redis


def _workers_up(server: LiveAssistant) -> int:
    return (server.workdir / "rasa.log").read_text(errors="replace").count(READY_LINE)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One action server and two Rasa servers on deploy/endpoints.scale.yml, each with all its workers up."""
    from assistant.settings import settings

    assert MODEL.exists(), "no trained model: run `make test` (it trains first) or scripts/train.sh"
    workdir = tmp_path_factory.mktemp("scale-out")
    with redis_server(workdir) as redis, postgres_server(workdir) as postgres:
        first = LiveAssistant(workdir / "rasa-a", settings().catalog_db, endpoints=SCALE_ENDPOINTS)
        second = LiveAssistant(workdir / "rasa-b", settings().catalog_db, actions_port=first.actions_port,
                               endpoints=SCALE_ENDPOINTS)
        servers = [first, second]
        try:
            for server in servers:
                server.workdir.mkdir()
                server.env = scale_env(postgres, redis, first.actions_port)
            first.start_actions()
            for server in servers:
                server.start_rasa()
            deadline = time.monotonic() + 420
            for server in servers:
                server.wait_ready(timeout=deadline - time.monotonic())
                wait_for(lambda: _workers_up(server) >= WORKERS,
                         f"{WORKERS} Sanic workers; log: {server.workdir / 'rasa.log'}", [server.processes["rasa"]],
                         deadline - time.monotonic())
            for name, process in [("rasa", first.processes["rasa"]), ("rasa", second.processes["rasa"]),
                                  ("actions", first.processes["actions"])]:
                assert len(psutil.Process(process.pid).children()) == WORKERS, f"{name} {process.pid}: workers"
            yield Cluster(servers, postgres, redis)
        finally:
            for server in servers:
                server.stop()


@dataclass
class Turn:
    text: str
    reply: list[dict]
    server: int
    seconds: float


@dataclass
class Shopper:
    """One conversation whose turns alternate between the Rasa servers, starting at server `first`."""

    sender: str
    servers: list[LiveAssistant]
    first: int = 0
    turns: list[Turn] = field(default_factory=list)

    def say(self, text: str) -> list[dict]:
        index = (self.first + len(self.turns)) % len(self.servers)
        started = time.perf_counter()
        reply = self.servers[index].say(self.sender, text, timeout=120)
        self.turns.append(Turn(text, reply, index, time.perf_counter() - started))
        return reply


def tracker(server: LiveAssistant, sender: str) -> dict:
    with urllib.request.urlopen(f"{server.url}/conversations/{sender}/tracker", timeout=30) as response:
        return json.loads(response.read())


def tracker_turns(events: list[dict]) -> list[tuple[str, list[str], float, float]]:
    """Per user message in the tracker: its text, the bot's texts up to the next message, and the time span from
    the message to the last event before the next one."""
    turns: list[tuple[str, list[str], float, float]] = []
    for event in events:
        if event["event"] == "user":
            turns.append((event.get("text"), [], event["timestamp"], event["timestamp"]))
        elif turns:
            text, said, start, _ = turns[-1]
            turns[-1] = (text, said + [event["text"]] if event["event"] == "bot" and event.get("text") else said,
                         start, event["timestamp"])
    return turns


def assert_tracker_matches(shopper: Shopper, server: LiveAssistant) -> None:
    """The shared tracker holds every message exactly once, in the order sent, each followed by exactly what the
    server that handled it replied."""
    stored = tracker_turns(tracker(server, shopper.sender)["events"])
    assert [text for text, *_ in stored] == [turn.text for turn in shopper.turns]
    for (text, said, *_), turn in zip(stored, shopper.turns):
        assert said == [m["text"] for m in turn.reply if m.get("text")], f"turn {text!r} of {shopper.sender}"


def choose_variant(shopper: Shopper, asked: list[dict]) -> tuple[dict, dict[str, str]]:
    """Answer each size/colour follow-up with the second choice offered; returns the cart and what was chosen."""
    chosen: dict[str, str] = {}
    while not any(isinstance(m.get("custom"), dict) and m["custom"].get("type") == "cart" for m in asked):
        buttons = [b for m in asked for b in m.get("buttons", [])]
        assert len(buttons) > 1 and len(chosen) < 2, text_of(asked)
        choice = buttons[1]["payload"]  # /inform{"size": "6.5"}
        chosen.update(json.loads(choice[choice.index("{"):]))
        asked = shopper.say(choice)
    return payload(asked, "cart"), chosen


def buy_boots(shopper: Shopper) -> dict:
    """Search, a size and a colour asked one turn at a time, the cart, then checkout to a placed order."""
    shown = payload(shopper.say("show me hiking boots"), "product_list")["products"]
    asked = shopper.say("add the third one to my cart")
    assert "Which size" in text_of(asked)
    cart, chosen = choose_variant(shopper, asked)
    assert set(chosen) == {"size", "color"}
    assert [(line["product_id"], line["size"], line["color"]) for line in cart["lines"]] == \
        [(shown[2]["id"], chosen["size"], chosen["color"])]
    assert payload(shopper.say("what's in my cart"), "cart")["lines"] == cart["lines"]
    assert "Shall I place the order" in text_of(shopper.say("checkout"))
    assert "What email address" in text_of(shopper.say("yes"))
    assert "Where should it ship" in text_of(shopper.say(f"{shopper.sender}@example.com"))
    order = payload(shopper.say("Canada"), "order_placed")
    assert payload(shopper.say("what's in my cart"), "cart")["lines"] == []
    return order


def browse_tents(shopper: Shopper) -> None:
    """'more', 'the second one', 'compare 1 and 3' and 'cheaper' all resolve against what another server showed."""
    first = payload(shopper.say("show me tents"), "product_list")
    more = payload(shopper.say("show more"), "product_list")
    assert more["offset"] == 5 and not {p["id"] for p in more["products"]} & {p["id"] for p in first["products"]}
    details = payload(shopper.say("tell me more about the second one"), "product_details")
    assert details["products"][0]["id"] == more["products"][1]["id"]
    compared = payload(shopper.say("compare 1 and 3"), "comparison")
    assert [p["id"] for p in compared["products"]] == [more["products"][0]["id"], more["products"][2]["id"]]
    cheaper = payload(shopper.say("cheaper"), "product_list")
    assert cheaper["products"] and "tents" in text_of(shopper.turns[-1].reply)


def fill_bottle_cart(shopper: Shopper) -> None:
    """Two items added on different servers end up in one cart."""
    shown = payload(shopper.say("show me water bottles"), "product_list")["products"]
    cart, _ = choose_variant(shopper, shopper.say("add the second one to my cart"))
    cart, _ = choose_variant(shopper, shopper.say("add the first one to my cart"))
    assert {line["product_id"] for line in cart["lines"]} == {shown[0]["id"], shown[1]["id"]}
    assert payload(shopper.say("show my cart"), "cart")["lines"] == cart["lines"]
    # A policy question: answered by whichever action worker takes it, each having warmed up after its fork.
    answer = payload(shopper.say("how long do refunds take?"), "answer")
    assert answer["kind"] != "unknown" and answer["sources"]


def record_latency(shoppers: list[Shopper], wall: float) -> None:
    """Turn latencies seen by the shoppers, for docs/deploy.md; written to test-output/scale-out.json."""
    seconds = sorted(turn.seconds for shopper in shoppers for turn in shopper.turns)
    summary = {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
        "rasa_servers": 2, "sanic_workers_each": WORKERS, "concurrent_conversations": len(shoppers),
        "turns": len(seconds), "wall_s": round(wall, 2), "turns_per_s": round(len(seconds) / wall, 2),
        "p50_ms": round(1000 * statistics.median(seconds)),
        "p95_ms": round(1000 * seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))]),
        "max_ms": round(1000 * seconds[-1]),
    }
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "scale-out.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("scale-out latency:", summary)


def test_the_scale_config_takes_every_host_and_secret_from_the_environment(monkeypatch):
    from rasa.core.utils import read_endpoints_from_path
    from rasa.shared.exceptions import RasaException

    env = scale_env(Postgres(6543, "s3cret $pass"), Redis(6380, ""), 5055)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    endpoints = read_endpoints_from_path(SCALE_ENDPOINTS)
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert (endpoints.tracker_store.type, endpoints.tracker_store.url) == ("SQL", "127.0.0.1")
    assert endpoints.tracker_store.kwargs["password"] == "s3cret $pass"
    assert endpoints.lock_store.kwargs["port"] == "6380" and endpoints.lock_store.kwargs["password"] == ""
    monkeypatch.delenv("HARBOR_POSTGRES_PASSWORD")
    with pytest.raises(RasaException, match="HARBOR_POSTGRES_PASSWORD"):
        read_endpoints_from_path(SCALE_ENDPOINTS)


def test_conversations_alternating_between_two_servers_lose_nothing(cluster: Cluster):
    servers = cluster.servers
    shoppers = [Shopper("boots-a", servers, 0), Shopper("boots-b", servers, 1), Shopper("tents", servers, 0),
                Shopper("bottles", servers, 1)]
    plays = [buy_boots, buy_boots, browse_tents, fill_bottle_cart]
    started = time.perf_counter()
    with ThreadPoolExecutor(len(shoppers)) as pool:
        results = list(pool.map(lambda play, shopper: play(shopper), plays, shoppers))
    wall = time.perf_counter() - started

    for shopper in shoppers:
        assert {turn.server for turn in shopper.turns} == {0, 1}
        for server in servers:  # either server reads the same, complete conversation
            assert_tracker_matches(shopper, server)
    with sqlite3.connect(servers[0].store_db) as store:
        for shopper, order in zip(shoppers[:2], results[:2]):
            assert store.execute("SELECT conversation_id, email, country FROM orders WHERE number = ?",
                                 (order["number"],)).fetchall() == \
                [(shopper.sender, f"{shopper.sender}@example.com", "CA")]
    record_latency(shoppers, wall)


def test_the_stores_behind_the_servers_are_postgres_and_redis(cluster: Cluster):
    redis = cluster.redis.client()

    def transactions() -> int:  # EXEC calls: components.lock_store changes a lock in a MULTI/EXEC transaction
        return redis.info("commandstats").get("cmdstat_exec", {"calls": 0})["calls"]

    before = transactions()
    shopper = Shopper("store-check", cluster.servers)
    shopper.say("hi")
    shopper.say("show me tents")
    events = tracker(cluster.servers[1], shopper.sender)["events"]
    connection = cluster.postgres.connect()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*) FROM events WHERE sender_id = %s", (shopper.sender,))
        assert cursor.fetchone() == (len(events),)
    finally:
        connection.close()
    # per message: its ticket issued, then released, each one transaction
    assert transactions() - before >= 2 * len(shopper.turns)
    assert redis.keys("harbor:lock:*") == []  # every lock released


def test_concurrent_messages_to_one_conversation_are_serialised_by_the_lock_store(cluster: Cluster):
    """Four messages, alternately to each server, all sent at once: Rasa handles them one at a time, so the
    tracker holds four whole turns that do not overlap in time."""
    categories = ["tents", "backpacks", "water bottles", "rain jackets"]

    def race(sender: str) -> dict[str, tuple[float, float, list[dict]]]:
        sent: dict[str, tuple[float, float, list[dict]]] = {}
        start_line = threading.Barrier(len(categories))

        def send(index: int) -> None:
            text = f"show me {categories[index]}"
            start_line.wait()
            start = time.time()
            reply = cluster.servers[index % 2].say(sender, text, timeout=120)
            sent[text] = (start, time.time(), reply)

        with ThreadPoolExecutor(len(categories)) as pool:
            list(pool.map(send, range(len(categories))))
        return sent

    # A turn can be quicker than four threads take to start; only a race whose messages overlap tests the lock.
    for attempt in range(3):
        sender = f"racer-{attempt}"
        sent = race(sender)
        if any(a != b and sent[a][0] < sent[b][0] < sent[a][1] for a in sent for b in sent):
            break
    else:
        pytest.fail("in three races the messages never overlapped: nothing to serialise")
    for text, (_, _, reply) in sent.items():
        assert f"Here are {text.removeprefix('show me ')}" in text_of(reply)
    events = tracker(cluster.servers[0], sender)["events"]
    assert [e["event"] for e in events].count("session_started") == 1
    stored = tracker_turns(events)
    assert sorted(text for text, *_ in stored) == sorted(sent)
    for text, said, *_ in stored:
        assert said == [m["text"] for m in sent[text][2] if m.get("text")], text
    for (_, _, _, end), (text, _, start, _) in zip(stored, stored[1:]):
        assert start >= end, f"{text!r} was handled while the turn before it was still running"
