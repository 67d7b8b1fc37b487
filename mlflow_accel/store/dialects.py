"""The SQL that differs per database: placeholders, identifier quoting, upserts, write locks.

Statements are written once, in SQLite's spelling (``?`` placeholders, ``"key"`` quoted), and
``Dialect.sql`` rewrites them for the connected driver. Row writes are ``RowInsert`` values;
``Dialect.write_rows`` sends many rows the cheapest way the driver has: ``executemany`` on
SQLite and MySQL, and on PostgreSQL one fixed statement over ``unnest`` of one array per
column (psycopg's ``executemany`` costs a round of Python per row, and a multi-row ``VALUES``
list a new statement text per batch size). ``Dialect`` also owns the statements that have no
common spelling (skipping duplicate metric rows, upserting tags and ``latest_metrics``, reading a
generated id, how a write transaction takes its lock) and the transaction rules that differ
(connection set-up, group commit, which errors mean a write lost a race).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED = ("sqlite", "postgresql", "mysql")

_SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 20000",
    "PRAGMA case_sensitive_like = true",
)
# MySQL/MariaDB error numbers worth retrying: lock wait timeout, deadlock.
_MYSQL_RETRYABLE = {1205, 1213}
# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock.
_POSTGRES_RETRYABLE = {"40001", "40P01"}


@dataclass(frozen=True)
class RowInsert:
    """``INSERT INTO table (columns) <rows> tail``, with each column's PostgreSQL type."""

    table: str
    columns: tuple[tuple[str, str], ...]
    tail: str = ""

    def with_tail(self, tail: str) -> RowInsert:
        return RowInsert(self.table, self.columns, tail)

    @property
    def head(self) -> str:
        return f"INSERT INTO {self.table} ({', '.join(name for name, _ in self.columns)})"


_METRIC_COLUMNS = (
    ('"key"', "text"),
    ("value", "float8"),
    ("timestamp", "int8"),
    ("step", "int8"),
    ("is_nan", "bool"),
    ("run_uuid", "text"),
)
_KEY_VALUE_RUN = (('"key"', "text"), ("value", "text"), ("run_uuid", "text"))
INSERT_PARAMS = RowInsert("params", _KEY_VALUE_RUN)
INSERT_TAGS = RowInsert("tags", _KEY_VALUE_RUN)
INSERT_EXPERIMENT_TAGS = RowInsert(
    "experiment_tags", (('"key"', "text"), ("value", "text"), ("experiment_id", "int4"))
)
INSERT_LATEST_METRICS = RowInsert("latest_metrics", _METRIC_COLUMNS)
_INSERT_METRICS = RowInsert("metrics", _METRIC_COLUMNS)
INSERT_LOGGED_MODEL_METRICS = RowInsert(
    "logged_model_metrics",
    (
        ("model_id", "text"),
        ("metric_name", "text"),
        ("metric_timestamp_ms", "int8"),
        ("metric_step", "int8"),
        ("metric_value", "float8"),
        ("run_id", "text"),
        ("dataset_name", "text"),
        ("dataset_digest", "text"),
        ("experiment_id", "int4"),
    ),
)


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

    def write_rows(self, cursor, insert: RowInsert, rows) -> None:
        """Insert every tuple of ``rows`` with ``insert``."""
        if not rows:
            return
        if self.name == "postgresql":
            arrays = ", ".join(f"?::{kind}[]" for _, kind in insert.columns)
            statement = f"{insert.head} SELECT * FROM unnest({arrays}){insert.tail}"
            cursor.execute(
                self.sql(statement), [list(column) for column in zip(*rows, strict=True)]
            )
            return
        marks = self.placeholders(len(insert.columns))
        cursor.executemany(self.sql(f"{insert.head} VALUES ({marks}){insert.tail}"), rows)

    @property
    def offset_without_limit(self) -> str:
        """`` OFFSET ?`` with whatever "no limit" this database needs before it."""
        return {
            "sqlite": " LIMIT -1 OFFSET ?",
            "mysql": " LIMIT 18446744073709551615 OFFSET ?",
        }.get(self.name, " OFFSET ?")

    def insert_returning_id(self, cursor, statement: str, args, id_column: str) -> int:
        """Run the ``INSERT`` ``statement`` and return the id the database generated for it."""
        if self.name == "postgresql":
            cursor.execute(self.sql(f"{statement} RETURNING {id_column}"), args)
            return cursor.fetchone()[0]
        cursor.execute(self.sql(statement), args)
        return cursor.lastrowid

    @property
    def connection_setup(self) -> tuple[str, ...]:
        """Statements run once on each new DBAPI connection before its first use."""
        return _SQLITE_PRAGMAS if self.name == "sqlite" else ()

    @property
    def groups_commits(self) -> bool:
        """Whether concurrent writes of this process share transactions (``group_commit``).

        SQLite only: its one writer at a time makes each commit's fsync the bottleneck.
        """
        return self.name == "sqlite"

    def is_retryable(self, error) -> bool:
        """Whether a driver ``error`` means a write lost a race (deadlock, lock wait timeout,
        serialization failure) and is worth running again."""
        if self.name == "postgresql":
            return getattr(error, "sqlstate", None) in _POSTGRES_RETRYABLE
        if self.name == "mysql":
            return bool(error.args) and error.args[0] in _MYSQL_RETRYABLE
        return False

    @property
    def begin_write(self) -> str | None:
        """Statement that opens a write transaction holding the write lock up front.

        SQLite: ``BEGIN IMMEDIATE``, so concurrent writers queue on the busy timeout instead of
        failing with "database is locked" when a read lock cannot be upgraded.
        """
        return "BEGIN IMMEDIATE" if self.name == "sqlite" else None

    @property
    def for_update(self) -> str:
        """Suffix of a ``SELECT`` that locks its rows until commit (SQLite: the write lock)."""
        return "" if self.name == "sqlite" else " FOR UPDATE"

    @property
    def insert_metrics(self) -> RowInsert:
        """Insert metric rows, skipping any already stored (same primary key)."""
        if self.name == "mysql":
            return _INSERT_METRICS.with_tail(" ON DUPLICATE KEY UPDATE run_uuid = run_uuid")
        return _INSERT_METRICS.with_tail(" ON CONFLICT DO NOTHING")

    @property
    def upsert_tags(self) -> RowInsert:
        if self.name == "mysql":
            return INSERT_TAGS.with_tail(" ON DUPLICATE KEY UPDATE value = VALUES(value)")
        return INSERT_TAGS.with_tail(
            ' ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value'
        )

    @property
    def upserts_latest_metrics(self) -> bool:
        """Whether :attr:`upsert_latest_metrics` exists; else the store locks and compares."""
        return self.name != "mysql"

    @property
    def upsert_latest_metrics(self) -> RowInsert:
        """Insert ``latest_metrics`` candidates, overwriting a stored row only where the
        candidate is greater by (step, timestamp, value) — MLflow's rule, in the database."""
        return INSERT_LATEST_METRICS.with_tail(
            ' ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value, '
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
