"""What every accelerated store shares: our dialect and transactions on MLflow's engine, and the
fallback rule.

``AccelStore`` goes before MLflow's SQL store class in a store's bases. After MLflow has built
the store (engine, pool, schema), it adds ``_dialect`` and ``_tx`` on the same engine, or leaves
them ``None`` for a database we do not know. :func:`accelerated` writes the fallback rule once:
a decorated method runs MLflow's inherited method instead when the store has no ``_tx``, or
when the method returns :data:`STOCK` for a case it does not cover.
"""

from __future__ import annotations

import functools

from mlflow_accel.store import dialects
from mlflow_accel.store.transactions import Transactions


class _Stock:
    def __repr__(self) -> str:
        return "STOCK"


#: Returned by an :func:`accelerated` method for a call it leaves to MLflow's own method.
STOCK = _Stock()


class AccelStore:
    """Builds ``_dialect`` and ``_tx`` on the engine of the MLflow store it is mixed into."""

    _dialect: dialects.Dialect | None = None
    _tx: Transactions | None = None  # MLflow's methods run until __init__ has built ours

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dialect = dialects.for_engine(self.engine)
        self._tx = self._dialect and Transactions(self.engine, self._dialect, self.read_engine)

    def _sql(self, statement: str) -> str:
        return self._dialect.sql(statement)


def accelerated(method):
    """Decorate a store method that MLflow's base class also has; see the module docstring."""
    return _Accelerated(method)


class _Accelerated:
    """Replaces itself, once its class exists, by a function that falls back to MLflow's
    method of the same name (found after that class in the store's MRO, as ``super()``)."""

    def __init__(self, method):
        self._method = method

    def __set_name__(self, owner, name):
        method = self._method

        @functools.wraps(method)
        def dispatch(self, *args, **kwargs):
            if self._tx is not None:
                result = method(self, *args, **kwargs)
                if result is not STOCK:
                    return result
            return getattr(super(owner, self), name)(*args, **kwargs)

        setattr(owner, name, dispatch)
