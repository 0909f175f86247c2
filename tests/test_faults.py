"""Faults a store meets in production, on the real servers: the action server dies, the catalog is locked."""
from __future__ import annotations

import shutil
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from channels import SORRY
from tests.servers import LiveAssistant, payload, running_assistant, text_of


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory):
    """The servers on a copy of the catalog (the test locks it) that waits 2 s for a lock before giving up."""
    from assistant.settings import settings

    workdir = tmp_path_factory.mktemp("faults")
    catalog = workdir / "catalog.db"
    shutil.copy(settings().catalog_db, catalog)
    with running_assistant(workdir, catalog, env={"HARBOR_DB_BUSY_TIMEOUT_S": "2"}) as assistant:
        yield assistant


def _restart_actions(bot: LiveAssistant) -> None:
    bot.start_actions()
    bot.wait_ready()


def test_a_killed_action_server_gets_an_apology_and_the_conversation_resumes(bot: LiveAssistant):
    bot.say("survivor", "rain jackets")
    added = bot.say("survivor", "add the first one to my cart")
    while not any(isinstance(m.get("custom"), dict) and m["custom"].get("type") == "cart" for m in added):
        question = next(m for m in added if m.get("buttons"))  # size or colour: take the first option offered
        added = bot.say("survivor", question["buttons"][0]["payload"])
    cart = payload(added, "cart")["lines"]

    actions = bot.processes.pop("actions")
    actions.send_signal(signal.SIGKILL)
    actions.wait(timeout=10)
    reply = bot.say("survivor", "show me cheaper ones")
    assert text_of(reply) == SORRY
    assert "something went wrong" in text_of(bot.say("survivor", "what's in my cart"))
    assert "Harbor Lane" in text_of(bot.say("survivor", "hello"))  # plain responses need no action server

    _restart_actions(bot)
    assert payload(bot.say("survivor", "what's in my cart"), "cart")["lines"] == cart
    assert payload(bot.say("survivor", "show me cheaper ones"), "product_list")["products"]


def _lock(catalog: Path, seconds: float, locked: threading.Event) -> None:
    """Hold an exclusive lock on the catalog, as a long write would."""
    conn = sqlite3.connect(catalog, timeout=1)
    conn.execute("BEGIN EXCLUSIVE")
    locked.set()
    threading.Event().wait(seconds)
    conn.rollback()
    conn.close()


@pytest.mark.parametrize("seconds, answered", [(0.8, True), (6, False)], ids=["brief-lock", "long-lock"])
def test_a_locked_catalog_is_retried_then_answered_with_a_clear_message(bot: LiveAssistant, seconds: float,
                                                                        answered: bool):
    sender = f"locked-{seconds}"
    locked = threading.Event()
    holder = threading.Thread(target=_lock, args=(bot.catalog_db, seconds, locked))
    holder.start()
    locked.wait(5)
    reply = bot.say(sender, "waterproof hiking boots")
    holder.join()
    if answered:  # the query waited for the lock and went through
        assert payload(reply, "product_list")["products"]
    else:
        assert text_of(reply) == SORRY
        assert payload(bot.say(sender, "waterproof hiking boots"), "product_list")["products"]
