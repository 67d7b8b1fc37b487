"""Hostile request input against the parser and validation: refused the MLflow way, never a crash,
a hang or a memory blow-up, and the compiled core always agrees with its pure-Python twin.

The properties are ``fuzz/fuzz_codec.py``'s (one definition for the fuzzer, its corpus replay and
these tests): a request goes through the fast path's entry points (``request_body.decode_json``
or ``query_pairs`` + ``parse.query_to_json``, then ``parse.parse_request_with_presence`` for
every request message, then MLflow's validation rules on the parsed values); nothing but
``MlflowException`` with ``INVALID_PARAMETER_VALUE`` escapes, and both implementations give the
same values or the same error code and message. Here hypothesis draws the inputs: arbitrary
bytes, JSON text made of hostile tokens (``1e400``, ``10**400``, ``-0``, int64 edges, ``NaN``,
lone surrogate escapes, ...), decoded bodies with a hostile value of any type in every field,
query strings, and direct calls of the validation rules; fixed cases add 100k-deep nesting and
megabyte strings. Each example runs under a watchdog (a hang kills the run with tracebacks) and
a time bound; the big cases also under a ``tracemalloc`` bound linear in the body size.

Hypothesis profiles: ``hostile-ci`` under ``CI=true`` (few examples, derandomized, so a failure
reproduces), ``hostile-long`` with ``MLFLOW_ACCEL_LONG=1``, ``hostile-dev`` otherwise.
"""

from __future__ import annotations

import faulthandler
import json
import math
import os
import time
import tracemalloc
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.exceptions import MlflowException

from fuzz.fuzz_codec import (
    IMPLEMENTATIONS,
    check_bytes,
    check_query,
    check_request,
    messages,
    refusal,
)
from mlflow_accel.server.http import request as request_body
from tests.support.core_impls import implementations

_COMMON = {
    "deadline": None,  # timing is bounded by _bounded(), without hypothesis' flaky deadline
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("hostile-ci", max_examples=50, derandomize=True, database=None, **_COMMON)
settings.register_profile("hostile-dev", max_examples=150, **_COMMON)
settings.register_profile("hostile-long", max_examples=5000, **_COMMON)
_PROFILE = settings.get_profile(
    "hostile-long"
    if os.environ.get("MLFLOW_ACCEL_LONG") == "1"
    else "hostile-ci"
    if os.environ.get("CI") == "true"
    else "hostile-dev"
)
# Tests drawing one message of the ~40 per example get more examples.
_MANY = settings(_PROFILE, max_examples=_PROFILE.max_examples * 4)

MESSAGES = messages()
HANG_SECONDS = 120  # a call still running then is a hang: the process dies with tracebacks
SLOW_SECONDS = 10.0  # an example slower than this fails
_PURE = IMPLEMENTATIONS[0][1].messages


@contextmanager
def _bounded(seconds: float = SLOW_SECONDS):
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    started = time.monotonic()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f}s (bound {seconds}s)"


def test_both_implementations_under_test():
    """As ``tests/support/core_impls.py``: the compiled build is compared wherever it is built, and
    must be under ``MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1`` (CI)."""
    if os.environ.get("MLFLOW_ACCEL_REQUIRE_EXTENSIONS"):
        assert [kind for kind, _ in IMPLEMENTATIONS] == ["pure", "compiled"]
    assert "LogBatch" in MESSAGES and "SearchExperiments" in MESSAGES


# -- hostile pieces ----------------------------------------------------------------------------

_BIG_DIGITS = "1" + "0" * 400
_TOKENS = [
    "1e400",
    "-1e400",
    "-0",
    "-0.0",
    "0.0",
    "5e-324",
    "1.7976931348623157e308",
    _BIG_DIGITS,
    "-" + _BIG_DIGITS,
    "9" * 5000,
    str(2**63 - 1),
    str(2**63),
    str(-(2**63)),
    str(-(2**63) - 1),
    str(2**31),
    str(2**64),
    "NaN",
    "Infinity",
    "-Infinity",
    "true",
    "false",
    "null",
    '""',
    '"NaN"',
    '"Infinity"',
    '"-Infinity"',
    '"nan"',
    '"inf"',
    '"1e400"',
    '"-0"',
    f'"{2**63}"',
    '" 1"',
    '"1_000"',
    '"0x10"',
    '"\\u0663"',
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud800\\ud800"',
    '"\\ud83d\\ude00"',
    '"\\u0000"',
    '"\\\\"',
    '"RUNNING"',
    '"ALL"',
    '"[x.y]"',
    "[]",
    "{}",
    "[null]",
]
_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d\ude00"]
_SPECIAL_STRINGS = [
    *_SURROGATES,
    "",
    "NaN",
    "Infinity",
    "-Infinity",
    "nan",
    "1e400",
    "-0",
    str(2**63),
    " 1",
    "1_000",
    "\x00",
    "..",
    "/a",
    "a/../b",
    "RUNNING",
    "ALL",
    "DELETED_ONLY",
]


