"""Fine-tuning the joint intent + entity model: seeded, early-stopped, calibrated. No Rasa here.

Out-of-scope input (gibberish, off-topic chatter) is handled with outlier exposure (Hendrycks et al., ICLR 2019):
examples with `intent=None` - the caller's own out-of-scope data plus a generated set of random letter strings and
random-word salads - are trained towards an even spread over the intents rather than towards any one of them, and
tagged with no entities. No "out of scope" intent is invented: the ranking stays over the real intents and sums to
1, a message that fits none of them gets a flat ranking (top confidence near 1/number of intents), and Rasa's
FallbackClassifier threshold turns that into `nlu_fallback`. With two intents a flat ranking is 0.5 each, so the
threshold must sit above 0.5 to catch it; with a single intent nothing can fall back.

The temperature that calibrates confidences is fitted on the held-out slice (in-scope and out-of-scope examples
alike) by minimising the same intent loss, so it cannot sharpen everything just because the slice is easy; with
fewer than MIN_CALIBRATION held-out examples it stays 1.
"""
from __future__ import annotations

import copy
import logging
import os
import random
import string
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from assistant.nlu.examples import Example, Span
from assistant.nlu.joint_model import JointNLU, Word, word_tags, words_of

logger = logging.getLogger(__name__)

IGNORE = -100  # tag label of tokens that are not the first piece of a word
NO_INTENT = -1  # intent label of out-of-scope examples
MIN_OUTLIERS = 32  # generated outliers even for tiny data sets, so the flat-ranking target is actually learnt
MIN_CALIBRATION = 50  # held-out examples needed to fit a temperature; one fitted on fewer is noise
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass
class TrainingConfig:
    base_model: str | None = None  # a local Hugging Face checkpoint folder; None: the bundled all-MiniLM-L6-v2
    epochs: int = 20  # the most; early stopping usually ends sooner
    # Updates the learning-rate schedule may span: on a large data set fewer epochs than `epochs`, so the rate has
    # decayed by the time early stopping picks the best epoch, instead of the best weights being ones trained at
    # near-peak rate (SNIPS, 405 updates an epoch: best dev epoch 6 of a 20-epoch schedule, entity F1 94.9; with
    # the schedule over 8 epochs, 95.3). Small data (this project's, ~30 updates an epoch) keeps all `epochs`.
    # 0: no budget.
    max_steps: int = 3000
    batch_size: int = 32
    learning_rate: float = 5e-5  # encoder
    head_learning_rate: float = 1e-3  # the freshly initialised heads learn faster
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    max_length: int = 64  # tokens; longer messages are cut
    dropout: float = 0.1
    seed: int = 42
    patience: int = 3  # epochs without improvement on the held-out slice before stopping
    min_delta: float = 0.002  # a smaller gain in held-out score does not count as improvement (patience runs on)
    validation_fraction: float = 0.1  # held out per intent; 0 trains on everything for all epochs, temperature 1
    intent_loss_weight: float = 1.0
    entity_loss_weight: float = 1.0
    outlier_fraction: float = 0.1  # generated out-of-scope examples per training example; 0 turns them off
    outlier_loss_weight: float = 0.5
    device: str | None = None  # None: cuda when available, else cpu
    progress: bool = True


@dataclass
class TrainingReport:
    epochs_run: int
    best_epoch: int  # 0 when nothing was held out (the last epoch's weights are kept)
    validation: dict[str, float] = field(default_factory=dict)  # held-out metrics of the kept weights
    temperature: float = 1.0
    train_examples: int = 0  # after holding out, generated outliers included
    seconds: float = 0.0

    @property
    def examples_per_second(self) -> float:
        """End to end: loading, held-out evaluation and calibration count against it."""
        return self.train_examples * self.epochs_run / self.seconds if self.seconds else 0.0


