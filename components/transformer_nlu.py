"""Rasa 3.6 adapter for the project's joint transformer NLU (`assistant.nlu`).

Everything that learns or predicts lives in `assistant/nlu`, which never imports Rasa (the GPU machine has none);
this class only converts Rasa messages to examples, keeps the trained model in Rasa's model storage, and writes
`intent`, the full `intent_ranking` and `entities` back onto messages. It tokenizes by itself, so the pipeline
needs no tokenizer or featurizer in front of it:

    pipeline:
      - name: components.transformer_nlu.TransformerNLU
      - name: EntitySynonymMapper
      - name: FallbackClassifier
        threshold: 0.5

Config keys are the fields of `assistant.nlu.training.TrainingConfig` (base_model: null means the bundled
all-MiniLM-L6-v2) plus `normalize_entities`, `out_of_scope_intent`, `quantize` (int8 linear layers
for CPU inference, applied when the model is loaded) and `trace` (on by default: the loaded model serves from a
TorchScript trace of its forward pass, see `JointNLU.traced_for_inference`). Out-of-scope messages get a flat
ranking (see the training module), which FallbackClassifier's threshold turns into `nlu_fallback`; training
examples of the intent named by `out_of_scope_intent` (e.g. CLINC's "oos") are trained as such outliers instead
of as a class.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import sqlite3
from contextlib import closing
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.nlu.examples import Example, Span
from assistant.nlu.joint_model import JointNLU, Prediction
from assistant.nlu.training import TrainingConfig, train_joint

if TYPE_CHECKING:
    from assistant.search.vocab import Vocabulary

logger = logging.getLogger(__name__)

NORMALISED_KINDS = ("brand", "category", "color")  # entity types mapped onto the catalog's spelling
MODEL_CODE = Path(__file__).resolve().parents[1] / "assistant" / "nlu"  # how the model is built and trained


def source_digest(folder: Path) -> str:
    """A digest of the Python files in `folder`, names and contents."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class TransformerNLU(GraphComponent, IntentClassifier, EntityExtractorMixin):
    """Fine-tuned transformer that predicts the intent and the entities of a message in one pass."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The training defaults, plus the optional catalog normalisation of entity values (off) and the name of an
        out-of-scope intent in the training data (none)."""
        return {**dataclasses.asdict(TrainingConfig()), "normalize_entities": False, "out_of_scope_intent": None,
                "quantize": False, "trace": True}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["torch", "transformers"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """The model code's digest: Rasa's training cache keys on this adapter's source, its config and the data,
        so without it a change in how assistant/nlu trains would restore the model trained before the change."""
        return source_digest(MODEL_CODE)

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, model: Optional[JointNLU] = None) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self._execution_context = execution_context
        self._model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TransformerNLU:
        """An untrained component (see the parent class)."""
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> TransformerNLU:
        """The trained component from model storage; one that predicts nothing if training stored no model."""
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = JointNLU.load(directory, device=config.get("device"))
            if config.get("quantize"):
                model = model.quantized_for_cpu()
            if config.get("trace", True):
                model = model.traced_for_inference()
        except ValueError as error:
            logger.warning("%s: no trained model in resource '%s' (%s); it will predict nothing.",
                           cls.__name__, resource.name, error)
        return cls(config, model_storage, resource, execution_context, model)

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tune on every example with text and intent, then persist the model into model storage."""
        out_of_scope = self.component_config.get("out_of_scope_intent")
        examples = [_example(message, out_of_scope)
                    for message in self.filter_trainable_entities(training_data.intent_examples)
                    if message.get(TEXT) and message.get(INTENT)]
        if not examples:
            logger.warning("%s: no examples with text and intent; nothing to train.", self.name)
            return self._resource
        self._model, report = train_joint(examples, self._training_config())
        logger.info("%s trained: %s", self.name, report)
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    def _training_config(self) -> TrainingConfig:
        names = {field.name for field in dataclasses.fields(TrainingConfig)}
        return TrainingConfig(**{key: value for key, value in self.component_config.items() if key in names})

    def process(self, messages: List[Message]) -> List[Message]:
        """Set intent, intent_ranking and (appended) entities on each message that has text."""
        with_text = [message for message in messages if message.get(TEXT)]
        if self._model is None or not with_text:
            return messages
        for message, prediction in zip(with_text, self._model.predict([m.get(TEXT) for m in with_text])):
            ranking = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                       for name, confidence in prediction.intent_ranking]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(ENTITIES, (message.get(ENTITIES) or []) + self._entities(prediction), add_to_output=True)
        return messages

    def _entities(self, prediction: Prediction) -> List[Dict[Text, Any]]:
        entities = self.add_extractor_name([
            {ENTITY_ATTRIBUTE_TYPE: span.entity, ENTITY_ATTRIBUTE_START: span.start, ENTITY_ATTRIBUTE_END: span.end,
             ENTITY_ATTRIBUTE_VALUE: span.value, ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: confidence}
            for span, confidence in zip(prediction.entities, prediction.entity_confidences)])
        return [self._normalised(entity) for entity in entities]

    def _normalised(self, entity: Dict[Text, Any]) -> Dict[Text, Any]:
        """Catalog spelling for brand/category/color values when `normalize_entities` is on and a catalog exists.

        This is a hook: by default values stay exactly as typed and EntitySynonymMapper plus the search
        vocabulary normalise them later.
        """
        if self._vocabulary is None or entity[ENTITY_ATTRIBUTE_TYPE] not in NORMALISED_KINDS:
            return entity
        value = self._vocabulary.normalise(entity[ENTITY_ATTRIBUTE_TYPE], entity[ENTITY_ATTRIBUTE_VALUE])
        if value and value != entity[ENTITY_ATTRIBUTE_VALUE]:
            entity[ENTITY_ATTRIBUTE_VALUE] = value
            self.add_processor_name(entity)
        return entity

    @cached_property
    def _vocabulary(self) -> Optional[Vocabulary]:
        """The catalog vocabulary (assistant.search.vocab.Vocabulary), or None when off or unavailable."""
        if not self.component_config.get("normalize_entities"):
            return None
        try:
            from assistant.search.vocab import Vocabulary
            from assistant.settings import settings
        except ImportError as error:
            logger.debug("Entity normalisation skipped: %s", error)
            return None
        path = settings().catalog_db.resolve()
        if not path.exists():
            logger.debug("Entity normalisation skipped: no catalog at %s", path)
            return None
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
            return Vocabulary.from_db(connection)


def _example(message: Message, out_of_scope_intent: Optional[Text] = None) -> Example:
    """A Rasa training message as a model example (entity roles and groups are not modelled); an example of
    `out_of_scope_intent` gets no intent, which training reads as out of scope."""
    intent = message.get(INTENT)
    return Example(message.get(TEXT), None if intent == out_of_scope_intent else intent,
                   [Span(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END], entity[ENTITY_ATTRIBUTE_TYPE],
                         str(entity.get(ENTITY_ATTRIBUTE_VALUE, ""))) for entity in message.get(ENTITIES) or []])
