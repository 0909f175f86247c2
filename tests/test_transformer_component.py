"""The Rasa adapter: trains on Rasa training data, round-trips through real model storage, fills intent, ranking
and entities the way Rasa's own extractors do, and works inside a real pipeline next to FallbackClassifier."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.rasa
pytest.importorskip("rasa")  # the GPU machine has no Rasa

from rasa.core.agent import Agent  # noqa: E402
from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.model_training import train_nlu  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from assistant.nlu.examples import Span  # noqa: E402
from assistant.nlu.joint_model import Prediction  # noqa: E402
from assistant.settings import settings  # noqa: E402
from components.transformer_nlu import TransformerNLU, source_digest  # noqa: E402
from tests.test_joint_nlu import FAST, GIBBERISH, TINY_NLU  # noqa: E402


def nlu_yaml() -> str:
    blocks = ["\n".join([f"  - intent: {intent}", "    examples: |", *(f"      - {line}" for line in lines)])
              for intent, lines in TINY_NLU.items()]
    return 'version: "3.1"\nnlu:\n' + "\n".join(blocks) + "\n"


def process(component: TransformerNLU, *texts: str) -> list[Message]:
    return component.process([Message(data={"text": text}) for text in texts])


def make_component(tmp_path: Path, **config) -> tuple[TransformerNLU, LocalModelStorage, Resource, dict]:
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("transformer_nlu")
    full_config = {**TransformerNLU.get_default_config(), **config}
    context = ExecutionContext(GraphSchema({}), "test")
    return TransformerNLU.create(full_config, storage, resource, context), storage, resource, full_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """A component trained on Rasa's own parse of the YAML, then loaded back from its model storage."""
    tmp_path = tmp_path_factory.mktemp("component")
    (tmp_path / "nlu.yml").write_text(nlu_yaml())
    component, storage, resource, config = make_component(tmp_path, epochs=2, **FAST)
    component.train(load_data(str(tmp_path / "nlu.yml")))
    loaded = TransformerNLU.load(config, storage, resource, ExecutionContext(GraphSchema({}), "test"))
    return component, loaded


def test_loaded_component_predicts_like_the_trained_one(trained):
    component, loaded = trained
    texts = ["show me red running shoes", "between $20-40 please", *GIBBERISH]
    assert [m.as_dict_nlu() for m in process(loaded, *texts)] == [m.as_dict_nlu() for m in process(component, *texts)]


def test_process_sets_intent_full_ranking_and_entities(trained):
    _, loaded = trained
    for message in process(loaded, "show me The North Face jackets", "track order #A1234", *GIBBERISH):
        ranking = message.get("intent_ranking")
        assert sorted(r["name"] for r in ranking) == sorted(TINY_NLU)
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)
        assert message.get("intent") == ranking[0]
        text = message.get("text")
        for entity in message.get("entities"):
            assert entity["extractor"] == "TransformerNLU"
            assert text[entity["start"]:entity["end"]] == entity["value"]
            assert 0.0 < entity["confidence_entity"] <= 1.0


def test_entities_from_earlier_components_are_kept(trained):
    _, loaded = trained
    earlier = {"entity": "number", "start": 0, "end": 1, "value": 2, "extractor": "DucklingEntityExtractor"}
    message = Message(data={"text": "2 red jackets", "entities": [earlier]})
    assert loaded.process([message])[0].get("entities")[0] == earlier


def test_an_untrained_resource_loads_as_a_component_that_predicts_nothing(tmp_path: Path):
    _, storage, resource, config = make_component(tmp_path)
    component = TransformerNLU.load(config, storage, resource, ExecutionContext(GraphSchema({}), "test"))
    message = process(component, "hello")[0]
    assert message.get("intent") is None and message.get("entities") is None


class _FixedModel:
    """Stands in for JointNLU: always finds the brand "north face" and the colour "RED"."""

    def predict(self, texts: list[str]) -> list[Prediction]:
        return [Prediction([("search_product", 1.0)],
                           [Span(8, 18, "brand", "north face"), Span(19, 22, "color", "RED")], [0.9, 0.8])
                for _ in texts]


def _catalog(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE products (title TEXT, brand TEXT, category TEXT, colors TEXT, sizes TEXT)")
        db.execute("CREATE TABLE variants (size TEXT)")
        db.execute("INSERT INTO products VALUES ('The North Face Summit Jacket', 'The North Face', 'Jackets', ?, '[]')",
                   (json.dumps(["Red"]),))
    return path


@pytest.mark.parametrize("catalog_exists", [True, False])
def test_entity_values_map_to_the_catalog_only_when_asked_and_available(tmp_path: Path, monkeypatch, catalog_exists):
    path = _catalog(tmp_path / "catalog.db") if catalog_exists else tmp_path / "missing.db"
    monkeypatch.setenv("HARBOR_CATALOG_DB", str(path))
    settings.cache_clear()
    try:
        storage, resource = LocalModelStorage(tmp_path / "storage"), Resource("r")
        context = ExecutionContext(GraphSchema({}), "test")
        for normalise in (False, True):
            config = {**TransformerNLU.get_default_config(), "normalize_entities": normalise}
            component = TransformerNLU(config, storage, resource, context, model=_FixedModel())
            entities = process(component, "show me north face RED jackets")[0].get("entities")
            expected = ["The North Face", "Red"] if normalise and catalog_exists else ["north face", "RED"]
            assert [e["value"] for e in entities] == expected
            assert all(("processors" in e) == (normalise and catalog_exists) for e in entities)
    finally:
        settings.cache_clear()


def test_inside_a_real_rasa_pipeline_gibberish_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", "0")  # keep the training cache out of the repository
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    options = "".join(f"\n    {key}: {value}" for key, value in {**FAST, "epochs": 4}.items())
    (tmp_path / "config.yml").write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: test\npipeline:\n"
        f"  - name: components.transformer_nlu.TransformerNLU{options}\n"
        "  - name: FallbackClassifier\n    threshold: 0.5\npolicies: []\n")
    (tmp_path / "nlu.yml").write_text(nlu_yaml())
    model_path = train_nlu(str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path / "models"))
    agent = Agent.load(model_path)

    async def parse(text: str) -> dict:
        return await agent.parse_message(text)

    in_scope = asyncio.run(parse("where is my order?"))
    assert in_scope["intent"]["name"] == "order_status"
    assert sum(r["confidence"] for r in in_scope["intent_ranking"]) == pytest.approx(1.0, abs=1e-5)
    gibberish = asyncio.run(parse(GIBBERISH[0]))
    assert gibberish["intent"]["name"] == "nlu_fallback"
    ours = [r for r in gibberish["intent_ranking"] if r["name"] != "nlu_fallback"]
    assert sum(r["confidence"] for r in ours) == pytest.approx(1.0, abs=1e-5)


def test_a_change_in_the_model_code_retrains_instead_of_restoring_from_rasas_cache(tmp_path: Path, monkeypatch):
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    import components.transformer_nlu as adapter

    (tmp_path / "training.py").write_text("EPOCHS = 20\n")
    before = source_digest(tmp_path)
    (tmp_path / "training.py").write_text("EPOCHS = 10\n")
    assert source_digest(tmp_path) != before
    key = calculate_fingerprint_key(TransformerNLU, {"epochs": 20}, {})
    monkeypatch.setattr(adapter, "MODEL_CODE", tmp_path)
    assert calculate_fingerprint_key(TransformerNLU, {"epochs": 20}, {}) != key
