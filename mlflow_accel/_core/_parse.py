"""A decoded JSON request body -> the plain field values MLflow's server would parse from it.

Owns ``parse_request`` (protobuf's ``ParseDict`` rules plus MLflow's checks around it, with the
same refusals), ``parse_request_with_presence`` and ``query_to_json`` (a GET request's body).

Cython pure-Python mode: compiled when built, imported as plain Python otherwise.
"""

import builtins
import json
import math
import re

from mlflow.utils.validation import invalid_value

from mlflow_accel import _core

try:
    import cython
except ImportError:
    from mlflow_accel._core import _cython_shim as cython

_messages = _core.sibling(__name__, "messages")
_invalid = _core.sibling(__name__, "validation").invalid_parameter

# Builtins called through module globals so that Cython does not swap in its own conversions:
# every accepted spelling and every error message must be CPython's, as protobuf sees them.
_int = builtins.int
_float = builtins.float

_REQUESTS = _messages.REQUESTS
# The field kinds and schema checks as C ints: compared on every field.
_STRING = cython.declare(cython.int, _messages.STRING)
_INT64 = cython.declare(cython.int, _messages.INT64)
_INT32 = cython.declare(cython.int, _messages.INT32)
_DOUBLE = cython.declare(cython.int, _messages.DOUBLE)
_MESSAGE = cython.declare(cython.int, _messages.MESSAGE)
_BOOL = cython.declare(cython.int, _messages.BOOL)
_REQUIRED = cython.declare(cython.int, _messages.REQUIRED)
_STRING_TYPE = cython.declare(cython.int, _messages.STRING_TYPE)
_INTLIKE = cython.declare(cython.int, _messages.INTLIKE)
_FLOATLIKE = cython.declare(cython.int, _messages.FLOATLIKE)
_ARRAY = cython.declare(cython.int, _messages.ARRAY)
_ITEMS_STRING = cython.declare(cython.int, _messages.ITEMS_STRING)
_AT_MOST = cython.declare(cython.int, _messages.AT_MOST)
_BOOL_TYPE = cython.declare(cython.int, _messages.BOOL_TYPE)
_TYPE_CHECKS = _messages.TYPE_CHECKS
_I64_MIN = _messages.I64_MIN
_I64_MAX = _messages.I64_MAX
_I32_MIN = _messages.I32_MIN
_I32_MAX = _messages.I32_MAX

_API_DOCS = " See the API docs for more information about request parameters."
MAX_BATCH_LOG_REQUEST_SIZE = 1000000  # mlflow.utils.validation: int(1e6)

# protobuf's json_format patterns, verbatim.
_UNPAIRED_SURROGATE = re.compile(
    "[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]"
)
_EXTENSION_NAME = re.compile(r"\[[a-zA-Z0-9\._]*\]$")


class _ParseError(Exception):
    """protobuf's ``json_format.ParseError``, with its messages."""


class _ScalarError(Exception):
    """A ParseError of ``_ConvertScalarFieldValue``: its message gets `` at <path>``."""


class _Crash(Exception):
    """An exception ParseDict lets escape (MLflow answers HTTP 500)."""


_SKIP = object()  # an unknown enum name: ParseDict(ignore_unknown_fields=True) leaves the field


@cython.cfunc
def _path(ppath, pname, pindex: cython.Py_ssize_t):
    if pname is None:
        return ppath
    if pindex < 0:
        return f"{ppath}.{pname}"
    return f"{ppath}.{pname}[{pindex}]"


@cython.cfunc
def _unencodable(value) -> cython.bint:
    """A str upb cannot look up: one holding surrogates, which UTF-8 cannot encode."""
    if not isinstance(value, str) or value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@cython.cfunc
