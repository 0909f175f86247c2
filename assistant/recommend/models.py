"""Three scorers over the same item ids, so the benchmark and the product compare like with like.

Each maps a batch of histories (item-id lists, oldest first) to a score for every item, shape [batch, items + 1]
(column 0 is padding and never recommended):

- `Popularity`: how often each item was interacted with; the cold-start answer and the weakest baseline.
- `ItemKNN`: cosine similarity of items over who interacted with them, summed over the history; the classic
  "people who viewed this also viewed" and the source of complementary items.
- `SASRec`: a causal self-attention encoder over the sequence (Kang & McAuley, ICDM 2018), trained with full
  cross-entropy over the catalog (as in SASRec+, Klenitskiy & Vasilev, RecSys 2023), which converges in far
  fewer epochs than the original one-negative binary loss.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import torch
from torch import nn


class Scorer(Protocol):
    num_items: int

    def scores(self, histories: Sequence[Sequence[int]]) -> torch.Tensor: ...


def multi_hot(histories: Sequence[Sequence[int]], num_items: int, device: str = "cpu") -> torch.Tensor:
    """[batch, items + 1] with 1 where the history holds the item."""
    rows = [i for i, history in enumerate(histories) for _ in history]
    cols = [item for history in histories for item in history]
    hot = torch.zeros((len(histories), num_items + 1), device=device)
    if cols:
        hot[torch.as_tensor(rows, device=device), torch.as_tensor(cols, device=device)] = 1.0
    return hot


class Popularity:
    """Interaction counts; every shopper gets the same ranking."""

    def __init__(self, sequences: Sequence[Sequence[int]], num_items: int, weights: Sequence[float] | None = None
                 ) -> None:
        self.num_items = num_items
        counts = torch.zeros(num_items + 1)
        for sequence, weight in zip(sequences, weights or [1.0] * len(sequences)):
            counts.index_add_(0, torch.as_tensor(list(sequence), dtype=torch.int64),
                              torch.full((len(sequence),), float(weight)))
        counts[0] = 0.0
        self.counts = counts

    def scores(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        scores = self.counts.expand(len(histories), -1).clone()
        scores[:, 0] = float("-inf")
        return scores


class ItemKNN:
    """Item-item cosine over the shopper x item matrix, each item keeping its `neighbours` most similar items.

    Kept sparse: 12k items with 100 neighbours is 1.2M numbers, where the dense matrix would be 580 MB.
    """

    def __init__(self, sequences: Sequence[Sequence[int]], num_items: int, neighbours: int = 100,
                 shrink: float = 0.0) -> None:
        self.num_items = num_items
        with warnings.catch_warnings():  # torch calls its sparse formats beta; these are built valid here
            warnings.simplefilter("ignore", UserWarning)
            rows = torch.as_tensor([u for u, seq in enumerate(sequences) for _ in set(seq)], dtype=torch.int64)
            cols = torch.as_tensor([i for seq in sequences for i in set(seq)], dtype=torch.int64)
            shape = (len(sequences), num_items + 1)
            users = torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.ones(len(cols)), shape).coalesce()
            together = torch.sparse.mm(users.t().coalesce(), users).coalesce()  # co-occurrence counts
            left, right = together.indices()
            counts = together.values()
            diagonal = torch.zeros(num_items + 1).index_add_(0, cols, torch.ones(len(cols)))
            similarity = counts / (torch.sqrt(diagonal[left] * diagonal[right]) + shrink)
            keep = (left != right) & (left > 0) & (right > 0)
            left, right, similarity = left[keep], right[keep], similarity[keep]
            # the top `neighbours` of each row: sort by (row, -similarity), then rank within the row
            order = torch.argsort(similarity, descending=True, stable=True)
            order = order[torch.argsort(left[order], stable=True)]
            left, right, similarity = left[order], right[order], similarity[order]
            starts = torch.searchsorted(left, left, right=False)
            within = torch.arange(len(left)) - starts
            keep = within < neighbours
            indices, values = torch.stack([left[keep], right[keep]]), similarity[keep]
            size = (num_items + 1, num_items + 1)
            self.matrix = torch.sparse_coo_tensor(indices, values, size).coalesce().to_sparse_csr()
            self._transposed = torch.sparse_coo_tensor(indices.flip(0), values, size).coalesce().to_sparse_csr()

    def neighbours(self, item: int) -> list[tuple[int, float]]:
        """The items most often seen with `item`, best first."""
        start, end = self.matrix.crow_indices()[item:item + 2].tolist()
        cols = self.matrix.col_indices()[start:end]
        values = self.matrix.values()[start:end]
        order = torch.argsort(values, descending=True, stable=True)
        return list(zip(cols[order].tolist(), values[order].tolist()))

    def scores(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        hot = multi_hot(histories, self.num_items)
        scores = (self._transposed @ hot.t()).t()  # h S, computed as (S^T h^T)^T so the sparse side is on the left
        scores[:, 0] = float("-inf")
        return scores


@dataclass(frozen=True)
class SASRecConfig:
    dim: int = 64
    blocks: int = 2
    heads: int = 1
    max_len: int = 50
    dropout: float = 0.5  # high, as the paper found for sparse data such as Amazon Beauty


class SASRec(nn.Module):
    """Next-item model: item + position embeddings through causal pre-norm transformer blocks; the score of an
    item is the dot product of the last position's output with the item's (tied) embedding."""

    def __init__(self, num_items: int, config: SASRecConfig = SASRecConfig()) -> None:
        super().__init__()
        self.num_items = num_items
        self.config = config
        self.items = nn.Embedding(num_items + 1, config.dim, padding_idx=0)
        self.positions = nn.Embedding(config.max_len, config.dim)
        layer = nn.TransformerEncoderLayer(config.dim, config.heads, dim_feedforward=config.dim * 4,
                                           dropout=config.dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.dim)
        self.dropout = nn.Dropout(config.dropout)
        nn.init.normal_(self.items.weight, std=config.dim ** -0.5)
        with torch.no_grad():
            self.items.weight[0].zero_()

    @property
    def device(self) -> torch.device:
        return self.items.weight.device

    def hidden(self, sequences: torch.Tensor) -> torch.Tensor:
        """[batch, len, dim] for left-padded [batch, len] item ids; position t sees items 0..t only."""
        length = sequences.shape[1]
        padding = sequences == 0
        x = self.items(sequences) * self.config.dim ** 0.5 + self.positions.weight[-length:]
        x = self.dropout(x) * ~padding.unsqueeze(-1)
        blocked = torch.ones(length, length, dtype=torch.bool, device=sequences.device).triu(1)
        blocked = blocked | padding.unsqueeze(1)  # no attending to padding ...
        blocked = blocked & ~torch.eye(length, dtype=torch.bool, device=sequences.device)  # ... except itself
        mask = blocked.repeat_interleave(self.config.heads, dim=0)
        return self.norm(self.encoder(x, mask=mask))

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.items.weight.t()

    def pad(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        """The last max_len items of each history, left-padded with 0 to the longest of them."""
        length = max(1, min(self.config.max_len, max((len(h) for h in histories), default=1)))
        batch = torch.zeros((len(histories), length), dtype=torch.int64)
        for row, history in enumerate(histories):
            tail = list(history)[-length:]
            if tail:
                batch[row, length - len(tail):] = torch.as_tensor(tail)
        return batch.to(self.device)

    @torch.no_grad()
    def scores(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        was_training = self.training
        self.eval()
        scores = self.logits(self.hidden(self.pad(histories))[:, -1])
        self.train(was_training)
        scores[:, 0] = float("-inf")
        return scores

    def describe(self) -> dict:
        return {"num_items": self.num_items, **asdict(self.config)}

    @classmethod
    def from_description(cls, description: dict) -> SASRec:
        description = dict(description)
        num_items = description.pop("num_items")
        return cls(num_items, SASRecConfig(**description))
