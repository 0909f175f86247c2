"""Start the real action server and Rasa server on free ports, talk to them over REST, stop them."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "harbor.tar.gz"
RASA_ENV = {"OMP_NUM_THREADS": "1"}  # as scripts/run.sh starts the Rasa server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status


def http_ok(url: str) -> Callable[[], bool]:
    return lambda: _get(url) == 200


def wait_for(ready: Callable[[], object], what: str, processes: Iterable[subprocess.Popen], timeout: float,
             interval: float = 0.5) -> None:
    """Poll `ready` until it returns something truthy (an exception means "not yet": connection refused, a
    service still starting); give up as soon as one of the `processes` behind it has exited, or after `timeout`."""
    processes = list(processes)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - any failure to answer is "not ready yet"
            pass
        exited = [p.returncode for p in processes if p.poll() is not None]
        if exited or time.monotonic() > deadline:
            why = f"exit code {exited[0]}" if exited else f"{timeout:.0f} s passed"
            raise RuntimeError(f"not ready ({why}): {what}")
        time.sleep(interval)


@dataclass
class LiveAssistant:
    """The two real servers, as `make run` starts them, with their own store database and log files."""

    workdir: Path
    catalog_db: Path
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    endpoints: Path | None = None  # the Rasa server's endpoints file; None writes the embedded SQLite one
    env: dict[str, str] = field(default_factory=dict)  # added to both servers' environment, last
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def store_db(self) -> Path:
        return self.workdir / "store.db"

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    def start_actions(self) -> None:
        """The action server, on a store with the demo orders (the catalog is shared and only read)."""
        from assistant.catalog.build import open_catalog
        from assistant.store.db import open_store
        from assistant.store.demo import seed_demo_orders

        seed_demo_orders(open_store(self.store_db), open_catalog(self.catalog_db))
        env = {**os.environ, "HARBOR_CATALOG_DB": str(self.catalog_db), "HARBOR_STORE_DB": str(self.store_db),
               "HARBOR_WARM_START": "1", **self.env}
        self._spawn("actions", [str(BIN / "rasa"), "run", "actions", "--port", str(self.actions_port),
                                "--actions", "actions"], env)

    def _default_endpoints(self) -> Path:
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
                             f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{self.tracker_db}"\n')
        return endpoints

    def start_rasa(self) -> None:
        endpoints = self.endpoints or self._default_endpoints()
        self._spawn("rasa", [str(BIN / "rasa"), "run", "--enable-api", "--port", str(self.rasa_port),
                             "-m", str(MODEL), "--endpoints", str(endpoints), "--credentials",
                             str(ROOT / "credentials.yml")], {**os.environ, **RASA_ENV, **self.env})

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        for url in (f"http://127.0.0.1:{self.actions_port}/health", f"{self.url}/"):
            wait_for(http_ok(url), f"server at {url}; logs in {self.workdir}", self.processes.values(),
                     deadline - time.monotonic())

    def say(self, sender: str, text: str, timeout: float = 30) -> list[dict]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def restart_rasa(self) -> None:
        """Stop the Rasa server (the action server keeps running) and start a new one on the same stores."""
        rasa = self.processes.pop("rasa")
        os.killpg(rasa.pid, signal.SIGTERM)
        rasa.wait(timeout=30)
        self.start_rasa()
        self.wait_ready()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


def payload(messages: list[dict], kind: str) -> dict:
    found = [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and m["custom"].get("type") == kind]
    assert found, f"expected a {kind!r} payload, got: {json.dumps(messages, indent=1)[:1500]}"
    return found[-1]


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


@contextmanager
def running_assistant(workdir: Path, catalog_db: Path | None = None,
                      env: dict[str, str] | None = None) -> Iterator[LiveAssistant]:
    """Both servers on the trained model and the demo catalog (or `catalog_db`), with `env` added to their
    environment, for as long as the `with` block runs."""
    from assistant.settings import settings

    assert MODEL.exists(), "no trained model: run `make test` (it trains first) or scripts/train.sh"
    assistant = LiveAssistant(workdir, catalog_db or settings().catalog_db, env=env or {})
    assistant.start_actions()
    assistant.start_rasa()
    try:
        assistant.wait_ready()
        yield assistant
    finally:
        assistant.stop()
