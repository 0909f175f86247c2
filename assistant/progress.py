"""One progress bar for the long batch jobs (catalog build, embeddings, recommender training), or none when a caller turns it off."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def progress_bar(enabled: bool, total: int, desc: str, unit: str = " products") -> Iterator[Any]:
    """A tqdm bar counting `unit`s, or None (callers skip `update` then); it disappears when done."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, desc=desc, mininterval=0.5, leave=False) as bar:
        yield bar
