"""Exact top-k over product embeddings at catalog scale, against what memory bandwidth allows.

Each query reads the whole (N, dim) float32 matrix once, so the floor on a query's time is N * dim * 4 bytes
divided by the device's memory bandwidth; batching queries reuses each read for the whole batch. The index is the
product's own `EmbeddingIndex` (one vector-matrix product + top-k in torch) for single queries; batches
multiply a matrix of queries by chunks of products. Vectors are random unit vectors: the arithmetic and memory
traffic do not depend on what they mean.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from assistant.search.embeddings import EmbeddingIndex

CHUNK_ROWS = 65_536  # rows of a batch of queries scored at once: 64 queries by 64k products make 16 MiB of scores


@dataclass(frozen=True)
class TopKResult:
    device: str
    rows: int
    dim: int
    batch: int
    ms_per_batch: float
    bandwidth_gbs: float  # measured by a plain reduction over a tensor of the same size

    @property
    def queries_per_second(self) -> float:
        return self.batch * 1000 / self.ms_per_batch

    @property
    def bound_ms(self) -> float:
        """One full read of the matrix at the measured bandwidth: no exact scan can beat it."""
        return self.rows * self.dim * 4 / (self.bandwidth_gbs * 1e9) * 1000

    @property
    def effective_gbs(self) -> float:
        return self.rows * self.dim * 4 / (self.ms_per_batch / 1000) / 1e9


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, device: str, repeats: int) -> float:
    """Median milliseconds of `fn` after one warm-up call."""
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        _sync(device)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bandwidth(matrix: torch.Tensor, device: str, repeats: int = 5) -> float:
    """GB/s of reading `matrix` once (a sum touches every byte and does almost no arithmetic)."""
    ms = _timed(lambda: matrix.sum(), device, repeats)
    return matrix.numel() * matrix.element_size() / (ms / 1000) / 1e9


def _batched_top_k(vectors: torch.Tensor, queries: torch.Tensor, k: int) -> torch.Tensor:
    best = None
    for start in range(0, vectors.shape[0], CHUNK_ROWS):
        scores = queries @ vectors[start:start + CHUNK_ROWS].t()
        top = scores.topk(min(k, scores.shape[1]), dim=1)
        candidate = (top.values, top.indices + start)
        if best is None:
            best = candidate
        else:
            values = torch.cat([best[0], candidate[0]], dim=1)
            indices = torch.cat([best[1], candidate[1]], dim=1)
            keep = values.topk(min(k, values.shape[1]), dim=1)
            best = (keep.values, indices.gather(1, keep.indices))
    return best[1]


def measure(rows: int, dim: int, device: str, batches: tuple[int, ...] = (1, 64), k: int = 100,
            repeats: int = 5, seed: int = 0) -> list[TopKResult]:
    generator = np.random.default_rng(seed)
    vectors = generator.standard_normal((rows, dim), dtype=np.float32)
    index = EmbeddingIndex(np.arange(1, rows + 1), vectors, np.ones(rows, dtype=bool), device)
    del vectors
    speed = bandwidth(index.vectors, device, repeats)
    results = []
    for batch in batches:
        queries = generator.standard_normal((batch, dim), dtype=np.float32)
        if batch == 1:
            ms = _timed(lambda: index.top_k(queries[0], k), device, repeats)
        else:
            q = torch.nn.functional.normalize(torch.as_tensor(queries, device=device), dim=1)
            ms = _timed(lambda: _batched_top_k(index.vectors, q, k), device, repeats)
        results.append(TopKResult(device, rows, dim, batch, ms, speed))
    return results


def markdown_table(results: list[TopKResult]) -> str:
    lines = ["| device | products x dim | queries per batch | ms per batch | queries/s | effective GB/s | "
             "bandwidth GB/s | bound ms (one read) |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.device} | {r.rows:,} x {r.dim} | {r.batch} | {r.ms_per_batch:.1f} | "
                     f"{r.queries_per_second:,.0f} | {r.effective_gbs:.1f} | {r.bandwidth_gbs:.1f} | "
                     f"{r.bound_ms:.1f} |")
    return "\n".join(lines)
