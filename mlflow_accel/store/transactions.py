"""Transactions on the DBAPI connections of MLflow's own SQLAlchemy pool.

The accelerated store borrows connections from the engine MLflow created (same pool, same
pre-ping), runs plain SQL on a cursor, and commits once. Database errors become the
``MlflowException`` codes MLflow's session maker gives them (an unreachable or locked database is
``TEMPORARILY_UNAVAILABLE``, any other database error ``BAD_REQUEST``). Writes that lose a race
(deadlock, serialization failure, a unique key taken by a concurrent writer) are retried as a
whole; a retried write recomputes everything from the database, so it is never half-applied.
SQLite writes go through group commit (``group_commit``): concurrent writers of this process
share one transaction, each in its own savepoint, and one commit.
"""

from __future__ import annotations

import random
import time
from contextlib import contextmanager

import sqlalchemy
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import BAD_REQUEST, INTERNAL_ERROR, TEMPORARILY_UNAVAILABLE

from mlflow_accel.store.group_commit import GroupCommit

_WRITE_ATTEMPTS = 5


class Transactions:
    """Opens read and write transactions for one engine, in one dialect's terms."""

    def __init__(self, engine, dialect, read_engine=None):
        self._engine = engine
        self._read_engine = read_engine or engine
        self._dialect = dialect
        self._dbapi = engine.dialect.loaded_dbapi
        self._group = GroupCommit(self._write_group) if dialect.groups_commits else None

    def _checkout(self, engine):
        try:
            connection = engine.raw_connection()
        except (self._dbapi.Error, sqlalchemy.exc.SQLAlchemyError) as error:
            # No live connection to hand out: the database is down (connecting failed, or the
            # pre-ping found the pooled connection dead and reconnecting failed; the pool raises
            # the driver's error itself then). MLflow's session maker meets these inside its try
            # and answers TEMPORARILY_UNAVAILABLE; so must we.
            raise self.to_mlflow(error) from error
        setup = self._dialect.connection_setup
        if setup and not connection.info.get("mlflow_accel"):
            cursor = connection.cursor()
            for statement in setup:
                cursor.execute(statement)
            cursor.close()
            connection.info["mlflow_accel"] = True
        return connection

    @contextmanager
    def read(self):
        """A cursor for reads; the connection goes back to the pool afterwards."""
        connection = self._checkout(self._read_engine)
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            connection.commit()
        except MlflowException:
            raise
        except Exception as error:
            raise self.to_mlflow(error) from error
        finally:
            connection.close()

    def write(self, work, retry: bool = True):
        """Run ``work(cursor)`` in one transaction and commit; return its result.

        With ``retry``, a transaction that loses a race is rolled back and run again. (SQLite
        writers never race: they are serialised by ``BEGIN IMMEDIATE`` and grouped.)
        """
        if self._group is not None:
            return self._group.submit(work)
        attempt = 0
        while True:
            attempt += 1
            connection = self._checkout(self._engine)
            try:
                cursor = connection.cursor()
                if self._dialect.begin_write:
                    cursor.execute(self._dialect.begin_write)
                result = work(cursor)
                cursor.close()
                connection.commit()
                return result
            except MlflowException:
                _rollback_quietly(connection)
                raise
            except Exception as error:
                _rollback_quietly(connection)
                if retry and attempt < _WRITE_ATTEMPTS and self._lost_race(error):
                    time.sleep(random.uniform(0, 0.01 * attempt))
                    continue
                raise self.to_mlflow(error) from error
            except BaseException:
                _rollback_quietly(connection)
                raise
            finally:
                connection.close()

    def _write_group(self, writes) -> None:
        """Run every write in its own savepoint of one transaction, then commit once."""
        connection = self._checkout(self._engine)
        try:
            cursor = connection.cursor()
            cursor.execute(self._dialect.begin_write)
            for write in writes:
                cursor.execute("SAVEPOINT accel_write")
                try:
                    write.result = write.run(cursor)
                except Exception as error:
                    cursor.execute("ROLLBACK TO accel_write")
                    write.error = self._as_mlflow(error)
                cursor.execute("RELEASE accel_write")
            cursor.close()
            connection.commit()
        except Exception as error:
            _rollback_quietly(connection)
            for write in writes:
                write.result = None
                write.error = self._as_mlflow(error)
        except BaseException:
            _rollback_quietly(connection)
            raise
        finally:
            connection.close()

    def _lost_race(self, error) -> bool:
        if not isinstance(error, self._dbapi.Error):
            return False
        return isinstance(error, self._dbapi.IntegrityError) or self._dialect.is_retryable(error)

    def _as_mlflow(self, error: Exception) -> MlflowException:
        """``error`` as raised by ``write``: an ``MlflowException`` caused by the original."""
        if isinstance(error, MlflowException):
            return error
        converted = self.to_mlflow(error)
        converted.__cause__ = error
        return converted

    def to_mlflow(self, error) -> MlflowException:
        """The ``MlflowException`` MLflow's session maker raises for an error inside it."""
        if isinstance(error, sqlalchemy.exc.DBAPIError) and error.orig is not None:
            error = error.orig  # named as the driver's own error, like every other one here
        elif isinstance(error, sqlalchemy.exc.SQLAlchemyError):
            return MlflowException(message=error, error_code=BAD_REQUEST)
        if not isinstance(error, self._dbapi.Error):
            return MlflowException(message=error, error_code=INTERNAL_ERROR)
        kind = type(error)
        message = f"({kind.__module__}.{kind.__name__}) {error}"
        if isinstance(error, self._dbapi.OperationalError):
            return MlflowException(message, error_code=TEMPORARILY_UNAVAILABLE)
        return MlflowException(message, error_code=BAD_REQUEST)


def _rollback_quietly(connection) -> None:
    """Roll back; a connection too broken to roll back is discarded by the pool on return."""
    try:
        connection.rollback()
    except Exception:
        connection.invalidate()
