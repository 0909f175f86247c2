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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "harbor.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status


@dataclass
class LiveAssistant:
    """The two real servers, as `make run` starts them, with their own store database and log files."""

    workdir: Path
    catalog_db: Path
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def store_db(self) -> Path:
        return self.workdir / "store.db"

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def start_actions(self) -> None:
        env = {**os.environ, "HARBOR_CATALOG_DB": str(self.catalog_db), "HARBOR_STORE_DB": str(self.store_db),
               "HARBOR_WARM_START": "1"}
        self._spawn("actions", [str(BIN / "rasa"), "run", "actions", "--port", str(self.actions_port),
                                "--actions", "actions"], env)

    def start_rasa(self) -> None:
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n')
        self._spawn("rasa", [str(BIN / "rasa"), "run", "--enable-api", "--port", str(self.rasa_port),
                             "-m", str(MODEL), "--endpoints", str(endpoints), "--credentials",
                             str(ROOT / "credentials.yml")], dict(os.environ))

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        for url in (f"http://127.0.0.1:{self.actions_port}/health", f"{self.url}/"):
            while True:
                try:
                    if _get(url) == 200:
                        break
                except OSError:
                    pass
                if any(p.poll() is not None for p in self.processes) or time.monotonic() > deadline:
                    raise RuntimeError(f"server not ready at {url}; logs in {self.workdir}")
                time.sleep(0.5)

    def say(self, sender: str, text: str, timeout: float = 30) -> list[dict]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()
