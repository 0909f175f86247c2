"""Rasa adapter: a shouted message ("THIS IS USELESS!!!", "WHERE IS MY ORDER!") becomes the `complain` intent.

Runs after the intent classifier and before FallbackClassifier. The classifier's own guess stays in the ranking
and under `frustration.intent`, so the handoff ticket still knows what the shopper was asking about. Trains nothing.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from assistant.nlu.frustration import shouting


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FrustrationSignal(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": "complain"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.intent = config["intent"]

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "FrustrationSignal":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not shouting(message.get(TEXT) or ""):
                continue
            guessed = message.get(INTENT) or {}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != self.intent]
            top = {INTENT_NAME_KEY: self.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [top] + ranking, add_to_output=True)
            message.set("frustration", {"shouting": True, "intent": guessed.get(INTENT_NAME_KEY)},
                        add_to_output=True)
        return messages