def _convert_integer(value):
    """protobuf's ``_ConvertInteger``."""
    if isinstance(value, float) and not value.is_integer():
        raise _ScalarError(f"Couldn't parse integer: {value}")
    if isinstance(value, str) and value.find(" ") != -1:
        raise _ScalarError(f'Couldn\'t parse integer: "{value}"')
    if isinstance(value, bool):
        raise _ScalarError(f"Bool value {value} is not acceptable for integer field")
    try:
        return _int(value)
    except ValueError as e:
        try:
            number = _float(value)
        except ValueError:
            raise e from None
        if not number.is_integer():
            raise _ScalarError(f'Couldn\'t parse non-integer string: "{value}"') from None
        return _int(number)


@cython.cfunc
def _convert_float(value):
    """protobuf's ``_ConvertFloat`` for a double field."""
    if isinstance(value, float):
        if math.isnan(value):
            raise _ScalarError('Couldn\'t parse NaN, use quoted "NaN" instead')
        if math.isinf(value):
            if value > 0:
                raise _ScalarError(
                    'Couldn\'t parse Infinity or value too large, use quoted "Infinity" instead'
                )
            raise _ScalarError(
                'Couldn\'t parse -Infinity or value too small, use quoted "-Infinity" instead'
            )
        return _float(value)
    if value == "nan":
        raise _ScalarError('Couldn\'t parse float "nan", use "NaN" instead')
    try:
        return _float(value)
    except ValueError:
        if value == "-Infinity":
            return -math.inf
        if value == "Infinity":
            return math.inf
        if value == "NaN":
            return math.nan
        raise _ScalarError(f"Couldn't parse float: {value}") from None


@cython.cfunc
def _convert_string(value):
    """A string field: protobuf's surrogate check, then upb's UTF-8 encoding."""
    if type(value) is str and value.isascii():
        return value
    if _UNPAIRED_SURROGATE.search(value) is not None:  # a TypeError for non-strings, as protobuf
        raise _ScalarError("Unpaired surrogate")
    value.encode("utf-8")  # paired surrogates: upb's UnicodeEncodeError
    return value


@cython.cfunc
def _convert_enum(value, enum: tuple):
    number = enum[1].get(value)  # a TypeError for unhashable values, as protobuf
    if number is None:
        if _unencodable(value):  # upb's values_by_name.get fails: a SystemError
            raise _Crash(f"Invalid enum value {value!r} for enum type {enum[0]}")
        try:
            number = _int(value)
        except ValueError:
            return _SKIP
        if number not in enum[2]:
            raise _ScalarError(f"Invalid enum value {value} for enum type {enum[0]}")
    return number


@cython.cfunc
def _convert_scalar(kind: cython.int, field: tuple, value):
    """One scalar as ParseDict stores it: ``_ScalarError``/``ValueError``/``TypeError`` else."""
    if kind == _STRING:
        return _convert_string(value)
    if kind == _INT64 or kind == _INT32:  # noqa: SIM109 (C ints, no tuple)
        number = value if type(value) is int else _convert_integer(value)
        if kind == _INT64:
            if number < _I64_MIN or number > _I64_MAX:
                raise ValueError(f"Value out of range: {number}")
        elif number < _I32_MIN or number > _I32_MAX:
            raise ValueError(f"Value out of range: {number}")
        return number
    if kind == _DOUBLE:
        if type(value) is float and value - value == 0.0:
            return value
        return _convert_float(value)
    if kind == _BOOL:
        if isinstance(value, bool):
            return value
        raise _ScalarError("Expected true or false without quotes")
    return _convert_enum(value, field[5])


@cython.cfunc
def _convert_message(mspec: tuple, js, ppath, pname, pindex: cython.Py_ssize_t):
    """A nested message: the tuple of its fields (proto defaults where unset)."""
    values = list(mspec[5])
    for index in mspec[6]:
        values[index] = []
    _convert_fields(mspec, js, values, None, ppath, pname, pindex)
    return tuple(values)


