"""Fresh, fully migrated MLflow databases for tests, cheap enough to make one per test.

Running MLflow's alembic migrations on an empty database takes seconds, so each dialect gets ONE
migrated template per test session (built by constructing a stock ``SqlAlchemyStore`` on it) and
every fresh database is a clone of it:

- SQLite: a copy of the template file;
- PostgreSQL: ``CREATE DATABASE x TEMPLATE tmpl``;
- MySQL/MariaDB: the template's own ``SHOW CREATE TABLE``/``SHOW CREATE TRIGGER`` statements
  replayed into the new database (foreign keys, ``AUTO_INCREMENT`` counters and triggers
  included), then its rows (experiment 0, ``alembic_version``, ...) copied over.

PostgreSQL and MySQL clones are made ahead on a worker thread. A retired clone (its engines
disposed when its test or module ends) is reset there to the template's exact content (rows,
sequence/AUTO_INCREMENT counters; checked equal with pg_dump/mariadb-dump) and reused, which is
far cheaper than DROP + CREATE (PostgreSQL's DROP DATABASE forces a checkpoint); every database
is dropped at the end of the session. ``MLFLOW_ACCEL_TEST_NO_RECYCLE=1`` drops retired clones
instead. Database names are ``mlfa_<pid>_<token>_...``; databases left behind by dead test
processes on this host are dropped when a server is first used.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

DIALECTS = ("sqlite", "postgresql", "mysql")
POSTGRES_ADMIN_URI = os.environ.get(
    "MLFLOW_ACCEL_TEST_POSTGRES_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_ADMIN_URI = os.environ.get(
    "MLFLOW_ACCEL_TEST_MYSQL_URI", "mysql+pymysql://root@127.0.0.1:3306/test"
)
_PREFIX = "mlfa_"
_NAME_RE = re.compile(r"^mlfa_(\d+)_")


_PORTAL_PARAMETER = re.compile(r"portal parameter \$\d+")
_TEST_DATABASE = re.compile(r"`mlfa_\w+`")
_AUTOFLUSH_NOTE = re.compile(r"^\(raised as a result of Query-invoked autoflush;[^)]*\)\s*")


def _database_error_text(message: str) -> str:
    """A database error's own words: without SQLAlchemy's autoflush note and its ``[SQL: …]``
    statement and parameter dump, which the accelerated store (plain DBAPI) has no part in.
    The error class, error code and the driver's message itself still have to match."""
    own = _AUTOFLUSH_NOTE.sub("", message).split("\n[SQL: ")[0]
    # PostgreSQL names the offending bind parameter by position, which depends on the statement
    own = _PORTAL_PARAMETER.sub("portal parameter $N", own)
    # MySQL names the database of a foreign key; each store of a differential has its own
    return _TEST_DATABASE.sub("`<database>`", own)


class ServerUnavailable(Exception):
    """The database server of a dialect cannot be reached."""


def dispose_engines(uri: str) -> None:
    """Dispose and forget every engine MLflow's tracking and registry stores (or subclasses)
    cached for ``uri``."""
    classes = [SqlAlchemyStore, RegistryStore]
    for cls in classes:
        classes.extend(cls.__subclasses__())
    seen = set()
    for cls in classes:
        engine_map = cls.__dict__.get("_engine_map")
        if engine_map is None or id(engine_map) in seen:
            continue
        seen.add(id(engine_map))
        engine = engine_map.pop(uri, None)
        if engine is not None:
            engine.dispose()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(name: str) -> bool:
    match = _NAME_RE.match(name)
    return bool(match) and not _pid_alive(int(match.group(1)))


