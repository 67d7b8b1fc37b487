"""Servers shared by the whole test session: one per configuration, booted once (``ServerPool``).

A boot (MLflow's import, uvicorn's workers: 10-18 s) is most of what a server test costs, so the
modules that can share a server ask the session's ``server_pool`` fixture (tests/conftest.py)
for it. ``get(*keys)`` boots the missing ones side by side, each on a fresh database of its
dialect, and every later ask of the same :class:`ServerKey` gets the same running server; tests
sharing one keep their data apart by their own names (a module that compares whole databases
boots its own servers instead). A server a test killed boots again, on the same database, at the
next ask.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.support import servers
from tests.support.databases import FreshDatabases


@dataclass(frozen=True)
class ServerKey:
    kind: str  # "stock" or "accel"
    dialect: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    workers: int = 1

    @classmethod
    def of(cls, kind: str, dialect: str, *args: str, env: dict | None = None, **rest):
        return cls(kind, dialect, args, tuple(sorted((env or {}).items())), **rest)


@dataclass
class PooledServer:
    server: servers.RunningServer
    uri: str  # the database it serves


class ServerPool:
    def __init__(self, db_servers, root: Path):
        self.db_servers = db_servers
        self.root = root
        self.databases: dict[str, FreshDatabases] = {}
        self.running: dict[ServerKey, PooledServer] = {}

    def get(self, *keys: ServerKey) -> list[PooledServer]:
        """The servers of ``keys``, in order; those not running yet boot side by side."""
        missing = {key: self._database(key) for key in keys if not self._alive(key)}
        if missing:
            with ThreadPoolExecutor(len(missing)) as pool:
                futures = {key: pool.submit(self._boot, key, uri) for key, uri in missing.items()}
            failures = [f.exception() for f in futures.values() if f.exception()]
            for key, future in futures.items():
                if not future.exception():
                    self.running[key] = PooledServer(future.result(), missing[key])
            if failures:
                raise failures[0]
        return [self.running[key] for key in keys]

    def close(self) -> None:
        if self.running:  # a stop waits for the graceful shutdown: all at once
            with ThreadPoolExecutor(len(self.running)) as pool:
                list(pool.map(lambda pooled: pooled.server.stop(), self.running.values()))
        for databases in self.databases.values():
            databases.close()

    def _alive(self, key: ServerKey) -> bool:
        pooled = self.running.get(key)
        return pooled is not None and pooled.server.process.poll() is None

    def _database(self, key: ServerKey) -> str:
        """A fresh database for ``key``; a server a test killed boots again on its own."""
        if key in self.running:
            return self.running[key].uri
        if key.dialect not in self.databases:
            self.databases[key.dialect] = FreshDatabases(self.db_servers.get(key.dialect))
        return self.databases[key.dialect].new()

    def _boot(self, key: ServerKey, uri: str) -> servers.RunningServer:
        name = f"{key.kind}-{key.dialect}-{abs(hash(key))}"
        return servers.start(
            key.kind, uri, self.root / name, *key.args, env=dict(key.env), workers=key.workers
        )
