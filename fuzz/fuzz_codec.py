"""Coverage-guided fuzzer of the request parser: hostile bytes in, MLflow's refusal or the same
values from the compiled core and its pure-Python twin out.

One input is the raw bytes of a request body, and the same bytes as a query string. They go
through the fast path's entry points (``mlflow_accel/server/handlers/tracking.py``):
``request_body.decode_json`` then ``parse.parse_request_with_presence``, and
``request_body.query_pairs`` then ``parse.query_to_json`` and the same parse, for every message
in ``messages.MESSAGES``; an accepted request's values then go through MLflow's validation rules
(``validation.validate_batch``, ``validate_metric``, ...). ``check_bytes`` asserts, once per
implementation:

- nothing escapes but ``MlflowException`` with ``INVALID_PARAMETER_VALUE`` (MLflow's code for a
  bad request parameter, an HTTP 400);
- the compiled core and the pure-Python source give the same outcome: the same values (and set
  fields, and validated values), or the same error code and message.

Run by hand, to grow the corpus (atheris guides itself by the coverage of the pure-Python twin,
whose bytecode it instruments; the compiled core runs beside it on every input)::

    python fuzz/fuzz_codec.py fuzz/corpus -max_total_time=600 -timeout=10 -rss_limit_mb=4096

Without atheris the same command runs a plain random-mutation loop over the corpus
(``-max_total_time`` and ``-runs`` honoured), saving any failing input as ``crash-<sha1>``.
``tests/core/test_fuzz_corpus.py`` replays every corpus file in the normal test run.
"""

from __future__ import annotations

import hashlib
import random
import shlex
import sys
import time
from pathlib import Path

from mlflow.exceptions import MlflowException

from mlflow_accel import _core
from mlflow_accel.server.http import request as request_body

REFUSAL_CODE = "INVALID_PARAMETER_VALUE"
_NOT_DECODED = object()


IMPLEMENTATIONS = list(_core.implementations().items())  # [(kind, build)], pure first


def messages(impls=IMPLEMENTATIONS) -> list[str]:
    """Every request message any implementation knows (a stale build must know them all too)."""
    return sorted({message for _, build in impls for message in build.messages.MESSAGES})


def refusal(error: MlflowException) -> tuple:
    assert error.error_code == REFUSAL_CODE, f"refused with {error.error_code}: {error.message}"
    return ("refused", error.error_code, error.message)


def _validated(validation, message: str, values: dict):
    """What MLflow's validation makes of the parsed values the store would check."""
    if message == "LogBatch":
        metrics = [metric[:4] for metric in values["metrics"]]
        return validation.validate_batch(
            values["run_id"], metrics, values["params"], values["tags"]
        )
    if message == "LogMetric":
        args = (values["key"], values["value"], values["timestamp"], values["step"])
        return validation.validate_metric(*args)
    if message == "LogParam":
        return validation.validate_param(values["key"], values["value"])
    if message == "SetTag":
        return validation.validate_tag(values["key"], values["value"])
    if values.get("run_id"):
        return validation.validate_run_id(values["run_id"])
    return None


def parse_outcome(build, message: str, request) -> tuple:
    """``("ok", values, set fields, validated)`` or ``("refused", code, message)``, comparable
    across implementations (floats by ``repr``: NaN equals NaN, -0.0 differs from 0.0)."""
    try:
        values, present = build.parse.parse_request_with_presence(message, request)
        validated = _validated(build.validation, message, values)
    except MlflowException as e:
        return refusal(e)
    return ("ok", repr(values), sorted(present), repr(validated))


def _assert_same(outcomes: dict, what: str) -> None:
    first, *rest = outcomes.items()
    for name, outcome in rest:
        assert outcome == first[1], (
            f"{what}: {first[0]} {first[1]!r:.2000} != {name} {outcome!r:.2000}"
        )


def check_request(message: str, request, impls=IMPLEMENTATIONS) -> tuple:
    """The properties for one decoded body; returns the (common) outcome."""
    outcomes = {kind: parse_outcome(build, message, request) for kind, build in impls}
    _assert_same(outcomes, message)
    return outcomes[impls[0][0]]


