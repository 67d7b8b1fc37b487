"""The store differentials' shared harness: operations, their comparison, the verdict.

``op(kind, **kwargs)`` is one operation; :class:`Comparison` numbers the operations, records
every one the stock and the accel store answered differently (``compare``), and ``check`` fails
the test with those and with the final tables' differences (``table_differences``, which each
differential defines for its tables). ``describe`` shortens an operation's arguments for a
message. Used by tests/store/test_store_differential.py and test_registry_differential.py.
"""

from __future__ import annotations

import pytest

from tests.support.databases import differences

SHOWN_OPS = 10


def op(kind: str, **kwargs) -> tuple:
    return (kind, kwargs)


def describe(value: dict, limit: int = 160) -> str:
    def short(v):
        if isinstance(v, str) and len(v) > 40:
            return f"{v[:12]!r}...<{len(v)} chars>"
        if isinstance(v, (list, tuple)) and len(v) > 6:
            return f"[{', '.join(short(x) for x in v[:4])}, ...<{len(v)} items>]"
        if isinstance(v, (list, tuple)):
            return f"[{', '.join(short(x) for x in v)}]"
        return repr(v)

    text = ", ".join(f"{k}={short(v)}" for k, v in value.items())
    return text if len(text) <= limit else text[:limit] + "..."


class Comparison:
    """Every operation both stores answered differently, and the verdict."""

    def __init__(self):
        self.mismatches: list[str] = []
        self.count = 0

    def next_index(self) -> int:
        self.count += 1
        return self.count - 1

    def compare(self, index: int, kind: str, kwargs: dict, stock, accel, where: str = "") -> None:
        if stock != accel:
            details = "\n      ".join(differences(stock, accel))
            self.mismatches.append(
                f"op #{index} {kind}({describe(kwargs)}){where}:\n      {details}"
            )

    def table_differences(self) -> list[str]:
        raise NotImplementedError

    def problems(self) -> list[str]:
        """Every op-level difference, then one entry for the final table content if it differs."""
        found = list(self.mismatches)
        tables = self.table_differences()
        if tables:
            found.append("final table content:\n      " + "\n      ".join(tables))
        return found

    def check(self) -> None:
        found = self.problems()
        if found:
            ops = [f for f in found if f.startswith("op #")]
            shown = ops[:SHOWN_OPS] + [f for f in found if not f.startswith("op #")]
            more = f"\n  ... and {len(ops) - SHOWN_OPS} more op(s)" if len(ops) > SHOWN_OPS else ""
            pytest.fail(
                f"{len(ops)} op(s) answered differently"
                f"{', and the tables differ' if len(found) > len(ops) else ''}"
                f" (stock vs accel):\n  " + "\n  ".join(shown) + more,
                pytrace=False,
            )
