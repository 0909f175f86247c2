"""Rasa's own checks on the project: the training data validates, and the test stories pass end to end."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import MODEL, ROOT

pytestmark = pytest.mark.rasa
RASA = str(Path(sys.executable).parent / "rasa")


def _rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_training_data_validates():
    result = _rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_end_to_end_stories_pass(tmp_path: Path):
    assert MODEL.exists(), "no trained model: run `make test` (it trains first) or scripts/train.sh"
    result = _rasa("test", "core", "--model", str(MODEL), "--stories", "tests/test_stories.yml",
                   "--fail-on-prediction-errors", "--out", str(tmp_path / "results"), "--no-plot")
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, detail[-4000:] + result.stdout[-3000:] + result.stderr[-3000:]