def check_query(message: str, pairs: list, impls=IMPLEMENTATIONS) -> tuple:
    """The properties for one query string's ``(name, value)`` pairs."""
    outcomes = {}
    for kind, build in impls:
        request = build.parse.query_to_json(message, pairs)
        outcomes[kind] = (repr(request), parse_outcome(build, message, request))
    _assert_same(outcomes, f"{message} (query)")
    return outcomes[impls[0][0]]


def _decoded(decode, data: bytes):
    try:
        return decode(data)
    except MlflowException as e:
        refusal(e)
        return _NOT_DECODED


def check_bytes(data: bytes, impls=IMPLEMENTATIONS) -> None:
    """The properties for one input, as a body and as a query string, for every message."""
    body = _decoded(request_body.decode_json, data)
    pairs = _decoded(request_body.query_pairs, data)
    for message in messages(impls):
        if body is not _NOT_DECODED:
            check_request(message, body, impls)
        if pairs is not _NOT_DECODED:
            check_query(message, pairs, impls)


# -- running the fuzzer ---------------------------------------------------------------------------


def _instrument(module) -> None:
    """atheris coverage for the functions defined in ``module`` (called through its globals)."""
    import atheris

    for name, value in vars(module).items():
        if hasattr(value, "__code__") and value.__module__ == module.__name__:
            setattr(module, name, atheris.instrument_func(value))


def _run_atheris(argv: list[str]) -> None:
    import atheris

    impls = list(_core.implementations(require_compiled=True).items())
    pure = impls[0][1]  # the pure twin: bytecode atheris can instrument
    _instrument(pure.parse)
    _instrument(pure.validation)
    _instrument(request_body)
    # libFuzzer re-runs argv[0] through the shell for -merge, -fork and -jobs: this interpreter
    # and this script, whatever their modes and the PATH
    command = " ".join(shlex.quote(part) for part in (sys.executable, str(Path(__file__))))
    atheris.Setup([command, *argv[1:]], lambda data: check_bytes(data, impls))
    atheris.Fuzz()


_TOKENS = [
    b"[",
    b"{",
    b'"',
    b"\\ud800",
    b"1e400",
    b"-0",
    b"NaN",
    b"9223372036854775808",
    b'"run_id":',
    b'"metrics":[{',
    b"\xff",
    b"%ff",
    b"&",
    b"=",
]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(data))
        choice = rng.random()
        if choice < 0.4:
            data[at:at] = rng.choice(_TOKENS)
        elif choice < 0.7 and data:
            del data[at : at + rng.randint(1, 8)]
        elif data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
    return bytes(data)


def _run_mutation(argv: list[str]) -> None:
    """The fallback without atheris: random mutations of the corpus inputs."""
    options = dict(arg[1:].split("=", 1) for arg in argv[1:] if arg.startswith("-") and "=" in arg)
    folders = [Path(arg) for arg in argv[1:] if not arg.startswith("-")]
    inputs = [p.read_bytes() for folder in folders for p in sorted(folder.iterdir())] or [b"{}"]
    deadline = time.monotonic() + float(options.get("max_total_time", 60))
    runs = int(options.get("runs", -1))
    rng = random.Random(int(options.get("seed", 0)))
    done = 0
    while time.monotonic() < deadline and done != runs:
        data = _mutate(rng.choice(inputs), rng)
        try:
            check_bytes(data)
        except BaseException:
            crash = Path(f"crash-{hashlib.sha1(data).hexdigest()}")
            crash.write_bytes(data)
            print(f"failing input written to {crash}", file=sys.stderr)
            raise
        done += 1
    print(f"{done} inputs, no failure", file=sys.stderr)


def main(argv: list[str]) -> None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: random mutation instead", file=sys.stderr)
        _run_mutation(argv)
        return
    _run_atheris(argv)


if __name__ == "__main__":
    main(sys.argv)