@dataclass
class _Encoded:
    """Token ids, per-token tag labels and intent labels, ready to be cut into padded batches."""

    input_ids: list[list[int]]
    tag_labels: list[list[int]]
    intents: list[int]

    def batch(self, indices: Sequence[int], pad_id: int, device: str) -> dict[str, torch.Tensor]:
        rows = [self.input_ids[i] for i in indices]
        width = max(len(row) for row in rows)

        def padded(values: list[list[int]], fill: int) -> torch.Tensor:
            return torch.tensor([value + [fill] * (width - len(value)) for value in values], device=device)

        return {"input_ids": padded(rows, pad_id),
                "attention_mask": padded([[1] * len(row) for row in rows], 0),
                "tag_labels": padded([self.tag_labels[i] for i in indices], IGNORE),
                "intents": torch.tensor([self.intents[i] for i in indices], device=device)}


def train_joint(examples: Sequence[Example], config: TrainingConfig | None = None) -> tuple[JointNLU, TrainingReport]:
    """Fine-tune the encoder and both heads on `examples`; returns the calibrated model and what happened."""
    config = config or TrainingConfig()
    started = time.perf_counter()
    with _deterministic(config.seed):
        intents = sorted({e.intent for e in examples if e.intent is not None})
        if not intents:
            raise ValueError("no example has an intent: nothing to learn")
        entity_types = sorted({span.entity for e in examples for span in e.entities})
        model = JointNLU.from_base(config.base_model, intents, entity_types, max_length=config.max_length,
                                   dropout=config.dropout, device=config.device)
        outliers = synthetic_outliers(_outlier_count(len(examples), config.outlier_fraction), config.seed,
                                      _whole_words(model))
        train, held_out = split_held_out([*examples, *outliers], config.validation_fraction, config.seed)
        held = _encode(model, held_out) if held_out else None
        report = _fit(model, _encode(model, train), held_out, held, config)
        if held is not None and len(held_out) >= MIN_CALIBRATION:
            model.temperature = fit_temperature(_held_out_logits(model, held, config.batch_size),
                                                torch.tensor(held.intents), config.outlier_loss_weight)
    report.temperature = model.temperature
    report.train_examples = len(train)
    report.seconds = time.perf_counter() - started
    logger.info("Trained in %.1f s: %d epochs, best %d, held-out %s, temperature %.3f", report.seconds,
                report.epochs_run, report.best_epoch, report.validation, model.temperature)
    return model, report


@contextmanager
def _deterministic(seed: int) -> Iterator[None]:
    """Seed every generator and ask torch for deterministic kernels, restoring torch's setting afterwards."""
    was_enabled = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # what deterministic cuBLAS needs on a GPU
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was_enabled, warn_only=was_warn_only)


def _outlier_count(examples: int, fraction: float) -> int:
    return max(MIN_OUTLIERS, round(examples * fraction)) if fraction > 0 else 0


def _whole_words(model: JointNLU) -> list[str]:
    """Plain lower-case words from the tokenizer's vocabulary, the raw material of word salads."""
    return sorted(token for token in model.tokenizer.get_vocab()
                  if len(token) >= 3 and token.isascii() and token.isalpha() and token.islower())


def synthetic_outliers(count: int, seed: int, words: Sequence[str]) -> list[Example]:
    """Out-of-scope stand-ins, in turn: random letters ("qzt wexlo"), keyboard mashing ("asdfh jkjl") and salads of
    random real words ("orbital petitions latvia")."""
    rng = random.Random(seed)

    def token(kind: int) -> str:
        if kind == 2 and words:
            return rng.choice(words)
        letters = string.ascii_lowercase if kind == 0 else rng.choice(_KEYBOARD_ROWS)
        return "".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))

    return [Example(" ".join(token(n % 3) for _ in range(rng.randint(1, 5))), None) for n in range(count)]


