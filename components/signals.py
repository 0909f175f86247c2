"""Rasa adapter for `assistant.nlu.signals`: runs after the intent classifier, before FallbackClassifier.

- A shouted message ("THIS IS USELESS!!!", "WHERE IS MY ORDER!") becomes the `complain` intent, which hands over to
  a person. The classifier's own guess stays in the ranking and under `frustration.intent`.
- A message over the length limit becomes `nlu_fallback` with `too_long` set; action_answer_question answers it
  with a polite request to shorten it.
Trains nothing.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from assistant.nlu.signals import shouting, too_long


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class InputSignals(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"frustration_intent": "complain", "fallback_intent": "nlu_fallback"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.frustration_intent = config["frustration_intent"]
        self.fallback_intent = config["fallback_intent"]

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "InputSignals":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if too_long(text):
                self._override(message, self.fallback_intent)
                message.set(ENTITIES, [], add_to_output=True)
                message.set("too_long", len(text), add_to_output=True)
            elif shouting(text):
                guessed = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
                self._override(message, self.frustration_intent)
                message.set("frustration", {"shouting": True, "intent": guessed}, add_to_output=True)
        return messages

    @staticmethod
    def _override(message: Message, intent: Text) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
        top = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top] + ranking, add_to_output=True)
