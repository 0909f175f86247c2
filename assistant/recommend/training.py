"""Training the sequential recommender: seeded, early-stopped on held-out next items, saved with its item ids.

Every position of every training sequence predicts the item that follows it, scored against the whole catalog
with cross-entropy (no negative sampling: with a catalog this size the full softmax is affordable and learns
much faster). After each epoch the held-out next items are ranked in full; training stops when NDCG@10 has not
improved for `patience` epochs and the best epoch's weights are kept.
"""
from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F

from assistant.progress import progress_bar
from assistant.recommend.evaluation import Case, full_ranks, ndcg_at
from assistant.recommend.models import SASRec, SASRecConfig
from assistant.settings import torch_device

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitConfig:
    model: SASRecConfig = SASRecConfig()
    epochs: int = 200  # the most; early stopping ends sooner
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5
    negatives: int = 0  # 0: full softmax over the catalog; N: N uniform negatives shared by a batch (big catalogs)
    seed: int = 42
    device: str | None = None  # None: cuda when available
    progress: bool = True


@dataclass
class FitReport:
    epochs_run: int = 0
    best_epoch: int = 0
    best_ndcg10: float = 0.0  # on the validation cases, full ranking
    seconds: float = 0.0
    device: str = "cpu"
    history: list[float] = field(default_factory=list)  # validation NDCG@10 per epoch


def _pairs(sequences: Sequence[Sequence[int]], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded inputs and their next-item targets, one row per sequence of two or more items."""
    usable = [list(s)[-(max_len + 1):] for s in sequences if len(s) >= 2]
    inputs = torch.zeros((len(usable), max_len), dtype=torch.int64)
    targets = torch.zeros((len(usable), max_len), dtype=torch.int64)
    for row, sequence in enumerate(usable):
        n = len(sequence) - 1
        inputs[row, max_len - n:] = torch.as_tensor(sequence[:-1])
        targets[row, max_len - n:] = torch.as_tensor(sequence[1:])
    return inputs, targets


def _batches(lengths: torch.Tensor, size: int, order: torch.Generator) -> list[torch.Tensor]:
    """Rows in random batches of similar length, in random order: most shoppers have a handful of items, so
    cutting each batch to its longest sequence saves most of the work padding to max_len would cost."""
    shuffled = torch.randperm(len(lengths), generator=order)
    by_length = shuffled[torch.argsort(lengths[shuffled], stable=True)]
    batches = list(by_length.split(size))
    return [batches[i] for i in torch.randperm(len(batches), generator=order).tolist()]


def _loss(model: SASRec, hidden: torch.Tensor, targets: torch.Tensor, negatives: int,
          generator: torch.Generator) -> torch.Tensor:
    """Cross-entropy of each next item against the whole catalog, or against `negatives` sampled items (a
    sampled softmax: the sampled set is shared by the batch, and a sample that happens to be the target is
    masked so it cannot count against itself)."""
    if not negatives or negatives >= model.num_items:
        return F.cross_entropy(model.logits(hidden)[:, 1:], targets - 1)
    sampled = torch.randint(1, model.num_items + 1, (negatives,), generator=generator).to(hidden.device)
    positive = (hidden * model.items(targets)).sum(-1, keepdim=True)
    negative = (hidden @ model.items(sampled).t()).masked_fill(sampled.unsqueeze(0) == targets.unsqueeze(1),
                                                                float("-inf"))
    logits = torch.cat([positive, negative], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.int64, device=hidden.device))


def fit(sequences: Sequence[Sequence[int]], num_items: int, valid: Sequence[Case],
        config: FitConfig = FitConfig()) -> tuple[SASRec, FitReport]:
    """Train a SASRec on `sequences` (item ids 1..num_items, oldest first); `valid` drives early stopping (with
    no validation cases every epoch runs and the last weights are kept)."""
    device = torch_device(config.device)
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    model = SASRec(num_items, config.model).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    inputs, targets = _pairs(sequences, config.model.max_len)
    lengths = (inputs > 0).sum(1)
    order = torch.Generator().manual_seed(config.seed)
    report = FitReport(device=device)
    best_state, waited = copy.deepcopy(model.state_dict()), 0
    with progress_bar(config.progress, config.epochs, "Training recommender", unit=" epochs") as bar:
        for epoch in range(1, config.epochs + 1):
            model.train()
            for batch in _batches(lengths, config.batch_size, order):
                longest = int(lengths[batch].max())
                x, y = inputs[batch, -longest:].to(device), targets[batch, -longest:].to(device)
                loss = _loss(model, model.hidden(x)[y > 0], y[y > 0], config.negatives, order)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            report.epochs_run = epoch
            score = ndcg_at(full_ranks(model, valid)) if valid else 0.0
            report.history.append(score)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", ndcg10=f"{score:.4f}")
            logger.info("epoch %d: loss %.4f, validation NDCG@10 %.4f", epoch, loss.item(), score)
            if not valid or score > report.best_ndcg10:
                best_state, report.best_epoch, report.best_ndcg10, waited = \
                    copy.deepcopy(model.state_dict()), epoch, score, 0
            else:
                waited += 1
                if waited >= config.patience:
                    break
    model.load_state_dict(best_state)
    model.eval()
    report.seconds = time.perf_counter() - started
    return model, report


def save(model: SASRec, path: Path, **extra: object) -> None:
    """Weights, shape and whatever the caller needs to use them again (e.g. the item id map), in one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"model": model.describe(), "state": model.state_dict(), **extra}, tmp)
    tmp.replace(path)


def read_extra(path: Path) -> dict:
    """The fields saved beside the weights (cheap enough to check staleness without building the model)."""
    saved = torch.load(path, map_location="cpu", weights_only=False)
    return {k: v for k, v in saved.items() if k not in ("model", "state")}


def load(path: Path, device: str | None = None) -> tuple[SASRec, dict]:
    """The saved model on `device` (default: cuda when available) and the extra fields saved with it."""
    device = torch_device(device)
    saved = torch.load(path, map_location=device, weights_only=False)
    model = SASRec.from_description(saved.pop("model")).to(device)
    model.load_state_dict(saved.pop("state"))
    model.eval()
    return model, saved