class Server:
    """One dialect's database server: a migrated template and its clones."""

    dialect: str
    background = False  # clone and drop on a worker thread
    SPARES = 2

    def __init__(self, workdir: Path, artifact_root: str):
        self.workdir = workdir
        self.artifact_root = artifact_root
        self._token = f"{_PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
        self._counter = itertools.count()
        self.template = f"{self._token}_tmpl"
        self._built = False
        self._worker: ThreadPoolExecutor | None = None
        self._spares: deque[Future] = deque()
        self._dropping: list[Future] = []

    def new_name(self) -> str:
        return f"{self._token}_{next(self._counter)}"

    def ensure_template(self) -> None:
        if self._built:
            return
        self.check_available()
        self.drop_stale()
        self.create_empty(self.template)
        uri = self.uri(self.template)
        try:
            SqlAlchemyStore(uri, self.artifact_root)
        finally:
            dispose_engines(uri)
        self.after_template()
        self._built = True

    def new_database(self) -> str:
        """A fresh clone of the template; returns its SQLAlchemy URI.

        Servers with ``background`` set keep ``SPARES`` clones ready, made on a worker thread
        while tests run (the database server does the work, so it overlaps the tests).
        """
        self.ensure_template()
        if not self.background:
            return self._clone_new()
        future = self._spares.popleft() if self._spares else self._submit(self._clone_new)
        while len(self._spares) < self.SPARES:
            self._spares.append(self._submit(self._clone_new))
        return future.result()

    def drop_uri(self, uri: str) -> None:
        """Dispose ``uri``'s engines and retire the database.

        With ``background``, the database is reset to the template's exact content (rows,
        sequence / AUTO_INCREMENT counters) on the worker thread and becomes a spare for a later
        ``new_database``: much cheaper than DROP + CREATE, which on PostgreSQL forces a
        checkpoint. A reset that fails drops the database instead. Spares are dropped by
        ``close`` at the end of the session.
        """
        dispose_engines(uri)
        name = self.name_of(uri)
        if not self.background:
            self.drop(name)
        elif os.environ.get("MLFLOW_ACCEL_TEST_NO_RECYCLE"):
            self._dropping.append(self._submit(self.drop, name))
        else:
            self._spares.append(self._submit(self._recycle, name))

    def close(self) -> None:
        """Wait for background work, then drop every spare and the template."""
        errors = []
        for future in [*self._spares, *self._dropping]:
            try:
                result = future.result()
                if result is not None:
                    self.drop(self.name_of(result))
            except Exception as e:  # keep cleaning up
                errors.append(e)
        self._spares.clear()
        self._dropping.clear()
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        if self._built:
            self.drop(self.template)
            self._built = False
        if errors:
            raise errors[0]

    def _clone_new(self) -> str:
        name = self.new_name()
        self.clone(name)
        return self.uri(name)

    def _recycle(self, name: str) -> str:
        try:
            self.reset(name)
        except Exception:
            self.drop(name)
            return self._clone_new()
        return self.uri(name)

    def _submit(self, fn, *args) -> Future:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"{self.dialect}-clones")
        return self._worker.submit(fn, *args)

    # -- per dialect ---------------------------------------------------------------------------
    def check_available(self) -> None:
        raise NotImplementedError

    def drop_stale(self) -> None:
        raise NotImplementedError

    def create_empty(self, name: str) -> None:
        raise NotImplementedError

    def after_template(self) -> None:
        """Hook run once the template is migrated and its engine disposed."""

    def clone(self, name: str) -> None:
        raise NotImplementedError

    def reset(self, name: str) -> None:
        """Make database ``name`` (no open connections) identical to the template again."""
        raise NotImplementedError

    def drop(self, name: str) -> None:
        raise NotImplementedError

    def uri(self, name: str) -> str:
        raise NotImplementedError

    def name_of(self, uri: str) -> str:
        return sa.engine.make_url(uri).database


