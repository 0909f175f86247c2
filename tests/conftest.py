"""Shared fixtures: a small seeded demo catalog and a throwaway store database per test."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 600-product demo catalog built once per test session (same generator as the real one)."""
    from assistant.catalog.build import build_catalog

    path = tmp_path_factory.mktemp("catalog") / "catalog.db"
    build_catalog(path, count=600, seed=7, progress=False)
    return path


@pytest.fixture
def shop(demo_catalog: Path, tmp_path: Path):
    from assistant.dialogue.shop import Shop

    return Shop(demo_catalog, tmp_path / "store.db", tmp_path / "recommender.pt")
