"""Thumbs up/down on the bot's answers and recommendations, kept with the message they rate."""
from __future__ import annotations

import sqlite_utils

KINDS = ("answer", "recommendations")


def record(store: sqlite_utils.Database, conversation_id: str, rating: str, kind: str, about: str) -> bool:
    """Store one rating; False (nothing stored) for a rating or kind we don't know, e.g. a hand-typed payload."""
    if rating not in ("up", "down") or kind not in KINDS:
        return False
    with store.conn:
        store.execute("INSERT INTO feedback (conversation_id, rating, kind, about) VALUES (?, ?, ?, ?)",
                      [conversation_id, rating, kind, about[:2000]])
    return True
