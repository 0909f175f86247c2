"""Leave-one-out evaluation of next-item scorers, as the sequential-recommendation papers report it.

Each shopper's last item is the test target and the one before it the validation target; the model sees the
items before the target. Two protocols:

- full ranking: the target against every item, with the items already in the history masked out;
- sampled: the target against `negatives` items drawn uniformly from those the shopper never touched (the S3-Rec
  paper draws 99 with numpy seed 12345, and so do we; their exact draw is not published, so numbers differ a
  little from theirs).

Ties are broken in expectation (rank = items scored higher + half the other items scored the same), so a scorer
that gives many items one score (popularity) is neither flattered nor punished by the order of item ids.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from assistant.recommend.models import Scorer


@dataclass(frozen=True)
class Case:
    history: tuple[int, ...]
    target: int
    seen: frozenset[int]  # everything the shopper interacted with (sampled negatives avoid all of it)


def leave_one_out(sequences: Sequence[Sequence[int]]) -> tuple[list[list[int]], list[Case], list[Case]]:
    """Training sequences (all but the last two items), validation cases and test cases."""
    train, valid, test = [], [], []
    for sequence in sequences:
        if len(sequence) < 3:
            continue
        seen = frozenset(sequence)
        train.append(list(sequence[:-2]))
        valid.append(Case(tuple(sequence[:-2]), sequence[-2], seen))
        test.append(Case(tuple(sequence[:-1]), sequence[-1], seen))
    return train, valid, test


def _ranks(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based expected rank of each target within its row."""
    target_scores = scores.gather(1, targets.unsqueeze(1))
    higher = (scores > target_scores).sum(1).float()
    ties = (scores == target_scores).sum(1).float() - 1
    return higher + ties / 2


def full_ranks(scorer: Scorer, cases: Sequence[Case], batch_size: int = 512) -> np.ndarray:
    """Rank of each target among all items, history items masked."""
    ranks = []
    for start in range(0, len(cases), batch_size):
        batch = cases[start:start + batch_size]
        scores = scorer.scores([c.history for c in batch]).float().cpu()
        rows = torch.as_tensor([r for r, c in enumerate(batch) for _ in c.history], dtype=torch.int64)
        cols = torch.as_tensor([i for c in batch for i in c.history], dtype=torch.int64)
        targets = torch.as_tensor([c.target for c in batch], dtype=torch.int64)
        keep = scores.gather(1, targets.unsqueeze(1)).clone()
        scores[rows, cols] = float("-inf")
        scores[:, 0] = float("-inf")
        scores.scatter_(1, targets.unsqueeze(1), keep)  # a target repeated from the history stays rankable
        ranks.append(_ranks(scores, targets))
    return torch.cat(ranks).numpy() if ranks else np.zeros(0)


def sample_negatives(cases: Sequence[Case], num_items: int, negatives: int = 99, seed: int = 12345) -> np.ndarray:
    """[cases, negatives] item ids, uniform over items the shopper never interacted with."""
    rng = np.random.RandomState(seed)
    drawn = np.zeros((len(cases), negatives), dtype=np.int64)
    for row, case in enumerate(cases):
        picked: list[int] = []
        taken = set(case.seen)
        while len(picked) < negatives:
            item = int(rng.randint(1, num_items + 1))
            if item not in taken:
                taken.add(item)
                picked.append(item)
        drawn[row] = picked
    return drawn


def sampled_ranks(scorer: Scorer, cases: Sequence[Case], negatives: np.ndarray, batch_size: int = 512
                  ) -> np.ndarray:
    """Rank of each target among itself and its sampled negatives."""
    ranks = []
    for start in range(0, len(cases), batch_size):
        batch = cases[start:start + batch_size]
        scores = scorer.scores([c.history for c in batch]).float().cpu()
        candidates = torch.cat([torch.as_tensor([[c.target] for c in batch], dtype=torch.int64),
                                torch.as_tensor(negatives[start:start + len(batch)])], dim=1)
        ranks.append(_ranks(scores.gather(1, candidates), torch.zeros(len(batch), dtype=torch.int64)))
    return torch.cat(ranks).numpy() if ranks else np.zeros(0)


def metrics(ranks: np.ndarray, ks: Sequence[int] = (5, 10, 20)) -> dict[str, float]:
    """HR@k, NDCG@k (one relevant item: 1 / log2(rank + 2) inside the top k) and MRR."""
    if len(ranks) == 0:
        return {}
    result: dict[str, float] = {}
    for k in ks:
        hit = ranks < k
        result[f"HR@{k}"] = float(hit.mean())
        result[f"NDCG@{k}"] = float(np.where(hit, 1.0 / np.log2(ranks + 2), 0.0).mean())
    result["MRR"] = float((1.0 / (ranks + 1)).mean())
    return result


def ndcg_at(ranks: np.ndarray, k: int = 10) -> float:
    return float(np.where(ranks < k, 1.0 / np.log2(ranks + 2), 0.0).mean()) if len(ranks) else 0.0


