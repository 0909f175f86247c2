"""`rasa shell` through channels/terminal.py: payloads as numbered text, buttons as numbered options."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from channels.terminal import CHOOSE_HINT, PRODUCT_HINT, Options, as_text

SIZES = [{"title": s, "payload": f'/inform{{"size": "{s}"}}'} for s in ("8", "9", "10")]


def test_a_product_list_keeps_its_numbered_text_and_drops_the_json():
    message = {"text": "Here are boots:\n1. Trail Boot (Acme) - $99.00",
               "custom": {"type": "product_list", "products": [{"id": "p1", "title": "Trail Boot"}]}}
    text, options = as_text(message)
    assert text.startswith("Here are boots:\n1. Trail Boot")
    assert PRODUCT_HINT in text and "product_list" not in text and "{" not in text
    assert options == []


def test_a_payload_without_text_still_lists_its_products():
    text, _ = as_text({"custom": {"type": "recommendations", "products": [{"title": "A"}, {"title": "B"}]}})
    assert text.splitlines()[:2] == ["1. A", "2. B"]


def test_buttons_become_numbered_options_short_ones_on_one_line():
    text, options = as_text({"text": "Which size?", "buttons": SIZES})
    assert text.splitlines() == ["Which size?", "1. 8   2. 9   3. 10", CHOOSE_HINT]
    assert options == [b["payload"] for b in SIZES]
    long = [{"title": "It arrived damaged or defective", "payload": "/a"}, {"title": "Wrong size", "payload": "/b"}]
    text, _ = as_text({"text": "Why?", "buttons": long})
    assert "  1. It arrived damaged or defective\n  2. Wrong size" in text


def test_a_typed_number_picks_the_offered_option_once():
    options = Options()
    options.offer("me", [b["payload"] for b in SIZES])
    assert options.resolve("someone else", "2") == "2"  # another conversation's options are not used
    assert options.resolve("me", " 2. ") == '/inform{"size": "9"}'
    assert options.resolve("me", "2") == "2"  # used up
    options.offer("me", ["/a", "/b"])
    assert options.resolve("me", "3") == "3"  # out of range: the text as typed
    assert options.resolve("me", "1") == "1"  # any answer uses the offer up


# The real `rasa shell` (our wrapper) in a pseudo-terminal, against the real action server.
ANSI = re.compile(rb"\x1b\[[0-9;?]*[a-zA-Z]")


class Terminal:
    def __init__(self, args: list[str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.process = subprocess.Popen(args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
                                        start_new_session=True, env={**os.environ, "TERM": "xterm"})
        os.close(slave)
        self.output = b""

    def text(self) -> str:
        return ANSI.sub(b"", self.output).decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> str:
        """All output since the last `type`, once it matches `pattern`."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no {pattern!r} in the terminal within {timeout} s:\n{self.text()[-3000:]}")
            if select.select([self.master], [], [], 0.5)[0]:
                self.output += os.read(self.master, 65536)
        return self.text()

    def type(self, line: str) -> None:
        self.output = b""
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=20)
        os.close(self.master)


@pytest.mark.timeout(600)
def test_rasa_shell_shows_products_as_numbered_text_and_takes_a_numbered_choice(tmp_path: Path):
    from assistant.settings import settings
    from tests.servers import BIN, MODEL, ROOT, LiveAssistant, free_port, http_ok, wait_for

    assistant = LiveAssistant(tmp_path, settings().catalog_db)
    assistant.start_actions()
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{assistant.actions_port}/webhook"\n'
                         f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tmp_path / "tracker.db"}"\n')
    shell = Terminal([str(BIN / "python"), "-m", "channels.terminal", "shell", "-m", str(MODEL),
                      "--endpoints", str(endpoints), "--port", str(free_port())], ROOT)
    try:
        wait_for(http_ok(f"http://127.0.0.1:{assistant.actions_port}/health"), "action server",
                 assistant.processes.values(), 240)
        shell.wait_for("Your input", 300)

        shell.type("red running shoes")
        products = shell.wait_for(re.escape(PRODUCT_HINT), 120)
        assert re.search(r"^1\. .+ - \$\d+", products, re.M) and re.search(r"^2\. ", products, re.M)
        assert "Custom json" not in products and '"product_list"' not in products

        shell.type("add the first one to my cart")
        question = shell.wait_for(re.escape(CHOOSE_HINT), 120)
        assert "Which size" in question
        options = re.search(r"1\. (\S+)\s+2\. (\S+)", question)
        assert options, question

        shell.type("2")  # the second size offered
        added = shell.wait_for(r"Subtotal", 120)
        assert f"size {options.group(2)})" in added
    finally:
        shell.close()
        assistant.stop()
