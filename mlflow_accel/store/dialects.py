"""The SQL that differs per database: placeholders, identifier quoting, upserts, write locks.

Statements are written once, in SQLite's spelling (``?`` placeholders, ``"key"`` quoted), and
``Dialect.sql`` rewrites them for the connected driver. ``Dialect`` also owns the statements
that have no common spelling: skipping duplicate metric rows, upserting tags and
``latest_metrics``, and how a write transaction takes its lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED = ("sqlite", "postgresql", "mysql")

_LATEST_COLUMNS = '("key", value, timestamp, step, is_nan, run_uuid)'
_ROW6 = "(?, ?, ?, ?, ?, ?)"


@dataclass
class Dialect:
    """SQL for one database engine; build with :func:`for_engine`."""

    name: str
    format_params: bool
    _cache: dict = field(default_factory=dict, repr=False)

    def sql(self, statement: str) -> str:
        """``statement`` in this driver's placeholder and quoting style (memoised)."""
        prepared = self._cache.get(statement)
        if prepared is None:
            prepared = statement
            if self.name == "mysql":
                prepared = prepared.replace('"key"', "`key`")
            if self.format_params:
                prepared = prepared.replace("?", "%s")
            self._cache[statement] = prepared
        return prepared

    def placeholders(self, count: int) -> str:
        """``?, ?, …`` for an ``IN`` list of ``count`` values (before :meth:`sql`)."""
        return ", ".join("?" * count)

    @property
    def offset_without_limit(self) -> str:
        """`` OFFSET ?`` with whatever "no limit" this database needs before it."""
        return {
            "sqlite": " LIMIT -1 OFFSET ?",
            "mysql": " LIMIT 18446744073709551615 OFFSET ?",
        }.get(self.name, " OFFSET ?")

    @property
    def begin_write(self) -> str | None:
        """Statement that opens a write transaction holding the write lock up front.

        SQLite: ``BEGIN IMMEDIATE``, so concurrent writers queue on the busy timeout instead of
        failing with "database is locked" when a read lock cannot be upgraded.
        """
        return "BEGIN IMMEDIATE" if self.name == "sqlite" else None

    @property
    def insert_metrics(self) -> str:
        """Insert metric rows, skipping any already stored (same primary key)."""
        insert = f"INSERT INTO metrics {_LATEST_COLUMNS} VALUES {_ROW6}"
        if self.name == "mysql":
            return self.sql(insert + " ON DUPLICATE KEY UPDATE run_uuid = run_uuid")
        return self.sql(insert + " ON CONFLICT DO NOTHING")

    @property
    def upsert_tags(self) -> str:
        insert = 'INSERT INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)'
        if self.name == "mysql":
            return self.sql(insert + " ON DUPLICATE KEY UPDATE value = VALUES(value)")
        return self.sql(insert + ' ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value')

    @property
    def upserts_latest_metrics(self) -> bool:
        """Whether :attr:`upsert_latest_metrics` exists; else the store locks and compares."""
        return self.name != "mysql"

    @property
    def upsert_latest_metrics(self) -> str:
        """Insert a ``latest_metrics`` candidate, or overwrite the stored row where the candidate
        is greater by (step, timestamp, value) — MLflow's rule, applied inside the database."""
        return self.sql(
            f"INSERT INTO latest_metrics {_LATEST_COLUMNS} VALUES {_ROW6} "
            'ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value, '
            "timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan "
            "WHERE (excluded.step, excluded.timestamp, excluded.value) > "
            "(latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)"
        )

    def lock_latest_metrics(self, count: int) -> str:
        """Read and lock a run's ``latest_metrics`` rows for ``count`` keys, in key order."""
        return self.sql(
            'SELECT "key", value, timestamp, step FROM latest_metrics '
            f'WHERE run_uuid = ? AND "key" IN ({self.placeholders(count)}) '
            'ORDER BY "key" FOR UPDATE'
        )

    @property
    def insert_latest_metric(self) -> str:
        return self.sql(f"INSERT INTO latest_metrics {_LATEST_COLUMNS} VALUES {_ROW6}")

    @property
    def update_latest_metric(self) -> str:
        return self.sql(
            "UPDATE latest_metrics SET value = ?, timestamp = ?, step = ?, is_nan = ? "
            'WHERE "key" = ? AND run_uuid = ?'
        )


def for_engine(engine) -> Dialect | None:
    """The :class:`Dialect` for a SQLAlchemy engine, or ``None`` if we do not accelerate it."""
    name = engine.dialect.name
    if name == "mariadb":
        name = "mysql"
    if name not in SUPPORTED:
        return None
    return Dialect(name=name, format_params=engine.dialect.paramstyle in ("format", "pyformat"))
