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