def _field_names(spec) -> list[str]:
    """Every proto and JSON field name of a message spec and of its nested messages."""
    names = []
    for name, json_name, kind, _, _, sub in spec[2]:
        names += [name, json_name]
        if kind == _PURE.MESSAGE:
            names += _field_names(sub)
    return names


_FIELD_NAMES = sorted(
    {n for message in _PURE.MESSAGES for n in _field_names(_PURE.REQUESTS[message])}
)

_strings = st.one_of(
    st.text(max_size=20),
    st.sampled_from(_SPECIAL_STRINGS),
    st.text(st.sampled_from(["a", "'", '"', "\\", "%", "é", *_SURROGATES[:4]]), max_size=8),
)
_numbers = st.one_of(
    st.integers(),
    st.integers(-(2**64), 2**64),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**31, 10**400, 0]),
    st.floats(),
    st.sampled_from([-0.0, math.inf, -math.inf, math.nan, 5e-324, 1e308]),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _strings)
_keys = st.one_of(st.sampled_from(_FIELD_NAMES), _strings)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)


def _message_value(spec, draw):
    """A body for a message spec: some of its fields, each spelled either way, holding a
    well-shaped value (a nested message, a list) or a hostile value of any type."""
    body = {}
    for name, json_name, kind, repeated, _, sub in spec[2]:
        if not draw(st.booleans()):
            continue
        nested = kind == _PURE.MESSAGE
        shaped = draw(st.booleans())
        if shaped and nested:
            count = draw(st.integers(0, 2)) if repeated else 1
            value = [_message_value(sub, draw) for _ in range(count)]
            value = value if repeated else value[0]
        elif shaped and repeated:
            value = draw(st.lists(_scalars, max_size=3))
        else:
            value = draw(_values)
        body[draw(st.sampled_from([name, json_name]))] = value
    return body


@st.composite
def _bodies(draw, message: str):
    return _message_value(_PURE.REQUESTS[message], draw)


_json_text = st.recursive(
    st.one_of(
        st.sampled_from(_TOKENS),
        _strings.map(json.dumps),
        _numbers.map(
            lambda n: "1e999" if isinstance(n, float) and math.isinf(n) else json.dumps(n)
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(_keys.map(json.dumps), inner), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        ),
    ),
    max_leaves=8,
)


# -- properties ---------------------------------------------------------------------------------


@_PROFILE
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes(data):
    with _bounded():
        check_bytes(data)