class SqliteServer(Server):
    dialect = "sqlite"

    def path(self, name: str) -> Path:
        return self.workdir / f"{name}.db"

    def check_available(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def drop_stale(self) -> None:
        """Files live under the session's own tmp dir; nothing to clean."""

    def create_empty(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def clone(self, name: str) -> None:
        shutil.copyfile(self.path(self.template), self.path(name))

    def drop(self, name: str) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    def uri(self, name: str) -> str:
        return f"sqlite:///{self.path(name)}"

    def name_of(self, uri: str) -> str:
        return Path(sa.engine.make_url(uri).database).stem


class _NetworkServer(Server):
    admin_uri: str
    background = True

    def connect(self, database: str | None = None):
        """A plain DB-API connection (autocommit) to ``database``, the admin one by default."""
        raise NotImplementedError

    def execute(self, *statements: str, args=None):
        """Run ``statements`` on one admin connection; the rows of the last one, if any.

        Statements go to the driver verbatim (no ``%`` formatting) unless ``args`` is given.
        """
        conn = self.connect()
        try:
            cursor = conn.cursor()
            result = None
            for statement in statements:
                if args is None:
                    cursor.execute(statement)
                else:
                    cursor.execute(statement, args)
                result = cursor.fetchall() if cursor.description else None
            return result
        finally:
            conn.close()

    def check_available(self) -> None:
        try:
            self.execute("SELECT 1")
        except Exception as e:
            url = sa.engine.make_url(self.admin_uri)
            raise ServerUnavailable(
                f"{self.dialect} server at {url.render_as_string(hide_password=True)} "
                f"is unreachable: {e!r}"
            ) from e

    def drop_stale(self) -> None:
        for name in self.list_databases():
            if _stale(name):
                self.drop(name)

    def list_databases(self) -> list[str]:
        raise NotImplementedError

    def uri(self, name: str) -> str:
        url = sa.engine.make_url(self.admin_uri).set(database=name)
        return url.render_as_string(hide_password=False)


class PostgresServer(_NetworkServer):
    dialect = "postgresql"
    admin_uri = POSTGRES_ADMIN_URI

    def connect(self, database: str | None = None):
        import psycopg

        url = sa.engine.make_url(self.admin_uri)
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=database or url.database,
            autocommit=True,
            connect_timeout=3,
        )

    def list_databases(self) -> list[str]:
        rows = self.execute(r"SELECT datname FROM pg_database WHERE datname LIKE 'mlfa\_%'")
        return [row[0] for row in rows]

    def create_empty(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')

    def after_template(self) -> None:
        """Remember the template's rows and sequence states, for ``reset``."""
        conn = self.connect(self.template)
        try:
            cursor = conn.cursor()
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            self._tables = sorted(row[0] for row in cursor.fetchall())
            self._rows = {}
            for table in self._tables:
                cursor.execute(f'SELECT * FROM "{table}"')
                rows = cursor.fetchall()
                if rows:
                    columns = ", ".join(f'"{c.name}"' for c in cursor.description)
                    self._rows[table] = (columns, rows)
            cursor.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            self._sequences = []
            for (sequence,) in cursor.fetchall():
                cursor.execute(f'SELECT last_value, is_called FROM "{sequence}"')
                self._sequences.append((sequence, *cursor.fetchone()))
        finally:
            conn.close()

    def clone(self, name: str) -> None:
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')

    def reset(self, name: str) -> None:
        conn = self.connect(name)
        try:
            cursor = conn.cursor()
            cursor.execute("SET lock_timeout = '5s'")  # a leaked connection: drop instead
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            tables = sorted(row[0] for row in cursor.fetchall())
            if tables != self._tables:
                raise RuntimeError(f"tables of {name} differ from the template's")
            used = [t for t in tables if cursor.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()]
            with conn.transaction():
                if used:
                    quoted = ", ".join(f'"{table}"' for table in used)
                    cursor.execute(f"TRUNCATE {quoted} CASCADE")
                for table, (columns, rows) in self._rows.items():
                    marks = ", ".join(["%s"] * len(rows[0]))
                    cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)
                for sequence, last_value, is_called in self._sequences:
                    cursor.execute("SELECT setval(%s, %s, %s)", (sequence, last_value, is_called))
        finally:
            conn.close()

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class MysqlServer(_NetworkServer):
    dialect = "mysql"
    admin_uri = MYSQL_ADMIN_URI

    def connect(self, database: str | None = None):
        import pymysql

        url = sa.engine.make_url(self.admin_uri)
        return pymysql.connect(
            host=url.host,
            port=url.port or 3306,
            user=url.username,
            password=url.password or "",
            database=database or url.database,
            autocommit=True,
            connect_timeout=3,
        )

    def __init__(self, workdir: Path, artifact_root: str):
        super().__init__(workdir, artifact_root)
        self._create_database = ""
        self._tables: list[str] = []
        self._triggers: list[str] = []
        self._data_tables: list[str] = []

    def list_databases(self) -> list[str]:
        rows = self.execute(r"SHOW DATABASES LIKE 'mlfa\_%'")
        return [row[0] for row in rows]

    def create_empty(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}`")

    def after_template(self) -> None:
        """Capture the template's DDL once: tables, triggers, and which tables hold rows."""
        t = self.template
        conn = self.connect()
        try:
            cursor = conn.cursor()

            def rows(statement, *args):
                cursor.execute(statement, args or None)
                return cursor.fetchall()

            others = rows(
                "SELECT (SELECT COUNT(*) FROM information_schema.views WHERE table_schema=%s)"
                " + (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema=%s)"
                " + (SELECT COUNT(*) FROM information_schema.events WHERE event_schema=%s)",
                t,
                t,
                t,
            )[0][0]
            if others:
                raise NotImplementedError(
                    f"template {t} has views/routines/events; the MySQL cloner copies tables "
                    "and triggers only: extend tests/support/databases.py"
                )
            self._create_database = rows(f"SHOW CREATE DATABASE `{t}`")[0][1]
            tables = rows(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema=%s AND table_type='BASE TABLE' ORDER BY table_name",
                t,
            )
            self._tables = [rows(f"SHOW CREATE TABLE `{t}`.`{name}`")[0][1] for (name,) in tables]
            self._data_tables = [
                name for (name,) in tables if rows(f"SELECT 1 FROM `{t}`.`{name}` LIMIT 1")
            ]
            triggers = rows(
                "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema=%s"
                " ORDER BY trigger_name",
                t,
            )
            self._counters = self._auto_increments(cursor, t)
            self._triggers = []
            for (name,) in triggers:
                _, sql_mode, statement, charset, collation, *_ = rows(
                    f"SHOW CREATE TRIGGER `{t}`.`{name}`"
                )[0]
                self._triggers += [
                    f"SET SESSION sql_mode = '{sql_mode}'",
                    f"SET SESSION character_set_client = '{charset}'",
                    f"SET SESSION collation_connection = '{collation}'",
                    statement,
                ]
        finally:
            conn.close()

    def clone(self, name: str) -> None:
        create = self._create_database.replace(f"`{self.template}`", f"`{name}`", 1)
        statements = [
            create,
            f"USE `{name}`",
            "SET SESSION foreign_key_checks = 0",
            "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
            *self._tables,
            *(
                f"INSERT INTO `{name}`.`{table}` SELECT * FROM `{self.template}`.`{table}`"
                for table in self._data_tables
            ),
            *self._triggers,
        ]
        self.execute(*statements)

    def _auto_increments(self, cursor, name: str) -> dict:
        cursor.execute(
            "SELECT table_name, auto_increment FROM information_schema.tables"
            " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            (name,),
        )
        return dict(cursor.fetchall())

    def reset(self, name: str) -> None:
        conn = self.connect(name)
        try:
            cursor = conn.cursor()
            counters = self._auto_increments(cursor, name)
            if set(counters) != set(self._counters):
                raise RuntimeError(f"tables of {name} differ from the template's")
            used = []
            for table in sorted(counters):
                cursor.execute(f"SELECT 1 FROM `{table}` LIMIT 1")
                if cursor.fetchall():
                    used.append(table)
            statements = [
                "SET SESSION lock_wait_timeout = 5",  # a leaked connection: drop instead
                "SET SESSION innodb_lock_wait_timeout = 5",
                "SET SESSION foreign_key_checks = 0",
                "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
                *(f"DELETE FROM `{table}`" for table in used),
                *(
                    f"INSERT INTO `{table}` SELECT * FROM `{self.template}`.`{table}`"
                    for table in self._data_tables
                ),
                *(
                    f"ALTER TABLE `{table}` AUTO_INCREMENT = {self._counters[table]}"
                    for table, value in counters.items()
                    if value != self._counters[table] and self._counters[table] is not None
                ),
            ]
            for statement in statements:
                cursor.execute(statement)
            if self._auto_increments(cursor, name) != self._counters:
                raise RuntimeError(f"AUTO_INCREMENT counters of {name} could not be reset")
        finally:
            conn.close()

    def drop(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS `{name}`")


SERVER_CLASSES = {
    "sqlite": SqliteServer,
    "postgresql": PostgresServer,
    "mysql": MysqlServer,
}


class Servers:
    """All dialects' servers for one test session; templates are built on first use."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.artifact_root = str(workdir / "artifacts")
        self._servers: dict[str, Server] = {}
        self._unavailable: dict[str, ServerUnavailable] = {}

    def get(self, dialect: str) -> Server:
        """The ready server for ``dialect``; raises ``ServerUnavailable`` (remembered)."""
        if dialect in self._unavailable:
            raise self._unavailable[dialect]
        server = self._servers.get(dialect)
        if server is None:
            server = SERVER_CLASSES[dialect](self.workdir / dialect, self.artifact_root)
            self._servers[dialect] = server
        try:
            server.ensure_template()
        except ServerUnavailable as e:
            self._unavailable[dialect] = e
            raise
        return server

    def close(self) -> None:
        for server in self._servers.values():
            server.close()


class FreshDatabases:
    """Fresh clones for one test module; ``close`` disposes their engines and drops them all."""

    def __init__(self, server: Server):
        self.server = server
        self.dialect = server.dialect
        self.artifact_root = server.artifact_root
        self._uris: list[str] = []

    def new(self) -> str:
        uri = self.server.new_database()
        self._uris.append(uri)
        return uri

    def release(self, uri: str) -> None:
        """Retire ``uri`` now (its engines disposed): reset for reuse or dropped."""
        self._uris.remove(uri)
        self.server.drop_uri(uri)

    def close(self) -> None:
        errors = []
        for uri in self._uris:
            try:
                self.server.drop_uri(uri)
            except Exception as e:  # keep dropping the others
                errors.append(e)
        self._uris.clear()
        if errors:
            raise errors[0]


# -- comparing what two stores return ---------------------------------------------------------

TRACKING_TABLES = (
    "experiments",
    "experiment_tags",
    "runs",
    "metrics",
    "latest_metrics",
    "params",
    "tags",
    "logged_model_metrics",
)
NOW = "<now>"
_HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_CUT_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{8,31}(?=\.\.\.)")  # MySQL cuts a long key short
_MILLIS = re.compile(r"(?<!\d)1\d{12}(?!\d)")
_WALL_CLOCK_COLUMNS = ("creation_time", "last_update_time", "deleted_time")


class Normaliser:
    """One store's view of a workload, rewritten so two stores' results compare with ``==``.

    Run ids become ``<run N>`` and experiment ids ``<exp N>`` (creation order), wall-clock
    times that the store chose itself become ``<now>``, floats become their ``repr`` (so NaN
    equals NaN and ``3`` differs from ``3.0``), and entities become dicts of their properties.
    """

    def __init__(self, artifact_root: str):
        self.run_labels: dict[str, str] = {}
        self.exp_labels: dict[str, str] = {"0": "<exp 0>"}
        self.defaulted_start: set[str] = set()
        root = re.escape(artifact_root.rstrip("/"))
        self._exp_path = re.compile(root + r"/(\d+)(?=/|$)")

    def add_run(self, run_id: str, defaulted_start: bool = False) -> str:
        label = self.run_labels.setdefault(run_id, f"<run {len(self.run_labels)}>")
        if defaulted_start:
            self.defaulted_start.add(label)
        return label

    def add_model(self, model_id: str) -> str:
        """Label a logged model's id (``m-`` and 32 hex digits) ``m-<model N>``."""
        label = self.run_labels.setdefault(model_id[2:], f"<model {len(self.run_labels)}>")
        return f"m-{label}"

    def add_experiment(self, experiment_id) -> str:
        key = str(experiment_id)
        return self.exp_labels.setdefault(key, f"<exp {len(self.exp_labels)}>")

    def exp(self, experiment_id):
        if experiment_id is None:
            return None
        return self.exp_labels.get(str(experiment_id), f"<unlabelled exp {experiment_id}>")

    def text(self, s: str) -> str:
        s = _HEX32.sub(lambda m: self.run_labels.get(m.group(0), "<other id>"), s)
        return self._exp_path.sub(
            lambda m: m.group(0)[: m.start(1) - m.start(0)] + self.exp(m.group(1)), s
        )

    def value(self, x, key: str | None = None):
        """Canonical, comparable form of anything a store returns."""
        from mlflow.entities import RunData, RunInfo
        from mlflow.entities._mlflow_object import _MlflowObject

        if key == "experiment_id" and x is not None:
            return self.exp(x)
        if key in _WALL_CLOCK_COLUMNS and isinstance(x, int) and not isinstance(x, bool):
            return NOW
        if x is None or isinstance(x, bool):
            return x
        if isinstance(x, float):
            return f"float:{x!r}"
        if isinstance(x, int):
            return x
        if isinstance(x, str):
            return self.text(x)
        if isinstance(x, bytes):
            return f"bytes:{x!r}"
        if isinstance(x, dict):
            return {
                self.value(k): self.value(v, k if isinstance(k, str) else None)
                for k, v in x.items()
            }
        if isinstance(x, (list, tuple)):
            return [self.value(item) for item in x]
        if isinstance(x, RunData):
            return {
                "metrics": self.value(x.metrics),
                "params": self.value(x.params),
                "tags": self.value(x.tags),
                "latest_metrics": sorted((self.value(m) for m in x._metric_objs), key=repr),
            }
        if isinstance(x, _MlflowObject):
            fields = {"__type__": type(x).__name__}
            fields.update({k: self.value(v, k) for k, v in x})
            if isinstance(x, RunInfo) and fields["run_id"] in self.defaulted_start:
                fields["start_time"] = NOW if isinstance(x.start_time, int) else x.start_time
            return fields
        return f"{type(x).__name__}:{x!r}"

    def error(self, e: BaseException):
        from mlflow.exceptions import MlflowException

        message = e.message if isinstance(e, MlflowException) else str(e)
        message = _database_error_text(str(message))
        message = _CUT_HEX.sub(self._cut_id, self.text(message))
        message = _MILLIS.sub("<millis>", message)
        return ["error", type(e).__name__, getattr(e, "error_code", None), message]

    def _cut_id(self, match) -> str:
        """The label of the id a cut-short hex prefix begins."""
        labels = {label for key, label in self.run_labels.items() if key.startswith(match[0])}
        return f"{labels.pop()} (cut)" if len(labels) == 1 else "<other id> (cut)"

    def row(self, table: str, row: dict) -> dict:
        out = {}
        for column, v in row.items():
            if column == "run_uuid" and isinstance(v, str):
                out[column] = self.run_labels.get(v, f"<unlabelled run {v}>")
            else:
                out[column] = self.value(v, column)
        if table == "runs" and out.get("run_uuid") in self.defaulted_start:
            out["start_time"] = NOW if isinstance(row.get("start_time"), int) else None
        return out


REGISTRY_TABLES = (
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "registered_model_aliases",
)


def dump_tables(uri: str, norm: Normaliser | None = None, tables=TRACKING_TABLES) -> dict:
    """Every row of ``tables`` (normalised by ``norm`` if given, sorted), and row counts of all
    other tables."""
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            content = {}
            for table in sorted(sa.inspect(conn).get_table_names()):
                if table in tables:
                    result = conn.exec_driver_sql(f"SELECT * FROM {table}")
                    columns = list(result.keys())
                    rows = [dict(zip(columns, r, strict=True)) for r in result.fetchall()]
                    if norm is not None:
                        rows = [norm.row(table, row) for row in rows]
                    content[table] = sorted(rows, key=repr)
                else:
                    count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
                    content[table] = f"{count} rows"
            return content
    finally:
        engine.dispose()


def table_differences(a: dict, b: dict, names=("stock", "accel"), per_table: int = 3) -> list[str]:
    """Rows only one side has, per table, for two ``dump_tables`` results."""
    out = []
    for table in sorted(set(a) | set(b)):
        x, y = a.get(table), b.get(table)
        if x == y:
            continue
        if not isinstance(x, list) or not isinstance(y, list):
            out.append(f"{table}: {names[0]} {x!r} vs {names[1]} {y!r}")
            continue
        only_x = [row for row in x if row not in y]
        only_y = [row for row in y if row not in x]
        out.append(f"{table}: {len(x)} vs {len(y)} rows")
        out += [f"  only in {names[0]}: {_short(row)}" for row in only_x[:per_table]]
        out += [f"  only in {names[1]}: {_short(row)}" for row in only_y[:per_table]]
        hidden = len(only_x) + len(only_y) - len(only_x[:per_table]) - len(only_y[:per_table])
        if hidden:
            out.append(f"  ... {hidden} more differing rows")
    return out


def differences(a, b, path: str = "", limit: int = 8, names=("stock", "accel")) -> list[str]:
    """Human-readable paths where ``a`` and ``b`` (canonical forms) differ, at most ``limit``."""
    out: list[str] = []
    na, nb = names

    def walk(x, y, p):
        if len(out) >= limit or x == y:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), key=repr):
                if k not in x:
                    out.append(f"{p}.{k}: only in {nb}: {_short(y[k])}")
                elif k not in y:
                    out.append(f"{p}.{k}: only in {na}: {_short(x[k])}")
                else:
                    walk(x[k], y[k], f"{p}.{k}")
            return
        if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
                walk(xi, yi, f"{p}[{i}]")
            return
        if isinstance(x, list) and isinstance(y, list):
            only_x = [item for item in x if item not in y]
            only_y = [item for item in y if item not in x]
            out.append(
                f"{p}: {len(x)} vs {len(y)} items; only in {na}: {_short(only_x)};"
                f" only in {nb}: {_short(only_y)}"
            )
            return
        if isinstance(x, str) and isinstance(y, str):
            pairs = enumerate(zip(x, y, strict=False))
            at = next((i for i, (cx, cy) in pairs if cx != cy), min(len(x), len(y)))
            lo = max(0, at - 60)
            out.append(
                f"{p}: strings differ at char {at} (lengths {len(x)}, {len(y)}): "
                f"{na} ...{x[lo : at + 60]!r}... {nb} ...{y[lo : at + 60]!r}..."
            )
            return
        out.append(f"{p}: {na} {_short(x)} != {nb} {_short(y)}")

    walk(a, b, path or "$")
    return out


def _short(x, limit: int = 300) -> str:
    text = repr(x)
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} chars)"