def split_held_out(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Hold out `fraction` of each intent (out-of-scope counts as one); intents with one example stay in training."""
    by_intent: dict[str | None, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    held_out: list[Example] = []
    for intent in sorted(by_intent, key=lambda name: (name is None, name or "")):
        group = list(by_intent[intent])
        rng.shuffle(group)
        count = min(round(len(group) * fraction), len(group) - 1)
        held_out += group[:count]
        train += group[count:]
    return train, held_out


def _encode(model: JointNLU, examples: Sequence[Example]) -> _Encoded:
    encoding = model.encode([e.text for e in examples], padding=False)
    tag_index = {tag: n for n, tag in enumerate(model.tags)}
    intent_index = {intent: n for n, intent in enumerate(model.intents)}
    return _Encoded(input_ids=list(encoding["input_ids"]),
                    tag_labels=[_tag_labels(e.entities, words_of(encoding, i), len(encoding["input_ids"][i]),
                                            tag_index) for i, e in enumerate(examples)],
                    intents=[NO_INTENT if e.intent is None else intent_index[e.intent] for e in examples])


def _tag_labels(entities: Sequence[Span], words: Sequence[Word], length: int, tag_index: dict[str, int]) -> list[int]:
    """Each word's BIO label on its first piece; every other token is ignored by the loss."""
    labels = [IGNORE] * length
    for word, tag in zip(words, word_tags(entities, words)):
        labels[word.token] = tag_index[tag]
    return labels


def _loss(model: JointNLU, batch: dict[str, torch.Tensor], config: TrainingConfig) -> torch.Tensor:
    """The weighted sum of the intent and the tagging loss."""
    intent_logits, tag_logits = model.module(batch["input_ids"], batch["attention_mask"])
    tag_loss = (F.cross_entropy(tag_logits.flatten(0, 1), batch["tag_labels"].flatten(), ignore_index=IGNORE)
                if (batch["tag_labels"] != IGNORE).any() else tag_logits.sum() * 0.0)
    return (config.intent_loss_weight * intent_loss(intent_logits, batch["intents"], config.outlier_loss_weight)
            + config.entity_loss_weight * tag_loss)


def intent_loss(logits: torch.Tensor, intents: torch.Tensor, outlier_weight: float) -> torch.Tensor:
    """Cross-entropy to the label for in-scope rows, plus `outlier_weight` times the cross-entropy to the uniform
    distribution for out-of-scope rows, each averaged over its own rows (as outlier exposure weighs them)."""
    log_probs = logits.float().log_softmax(dim=-1)
    in_scope = intents != NO_INTENT
    loss = log_probs.new_zeros(())
    if in_scope.any():
        loss = loss - log_probs[in_scope].gather(1, intents[in_scope].unsqueeze(1)).mean()
    if not in_scope.all():
        loss = loss - outlier_weight * log_probs[~in_scope].mean()
    return loss


def _fit(model: JointNLU, data: _Encoded, held_out: list[Example], held: _Encoded | None,
         config: TrainingConfig) -> TrainingReport:
    """The epoch loop with early stopping on the held-out slice; leaves the best weights in the model."""
    steps_per_epoch = -(-len(data.intents) // config.batch_size)
    epochs = scheduled_epochs(steps_per_epoch, config)
    total_steps = steps_per_epoch * epochs
    optimizer = _optimizer(model, config)
    schedule = get_linear_schedule_with_warmup(optimizer, round(config.warmup_fraction * total_steps), total_steps)
    order = torch.Generator().manual_seed(config.seed)
    report = TrainingReport(epochs_run=0, best_epoch=0)
    best_score: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    improved = 0  # the last epoch whose score beat every earlier one by more than min_delta
    lengths = [len(row) for row in data.input_ids]
    with tqdm(total=total_steps, disable=not config.progress, desc="joint NLU") as bar:
        for epoch in range(1, epochs + 1):
            model.module.train()
            for indices in epoch_batches(lengths, config.batch_size, order):
                loss = _loss(model, data.batch(indices, model.tokenizer.pad_token_id, model.device), config)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                bar.update()
                bar.set_postfix(epoch=epoch, loss=f"{loss.item():.4f}")
            report.epochs_run = epoch
            if held is None:
                continue
            metrics = _evaluate(model, held_out, held, config)
            score = (metrics["score"], -metrics["loss"])
            logger.info("epoch %d: %s", epoch, metrics)
            if best_score is None or score[0] > best_score[0] + config.min_delta:
                improved = epoch
            if best_score is None or score > best_score:
                best_score, report.best_epoch, report.validation = score, epoch, metrics
                best_state = copy.deepcopy(model.module.state_dict())
            if epoch - improved >= config.patience:
                break
    if best_state is not None:
        model.module.load_state_dict(best_state)
    model.module.eval()
    return report


BUCKET_BATCHES = 16  # batches drawn together and cut by length


def epoch_batches(lengths: Sequence[int], size: int, generator: torch.Generator) -> list[list[int]]:
    """One epoch's batches of example indices: a random order cut into pools of BUCKET_BATCHES batches, each pool
    sorted by length before it is cut into batches, and the batches shuffled. A batch is padded to its longest
    message: random batches of this project's messages (7.5 tokens on average, up to 28) hold about twice their
    real tokens, these about 1.14 times, and a CPU spends its time on tokens, padding included."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    pool = size * BUCKET_BATCHES
    batches = []
    for first in range(0, len(order), pool):
        chunk = sorted(order[first:first + pool], key=lambda i: lengths[i])
        batches += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def scheduled_epochs(steps_per_epoch: int, config: TrainingConfig) -> int:
    """Whole epochs the schedule spans: `epochs`, or fewer when they would pass the `max_steps` budget."""
    if config.max_steps <= 0:
        return config.epochs
    return max(1, min(config.epochs, -(-config.max_steps // steps_per_epoch)))


def _optimizer(model: JointNLU, config: TrainingConfig) -> torch.optim.Optimizer:
    """AdamW with the heads at their own learning rate and no weight decay on biases and norms (1-d tensors)."""
    named = list(model.module.named_parameters())
    groups = []
    for in_encoder, lr in ((True, config.learning_rate), (False, config.head_learning_rate)):
        params = [p for name, p in named if name.startswith("encoder.") == in_encoder]
        groups += [{"params": [p for p in params if p.ndim > 1], "lr": lr, "weight_decay": config.weight_decay},
                   {"params": [p for p in params if p.ndim <= 1], "lr": lr, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, fused=True)  # fused: several times faster than the per-tensor loop on CPU


def _batches(data: _Encoded, model: JointNLU, size: int) -> Iterator[dict[str, torch.Tensor]]:
    for first in range(0, len(data.intents), size):
        yield data.batch(range(first, min(first + size, len(data.intents))), model.tokenizer.pad_token_id,
                         model.device)


def _evaluate(model: JointNLU, examples: Sequence[Example], data: _Encoded, config: TrainingConfig) -> dict[str, float]:
    """Held-out loss, intent accuracy (in-scope examples), exact-span entity F1, and their mean as the score."""
    model.module.eval()
    with torch.inference_mode():
        losses = [(_loss(model, batch, config).item(), len(batch["intents"]))
                  for batch in _batches(data, model, config.batch_size)]
    predictions = model.predict([e.text for e in examples], batch_size=config.batch_size)
    metrics = {"loss": sum(loss * n for loss, n in losses) / len(examples)}
    in_scope = [(e, p) for e, p in zip(examples, predictions) if e.intent is not None]
    if in_scope:
        metrics["intent_accuracy"] = sum(e.intent == p.intent for e, p in in_scope) / len(in_scope)
    gold = {(n, s.start, s.end, s.entity) for n, e in enumerate(examples) for s in e.entities}
    found = {(n, s.start, s.end, s.entity) for n, p in enumerate(predictions) for s in p.entities}
    if gold or found:
        metrics["entity_f1"] = 2 * len(gold & found) / (len(gold) + len(found))
    parts = [metrics[key] for key in ("intent_accuracy", "entity_f1") if key in metrics]
    metrics["score"] = sum(parts) / len(parts) if parts else 0.0
    return metrics


def fit_temperature(logits: torch.Tensor, intents: torch.Tensor, outlier_weight: float) -> float:
    """The single scalar T that minimises the intent loss of softmax(logits / T) (LBFGS over log T)."""
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = intent_loss(logits / log_t.exp(), intents, outlier_weight)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def _held_out_logits(model: JointNLU, data: _Encoded, batch_size: int) -> torch.Tensor:
    with torch.inference_mode():
        logits = torch.cat([model.logits(batch)[0].float().cpu() for batch in _batches(data, model, batch_size)])
    return logits.clone()  # a normal tensor again, so autograd may use it
