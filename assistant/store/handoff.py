"""Human handoff tickets: opened with the transcript, released by an agent; support hours decide what we promise.

In support hours the bot stays quiet in a conversation with an open ticket (the Rasa action pauses it; the release
command, or the shopper saying "never mind", resumes it), so the shopper and the agent are not talked over.
Outside them the agent answers by email and the bot keeps serving the chat.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.store.orders import iso, now

STORE_TIME = ZoneInfo("America/New_York")
OPENS, CLOSES = 9, 18  # Monday-Friday, Eastern Time (STORE.md)
SUPPORT_HOURS = "Monday to Friday, 9 am to 6 pm Eastern Time"
SUPPORT_EMAIL = "support@harborlane.example"
REASONS = ("requested", "frustration", "fallbacks", "verification")
# The message metadata (channels.guarded sets it) that turns a handoff request into taking one back: the shopper
# said "never mind" while waiting for a person, and the ticket is closed as an agent's release would close it.
TAKEN_BACK = "cancel_handoff"


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: str
    reason: str
    transcript: list[dict]
    created_at: str
    status: str


def within_support_hours(at: datetime | None = None) -> bool:
    local = (at or now()).astimezone(STORE_TIME)
    return local.weekday() < 5 and OPENS <= local.hour < CLOSES


def what_happens_next(ticket_id: int, at: datetime | None = None) -> str:
    """The promise for this moment: an agent joins now, or replies by email within 1 business day."""
    if within_support_hours(at):
        return (f"I've opened ticket #{ticket_id} with our conversation so far, and an agent will join this chat "
                f"shortly (support hours: {SUPPORT_HOURS}). I'll stay quiet until they do.")
    return (f"Our team is offline right now (support hours: {SUPPORT_HOURS}). I've opened ticket #{ticket_id} with "
            f"our conversation so far; an agent will reply by email within 1 business day. You can also write to "
            f"{SUPPORT_EMAIL}. Meanwhile I'm still here for anything else.")


def open_ticket(store: sqlite_utils.Database, conversation_id: str, reason: str, transcript: list[dict]) -> int:
    """A new ticket, or the conversation's open one (asking twice must not queue the shopper twice)."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    with store.conn:
        row = store.execute("SELECT id FROM tickets WHERE conversation_id = ? AND status = 'open'",
                            [conversation_id]).fetchone()
        if row:
            return row[0]
        cursor = store.execute("INSERT INTO tickets (conversation_id, reason, transcript, created_at) "
                               "VALUES (?, ?, ?, ?)", [conversation_id, reason, json.dumps(transcript), iso(now())])
    return cursor.lastrowid


def open_tickets(store: sqlite_utils.Database) -> list[Ticket]:
    rows = store.execute("SELECT id, conversation_id, reason, transcript, created_at, status FROM tickets "
                         "WHERE status = 'open' ORDER BY id").fetchall()
    return [Ticket(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]


def release(store: sqlite_utils.Database, conversation_id: str) -> bool:
    """Close the conversation's open ticket; False when it had none."""
    with store.conn:
        cursor = store.execute("UPDATE tickets SET status = 'released', released_at = ? "
                               "WHERE conversation_id = ? AND status = 'open'", [iso(now()), conversation_id])
    return cursor.rowcount > 0