@cython.cfunc
def _convert_fields(
    mspec: tuple, js, values: list, present, ppath, pname, pindex: cython.Py_ssize_t
):
    """protobuf's ``_Parser._ConvertFieldValuePair``, into ``values`` (and the ``present``
    list of flags, or None)."""
    fields: tuple = mspec[2]
    lookup: dict = mspec[3]
    elem: cython.Py_ssize_t
    for name in js:  # a TypeError for non-iterables, caught by the parent field as protobuf's
        field = None
        elem = -1
        try:
            index = lookup.get(name)
            if index is None:
                if _unencodable(name):  # upb's fields_by_name.get fails: a SystemError
                    raise _Crash(f"Invalid field name {name!r} at {_path(ppath, pname, pindex)}.")
                if _EXTENSION_NAME.match(name) is not None:
                    path = _path(ppath, pname, pindex)
                    raise _ParseError(f"Message type {mspec[0]} does not have extensions at {path}")
                continue
            field = fields[index]
            value = js[name]
            if value is None:
                values[index] = [] if field[3] else field[4]
                if present is not None:
                    present[index] = False
                continue
            kind: cython.int = field[2]
            if field[3]:
                if not isinstance(value, (list, tuple)):
                    path = _path(ppath, pname, pindex)
                    raise _ParseError(
                        f"repeated field {name} must be in [] which is {value} at {path}"
                    )
                out = []
                values[index] = out
                if kind == _MESSAGE:
                    sub: tuple = field[5]
                    path = _path(ppath, pname, pindex)
                    for elem, item in enumerate(value):
                        if item is None:
                            raise _ParseError(
                                "null is not allowed to be used as an element in a repeated "
                                f"field at {path}.{name}[{elem}]"
                            )
                        out.append(_convert_message(sub, item, path, name, elem))
                else:
                    for elem, item in enumerate(value):
                        if item is None:
                            raise _ParseError(
                                "null is not allowed to be used as an element in a repeated "
                                f"field at {_path(ppath, pname, pindex)}.{name}[{elem}]"
                            )
                        converted = _convert_scalar(kind, field, item)
                        if converted is not _SKIP:
                            out.append(converted)
                    elem = -1
            elif kind == _MESSAGE:
                values[index] = _convert_message(
                    field[5], value, _path(ppath, pname, pindex), name, -1
                )
                if present is not None:
                    present[index] = True
            else:
                converted = _convert_scalar(kind, field, value)
                if converted is not _SKIP:
                    values[index] = converted
                    if present is not None:
                        present[index] = True
        except _Crash:
            raise
        except _ScalarError as e:
            path = _path(_path(ppath, pname, pindex), name, elem)
            raise _ParseError(f"Failed to parse {name} field: {e} at {path}.") from None
        except _ParseError as e:
            if field is not None:
                raise _ParseError(f"Failed to parse {name} field: {e}.") from None
            raise
        except (ValueError, TypeError) as e:
            raise _ParseError(f"Failed to parse {name} field: {e}.") from None
        except Exception as e:
            path = _path(_path(ppath, pname, pindex), name, elem)
            raise _Crash(f"Failed to parse {name} field: {e} at {path}.") from None


# -- request parsing: MLflow's checks around ParseDict ------------------------------------------


@cython.cfunc
def _reject_conflicting_aliases(mspec: tuple, js):
    """``handlers._reject_conflicting_field_aliases``."""
    if not isinstance(js, dict):
        return
    for name, json_name, sub in mspec[4]:
        if json_name is not None and name in js and json_name in js:
            raise _invalid(
                f"Request specifies both '{name}' and '{json_name}'; provide only one of them."
            )
        if sub is not None:
            value = js.get(name, js.get(json_name if json_name is not None else name))
            if isinstance(value, list):
                for item in value:
                    _reject_conflicting_aliases(sub, item)
            else:
                _reject_conflicting_aliases(sub, value)


_FAILED = object()  # a check that raised something other than AssertionError (an HTTP 500)


