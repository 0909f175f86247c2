"""Shared fixtures: a small seeded demo catalog, a throwaway store database per test, and one pair of real
servers for every test module that only talks to them (each start costs the CI most of a minute)."""
from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def live_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The real Rasa and action servers on the trained model, the real catalog and their own store, shared by the
    modules that talk to them over their channels; each module keeps to its own conversation ids."""
    from tests.servers import running_assistant

    with running_assistant(tmp_path_factory.mktemp("live")) as assistant:
        yield assistant
