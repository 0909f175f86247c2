"""A Redis lock store for Rasa whose every change to a conversation's lock is atomic across processes.

Rasa 3.6's `RedisLockStore` changes a lock by reading it, editing it in Python and writing it back. Two processes
that do this for the same conversation at the same moment both read the same lock: they can take the same ticket
(and both handle a message at once), or one can write back a ticket the other has just removed (and the next
message waits for a ticket nobody holds until it expires). `AtomicRedisLockStore` makes each change an optimistic
transaction (WATCH the key, read, MULTI/EXEC the write), retried when another process changed the lock in between.
The lock's format and its rules (ticket order, lifetime, expiry) are Rasa's own `TicketLock`, so it is a drop-in:

    lock_store:
      type: components.lock_store.AtomicRedisLockStore
      url: localhost   # and port, password, db, key_prefix, use_ssl, ... as for `type: redis`
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import WatchError

logger = logging.getLogger(__name__)

# Each failed attempt means another process changed this conversation's lock, so someone always makes progress;
# the bound only turns a pathological pile-up into a LockError instead of a hang.
MAX_ATTEMPTS = 200

T = TypeVar("T")
# What a change does: given the stored lock (None if there is none), return the lock to store (None deletes the
# key) and the caller's result.
Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket issue, finish, expiry sweep and cleanup are each one Redis transaction."""

    def __init__(self, *args: Any, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Take the same arguments as `RedisLockStore`, or the `endpoint_config` that Rasa passes to a lock store
        given by module path (`rasa.core.lock_store._load_from_module_name_in_endpoint_config`)."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(*args, **kwargs)

    def _change(self, conversation_id: Text, change: Change[T]) -> T:
        """Apply `change` to the stored lock atomically: if the key changes between our read and our write, the
        write is dropped by Redis and the change is redone on the new value."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock, result = change(TicketLock.from_dict(json.loads(stored)) if stored else None)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    logger.debug(f"Lock for conversation '{conversation_id}' changed meanwhile; retrying.")
        raise LockError(f"Lock for conversation '{conversation_id}' kept changing: gave up after {MAX_ATTEMPTS} tries.")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue the next ticket; no other process can be issued the same number meanwhile."""

        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket without dropping tickets that others add at the same time."""

        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def update_lock(self, conversation_id: Text) -> None:
        """Drop expired tickets (what a waiting message does between polls) without dropping new ones."""

        def sweep(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, sweep)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket and, if nobody else holds one, the lock: in one step, so a ticket issued just before
        the delete is never deleted with it (Rasa checks "someone waiting?" and deletes in two steps)."""

        def finish_and_drop_if_idle(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], bool]:
            if lock is None:
                return None, False
            lock.remove_ticket_for(ticket_number)
            return (lock, False) if lock.is_someone_waiting() else (None, True)

        self._log_deletion(conversation_id, self._change(conversation_id, finish_and_drop_if_idle))