@cython.cfunc
def _check(code: cython.int, arg, param, value):
    """One of MLflow's schema checks: None if it passes; else "" (AssertionError without a
    message), the AssertionError's message, or ``_FAILED``."""
    if code == _REQUIRED:
        return None if value is not None and value != "" else ""
    if code == _STRING_TYPE:
        return None if isinstance(value, str) else ""
    if code == _ARRAY:
        return None if isinstance(value, list) else ""
    if code == _BOOL_TYPE:
        return None if isinstance(value, bool) else ""
    if code == _INTLIKE:
        try:
            value = _int(value)
        except ValueError:
            pass
        except Exception:
            return _FAILED
        return None if isinstance(value, int) else ""
    if code == _FLOATLIKE:
        try:
            value = _float(value)
        except ValueError:
            pass
        except Exception:
            return _FAILED
        return None if isinstance(value, float) else ""
    if code == _ITEMS_STRING:
        try:
            for item in value:
                if not isinstance(item, str):
                    return ""
        except Exception:
            return _FAILED
        return None
    if code == _AT_MOST:
        try:
            return None if _int(value) <= arg else ""
        except Exception:
            return _FAILED
    # _KEYS_PRESENT
    try:
        for index, element in enumerate(value):
            for key in arg:
                item = element.get(key)
                if item is None or item == "":
                    return f"Missing value for required parameter '{param}[{index}].{key}'."
    except Exception:
        return _FAILED
    return None


@cython.cfunc
def _invalid_value(param, value, hint):
    """MLflow's ``invalid_value`` message; for a value nested too deeply for its ``json.dumps``
    (a ``RecursionError``: MLflow answers HTTP 500) the same message without the value."""
    try:
        return invalid_value(param, value, hint)
    except RecursionError:
        return f"Invalid value (nested too deeply) for parameter '{param}' supplied:{hint}"


@cython.cfunc
def _validate_schema(mspec: tuple, js: dict, parsed: cython.bint):
    """``handlers._validate_request_json_with_schema``."""
    for param, checks, required in mspec[7]:
        if param not in js and not required:
            continue
        value = js.get(param)
        if param == "run_id" and value is None and "run_uuid" in js:
            value = js.get("run_uuid")
        for code, arg in checks:
            if parsed and code in _TYPE_CHECKS:
                continue
            failure = _check(code, arg, param, value)
            if failure is None:
                continue
            if failure is _FAILED or failure == "":
                if failure == "" and code == _REQUIRED:
                    message = f"Missing value for required parameter '{param}'."
                else:
                    hint = f" Hint: Value was of type '{type(value).__name__}'."
                    message = _invalid_value(param, value, hint)
            else:
                message = failure
            raise _invalid(message + _API_DOCS)


@cython.cfunc
def _parse(message, body):
    mspec = _REQUESTS.get(message)
    if mspec is None:
        raise ValueError(f"mlflow_accel: unknown request message {message!r}")
    if mspec[8] and isinstance(body, (dict, list, str)) and len(body) > MAX_BATCH_LOG_REQUEST_SIZE:
        # utils.validation._validate_batch_log_api_req, on the body as Flask decoded it.
        raise _invalid(
            f"Batched logging API requests must be at most {MAX_BATCH_LOG_REQUEST_SIZE} bytes, "
            f"got a request of size {len(body)}."
        )
    if isinstance(body, str):  # older clients double-encode their JSON
        try:
            body = json.loads(body)
        except ValueError as e:
            raise _invalid(f"Malformed JSON in the request body: {e}") from None
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _invalid(f"Invalid request body: expected a JSON object, got {type(body).__name__}.")
    _reject_conflicting_aliases(mspec, body)
    values = list(mspec[5])
    for index in mspec[6]:
        values[index] = []
    present = [False] * len(values)
    failure = None
    try:
        _convert_fields(mspec, body, values, present, mspec[1], None, -1)
    except _ParseError as e:
        failure = e
    except _Crash as e:
        raise _invalid(str(e)) from None
    _validate_schema(mspec, body, failure is None)
    if failure is not None:
        raise _invalid(str(failure))
    return mspec, values, present


