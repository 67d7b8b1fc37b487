"""Group commit: concurrent writes to one SQLite database share a transaction and its fsync.

SQLite has one writer at a time, and a durable commit costs a few fsyncs (milliseconds on most
disks), so writers that each commit alone are bounded by the disk, not by their own work. Here
concurrent writers of one process queue their work; whichever thread takes the leader lock runs
everything queued so far in **one** transaction — each piece inside its own savepoint, so a
piece that fails is rolled back alone and its caller gets its own error — and commits once.
Every caller returns (or raises) only after the commit that contains its work: an acknowledged
write is a committed write. If the transaction itself fails (``BEGIN``, a savepoint or the
``COMMIT``), nothing of the group is committed and every caller gets that error.

The leader runs each piece in its caller's ``contextvars`` context, so request-scoped state (the
active workspace) is the caller's, never the leader's.
"""

from __future__ import annotations

import contextvars
import threading

#: At most this many writes share one transaction (bounds the latency a leader adds).
MAX_GROUP = 64


class _Write:
    __slots__ = ("context", "work", "done", "result", "error")

    def __init__(self, work):
        self.context = contextvars.copy_context()
        self.work = work
        self.done = False
        self.result = None
        self.error = None

    def run(self, cursor):
        return self.context.run(self.work, cursor)


class GroupCommit:
    """Runs submitted writes in groups through ``run_group(writes)``.

    ``run_group`` executes each write's ``run(cursor)`` in one transaction, setting
    ``result``/``error`` on each, and raises if the transaction as a whole failed.
    """

    def __init__(self, run_group):
        self._run_group = run_group
        self._leader = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Write] = []

    def submit(self, work):
        """``work(cursor)``'s result once its transaction has committed, or its error."""
        write = _Write(work)
        with self._queue_lock:
            self._queue.append(write)
        while not write.done:
            with self._leader:
                if not write.done:
                    self._lead()
        if write.error is not None:
            raise write.error
        return write.result

    def _lead(self) -> None:
        with self._queue_lock:
            group = self._queue[:MAX_GROUP]
            del self._queue[:MAX_GROUP]
        if not group:
            return
        try:
            self._run_group(group)
        except BaseException as failure:
            for write in group:
                write.result, write.error = None, failure
            if not isinstance(failure, Exception):
                raise
        finally:
            for write in group:
                write.done = True
