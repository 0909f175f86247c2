"""The domain and the action server agree on which custom actions exist."""
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.rasa
rasa_sdk = pytest.importorskip("rasa_sdk")

DOMAIN = Path(__file__).resolve().parents[1] / "domain.yml"


def test_every_domain_action_is_served_and_every_served_action_is_declared():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    declared = set(yaml.safe_load(DOMAIN.read_text())["actions"])
    assert set(executor.actions) == declared



def _color_question(channel: str, shop, monkeypatch: pytest.MonkeyPatch) -> dict:
    """What action_ask_color sends for a product with several colours, when the shopper writes from `channel`."""
    import asyncio

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    import actions.actions as served

    monkeypatch.setattr(served, "shop", lambda: shop)
    product_id = next(row[0] for row in shop.catalog.execute(
        "SELECT product_id FROM variants WHERE stock > 0 AND color IS NOT NULL "
        "GROUP BY product_id HAVING COUNT(DISTINCT color) > 1 LIMIT 1"))
    tracker = Tracker("someone", {"pending_product": product_id}, {"text": "add it"},
                      [{"event": "user", "text": "add it", "input_channel": channel}], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(served.ActionAskColor().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    return message


def test_the_terminal_gets_no_button_menu_but_the_options_in_the_text(shop, monkeypatch: pytest.MonkeyPatch):
    on_the_web = _color_question("rest", shop, monkeypatch)
    in_the_shell = _color_question("cmdline", shop, monkeypatch)
    assert len(on_the_web["buttons"]) > 1
    assert not in_the_shell["buttons"]
    assert all(button["title"] in in_the_shell["text"] for button in on_the_web["buttons"])
