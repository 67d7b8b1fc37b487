"""The SQL that differs per database: placeholders, identifier quoting, upserts, write locks.

Statements are written once, in SQLite's spelling (``?`` placeholders, ``"key"`` quoted), and
``Dialect.sql`` rewrites them for the connected driver. Row-writing statements are templates
with ``{values}`` where the row tuples go; ``Dialect.write_rows`` sends many rows in the
cheapest way the driver has (one multi-row statement on PostgreSQL, where psycopg's
``executemany`` costs a round of Python per row). ``Dialect`` also owns the statements that
have no common spelling: skipping duplicate metric rows, upserting tags and ``latest_metrics``,
and how a write transaction takes its lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED = ("sqlite", "postgresql", "mysql")

_LATEST_COLUMNS = '("key", value, timestamp, step, is_nan, run_uuid)'
# Rows per statement on PostgreSQL: 6 columns x 1000 rows stays far below its 65535 parameters.
_ROWS_PER_STATEMENT = 1000

INSERT_PARAMS = 'INSERT INTO params ("key", value, run_uuid) VALUES {values}'
INSERT_TAGS = 'INSERT INTO tags ("key", value, run_uuid) VALUES {values}'
INSERT_EXPERIMENT_TAGS = 'INSERT INTO experiment_tags ("key", value, experiment_id) VALUES {values}'


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

    def write_rows(self, cursor, template: str, rows) -> None:
        """Execute ``template`` (``… VALUES {values} …``) for every tuple of ``rows``."""
        if not rows:
            return
        width = len(rows[0])
        row_marks = f"({self.placeholders(width)})"
        if self.name != "postgresql":
            cursor.executemany(self.sql(template.format(values=row_marks)), rows)
            return
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            statement = self.sql(template.format(values=", ".join([row_marks] * len(chunk))))
            cursor.execute(statement, [value for row in chunk for value in row])

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
        insert = f"INSERT INTO metrics {_LATEST_COLUMNS} VALUES {{values}}"
        if self.name == "mysql":
            return insert + " ON DUPLICATE KEY UPDATE run_uuid = run_uuid"
        return insert + " ON CONFLICT DO NOTHING"

    @property
    def upsert_tags(self) -> str:
        if self.name == "mysql":
            return INSERT_TAGS + " ON DUPLICATE KEY UPDATE value = VALUES(value)"
        return INSERT_TAGS + ' ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value'

    @property
    def upserts_latest_metrics(self) -> bool:
        """Whether :attr:`upsert_latest_metrics` exists; else the store locks and compares."""
        return self.name != "mysql"

    @property
    def upsert_latest_metrics(self) -> str:
        """Insert ``latest_metrics`` candidates, overwriting a stored row only where the
        candidate is greater by (step, timestamp, value) — MLflow's rule, in the database."""
        return (
            f"INSERT INTO latest_metrics {_LATEST_COLUMNS} VALUES {{values}} "
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

    insert_latest_metrics = f"INSERT INTO latest_metrics {_LATEST_COLUMNS} VALUES {{values}}"

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
