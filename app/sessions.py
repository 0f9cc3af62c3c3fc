"""Closed pages let go of their files once Streamlit stops keeping their sessions.

Each browser tab has a Streamlit session, and each session owns an asyncio event loop: two
sockets and an epoll descriptor, 3 open files. When a tab closes, Streamlit keeps its session
for ``server.disconnectedSessionTTL`` seconds (120 by default) so that a reconnect finds it; but
it removes an expired session only when its session store is next written or counted (the next
visitor), and then without shutting it down, so the loop's files stay open until the garbage
collector gets to them. A quiet hour after a busy one kept every closed tab's files: 126 open
files four minutes after the last visitor, and the default limit is 1,024.

``reap_closed_sessions`` runs beside the server (``main.warm_up``): every ``REAP_EVERY`` seconds
it takes the expired sessions out of the store and shuts each down, as Streamlit shuts down a
session whose tab closed for good, which closes its loop. Sessions within their TTL are left
alone, so a reconnecting tab keeps its profile. It reads Streamlit's session store through
attributes that are not public API (checked by tests/test_soak.py's soak run with Streamlit's
defaults); if they are not there, it says so in the log once and does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

REAP_EVERY = 10.0  # seconds: a closed tab's files go at most this long after its TTL

_LOGGER = logging.getLogger(__name__)


def _session_store() -> tuple[Any, Any] | None:
    """(the lock Streamlit holds around its session store, the store's TTL cache), or None."""
    try:
        from streamlit import runtime

        manager = runtime.get_instance()._session_mgr
        return manager._storage_lock, manager._session_storage._cache
    except (AttributeError, RuntimeError):
        return None


def reap_expired_sessions() -> int:
    """Shut down the sessions whose TTL has passed; how many (-1: the store is not found)."""
    store = _session_store()
    if store is None or not hasattr(store[1], "expire"):
        return -1
    lock, cache = store
    with lock:
        expired = cache.expire()
    for _, info in expired:
        info.session.shutdown()  # closes the session's event loop and its 3 files
    return len(expired)


async def reap_closed_sessions(every: float = REAP_EVERY) -> None:
    """Reap expired sessions every ``every`` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            if reap_expired_sessions() < 0:
                _LOGGER.warning("cannot reach Streamlit's session store: closed sessions stay")
                return
        except Exception:  # a reaper must never take the server down
            _LOGGER.exception("reaping closed sessions failed")
