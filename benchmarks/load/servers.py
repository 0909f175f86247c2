"""The two bots under load, as running servers with the embedded stores (SQLite tracker store, Rasa's in-process
lock store), and the CPU time each server process spends, which tells Rasa's share from the action server's."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.servers import RASA_ENV, free_port, http_ok, running_assistant, wait_for

WEBHOOK = "/webhooks/rest/webhook"


@dataclass(frozen=True)
class Target:
    url: str  # the REST webhook
    processes: dict[str, int]  # server name -> pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far."""
    process = psutil.Process(pid)
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@contextmanager
def ours(workdir: Path) -> Iterator[Target]:
    """Our Rasa server and action server, exactly as the live tests start them (tests/servers.py)."""
    with running_assistant(workdir) as live:
        yield Target(live.url + WEBHOOK, {name: p.pid for name, p in live.processes.items()})


@contextmanager
def baseline(model: Path, workdir: Path, timeout: float = 240) -> Iterator[Target]:
    """A stock Rasa server on the baseline model: the REST channel, the same SQLite tracker store, no actions."""
    workdir.mkdir(parents=True, exist_ok=True)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{workdir / "tracker.db"}"\n')
    credentials = workdir / "credentials.yml"
    credentials.write_text("rest:\n")
    port = free_port()
    rasa = Path(sys.executable).parent / "rasa"
    with open(workdir / "rasa.log", "ab") as log:
        process = subprocess.Popen([str(rasa), "run", "--port", str(port), "-m", str(model), "--endpoints",
                                    str(endpoints), "--credentials", str(credentials)], cwd=workdir,
                                   env={**os.environ, **RASA_ENV}, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(http_ok(url), f"baseline Rasa server at {url}; log in {workdir / 'rasa.log'}", [process], timeout)
        yield Target(f"http://127.0.0.1:{port}{WEBHOOK}", {"rasa": process.pid})
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