@_PROFILE
@given(text=_json_text, encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_hostile_json_text(text, encoding):
    with _bounded():
        check_bytes(text.encode(encoding, "surrogatepass"))


@_MANY
@given(data=st.data())
def test_hostile_values_in_every_field(data):
    message = data.draw(st.sampled_from(MESSAGES))
    body = data.draw(_bodies(message))
    with _bounded():
        check_request(message, body)
        check_request(message, json.dumps(body))  # a double-encoded body: a JSON string


@_MANY
@given(message=st.sampled_from(MESSAGES), pairs=st.lists(st.tuples(_keys, _strings), max_size=6))
def test_hostile_query_arguments(message, pairs):
    with _bounded():
        check_query(message, pairs)


# -- validation rules, called directly ---------------------------------------------------------


def _validation_outcome(validation, function: str, args: tuple, typed: bool) -> tuple:
    """The rule's result or exception, comparable across implementations. ``typed``: arguments
    of the types the parser produces, for which only MLflow's refusal may escape."""
    try:
        return ("ok", repr(getattr(validation, function)(*args)))
    except MlflowException as e:
        return refusal(e)
    except Exception as e:
        if typed:
            raise
        return ("raised", type(e).__name__, str(e))


def _assert_rule_agrees(function: str, args: tuple, typed: bool) -> None:
    outcomes = {
        kind: _validation_outcome(build.validation, function, args, typed)
        for kind, build in IMPLEMENTATIONS
    }
    assert len(set(outcomes.values())) == 1, (function, args, outcomes)


_keys_or_none = st.none() | _strings | st.text(min_size=240, max_size=260)
_metric_numbers = st.one_of(st.none(), st.booleans(), _numbers, _strings)
_typed_calls = st.one_of(
    st.tuples(st.just("validate_run_id"), st.tuples(_strings)),
    st.tuples(
        st.just("validate_metric"),
        st.tuples(_keys_or_none, _metric_numbers, _metric_numbers, _metric_numbers),
    ),
    st.tuples(st.just("validate_param"), st.tuples(_keys_or_none, st.none() | _strings)),
    st.tuples(st.just("validate_tag"), st.tuples(_keys_or_none, st.none() | _strings)),
    st.tuples(
        st.just("validate_batch"),
        st.tuples(
            _strings,
            st.lists(st.tuples(_strings, _numbers, st.integers(), st.integers()), max_size=3),
            st.lists(st.tuples(_strings, _strings), max_size=3),
            st.lists(st.tuples(_strings, _strings), max_size=3),
        ),
    ),
)


@_PROFILE
@given(call=_typed_calls)
def test_validation_rules_refuse_the_mlflow_way(call):
    with _bounded():
        _assert_rule_agrees(*call, typed=True)


_ARITY = {
    "validate_run_id": 1,
    "validate_metric": 4,
    "validate_param": 2,
    "validate_tag": 2,
    "validate_batch": 4,
}


@_PROFILE
@given(function=st.sampled_from(sorted(_ARITY)), args=st.lists(_values, min_size=4, max_size=4))
def test_validation_rules_agree_on_wrong_types(function, args):
    with _bounded():
        _assert_rule_agrees(function, tuple(args[: _ARITY[function]]), typed=False)


# -- fixed extremes: deep nesting, megabyte strings -------------------------------------------

_DEEP = 100_000
_MB = 1 << 20
EXTREMES = {
    "deep-arrays": b"[" * _DEEP + b"]" * _DEEP,
    "deep-objects": b'{"a":' * _DEEP + b"1" + b"}" * _DEEP,
    "deep-in-run-id": b'{"run_id": ' + b"[" * _DEEP + b"]" * _DEEP + b"}",
    "deep-in-metrics": b'{"run_id": "r", "metrics": [' + b"[" * _DEEP + b"]" * _DEEP + b"]}",
    "deep-unclosed": b"[" * _DEEP,
    "deep-below-orjson-limit": b'{"run_id": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "big-string-every-field": (
        "{" + ", ".join(f'"{n}": "{"x" * _MB}"' for n in _FIELD_NAMES[:8]) + "}"
    ).encode(),
    "big-surrogate-string": b'{"run_id": "r", "key": "' + b"\\ud800" * (_MB // 6) + b'"}',
    "big-non-ascii-string": b'{"experiment_name": "' + "é".encode() * _MB + b'"}',
    "big-number-string": b'{"timestamp": "' + b"9" * _MB + b'", "value": "' + b"9" * _MB + b'"}',
    "big-int-literal": b'{"max_results": ' + b"9" * _MB + b"}",
    "many-metrics": b'{"run_id": "r", "metrics": [' + b", ".join([b"{}"] * 100_000) + b"]}",
    "many-keys": b"{" + b", ".join(b'"k%d": 1' % i for i in range(20_000)) + b"}",
}


@pytest.mark.parametrize("body", list(EXTREMES.values()), ids=list(EXTREMES))
def test_extreme_bodies(body):
    with _bounded(seconds=30.0):
        check_bytes(body)


@pytest.mark.parametrize("parse", implementations("parse"))
def test_value_too_deep_to_quote_is_refused(parse):
    """Regression: a value ~1000 deep (orjson decodes up to 1024 levels) in a field whose type
    check fails overflowed the stack in MLflow's ``invalid_value`` (``json.dumps``): a
    RecursionError, an HTTP 500. Refused like any other wrong type now, without the value."""
    body = request_body.decode_json(b'{"run_id": ' + b"[" * 1000 + b"]" * 1000 + b"}")
    with pytest.raises(MlflowException) as caught:
        parse.parse_request("GetRun", body)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.message == (
        "Invalid value (nested too deeply) for parameter 'run_id' supplied: Hint: Value was of"
        " type 'list'. See the API docs for more information about request parameters."
    )


_AMPLIFICATION = 64  # bytes of memory per body byte the request path may peak at (measured: 13-46)


@pytest.mark.parametrize(
    "name", ["big-string-every-field", "big-non-ascii-string", "big-number-string", "many-metrics"]
)
def test_extreme_bodies_memory_is_linear(name):
    """Peak memory while one implementation parses one big body stays a small multiple of it.

    (orjson alone peaks at about 13 bytes per byte of a long string, and a LogBatch body of
    ``{}`` metrics decodes to about 36: every element becomes a dict, then a tuple.)"""
    body = EXTREMES[name]
    tracemalloc.start()
    try:
        for message in ("LogBatch", "LogMetric", "GetExperimentByName", "SearchRuns"):
            with _bounded(seconds=30.0):
                check_request(message, request_body.decode_json(body), IMPLEMENTATIONS[-1:])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < _AMPLIFICATION * len(body) + 4 * _MB, f"peak {peak / _MB:.0f} MiB"