def parse_request(message: str, body) -> dict:
    """The fields of request ``message`` (e.g. ``"LogBatch"``) from a decoded JSON ``body``.

    Every field, in declaration order, with the proto default where the body has none; repeated
    fields as lists, repeated message fields as lists of tuples of the nested message's fields in
    declaration order (a ``LogBatch`` metric is ``(key, value, timestamp, step, dataset_name,
    dataset_digest, model_id, run_id)``, a param or tag ``(key, value)``).

    As MLflow's server does in ``mlflow.server.handlers._get_request_message``:

    1. ``LogBatch`` bodies are size-checked (``_validate_batch_log_api_req``, on the decoded
       body), then the body is normalised (a JSON string is decoded once more, ``None`` becomes
       ``{}``);
    2. a body spelling one field both ways (``run_id`` and ``runId``) is refused;
    3. the body is converted field by field with protobuf's ``json_format.ParseDict`` rules and
       ``ignore_unknown_fields=True`` (MLflow's ``parse_dict``): int64/int32 from numbers or
       decimal strings, doubles from numbers, numeric strings, ``"NaN"``, ``"Infinity"``,
       ``"-Infinity"``, enums from names or numbers, unknown fields and unknown enum names
       ignored, ``null`` leaving the proto default, the first problem in body order reported
       with protobuf's ``ParseError`` text;
    4. the handler's schema (``_assert_required``, ``_assert_string``, ...) is checked against
       the raw body, the type checks only when step 3 failed, with MLflow's messages;
    5. where MLflow would carry on with a half-parsed message after a failed step 3 (its schema
       having no objection), this raises instead, with the ``ParseError`` text as the message.

    Every refusal is ``MlflowException`` with ``INVALID_PARAMETER_VALUE``. Where MLflow itself
    fails with an unexpected exception (an HTTP 500: a top-level body that is not a JSON object, a
    metric element that is not an object, ``int(None)`` inside a schema check,
    ``float(10**400)``), this raises ``MlflowException`` with ``INVALID_PARAMETER_VALUE`` too,
    naming the parameter. Left to the HTTP layer, as in MLflow before ``_get_request_message``:
    the Content-Type check, and Flask's ``get_json(silent=True)`` turning an undecodable body into
    ``None`` (so ``{}``).
    """
    mspec, values, _ = _parse(message, body)
    return dict(zip(mspec[9], values, strict=True))


def parse_request_with_presence(message: str, body) -> tuple:
    """``(parse_request(message, body), frozenset of the singular fields the body set)``.

    A field is set when the body gives it a non-null value (an unknown enum name does not set
    it): protobuf's ``HasField``.
    """
    mspec, values, present = _parse(message, body)
    names = mspec[9]
    return (
        dict(zip(names, values, strict=True)),
        frozenset([name for name, flag in zip(names, present, strict=True) if flag]),
    )


def query_to_json(message: str, args) -> dict:
    """The body MLflow's server builds from a GET request's query arguments.

    ``args``: a ``werkzeug`` ``MultiDict`` (anything with ``getlist``), a mapping of name to a
    string or a list of strings, or an iterable of ``(name, value)`` pairs. Fields in declaration
    order, by proto name only; repeated fields take every value, the others the first.
    """
    mspec = _REQUESTS.get(message)
    if mspec is None:
        raise ValueError(f"mlflow_accel: unknown request message {message!r}")
    if hasattr(args, "getlist"):
        multi = {name: args.getlist(name) for name in args}
    else:
        multi = {}
        pairs = args.items() if hasattr(args, "items") else args
        for name, value in pairs:
            if isinstance(value, list):
                multi.setdefault(name, []).extend(value)
            else:
                multi.setdefault(name, []).append(value)
    request_json = {}
    for field in mspec[2]:
        name = field[0]
        found = multi.get(name)
        if found is None:
            continue
        if field[3]:
            request_json[name] = list(found)
        elif found:
            request_json[name] = found[0]
    return request_json
