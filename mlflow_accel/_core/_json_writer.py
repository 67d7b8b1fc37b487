"""``dumps``: a response dict -> the bytes MLflow sends, ``json.dumps(value, indent=2)`` exactly.

Cython pure-Python mode: compiled when built, imported as plain Python otherwise.
"""

import codecs
import json
from json.encoder import encode_basestring_ascii

import orjson

try:
    import cython
except ImportError:
    from mlflow_accel._core import _cython_shim as cython

_MAX_DEPTH = cython.declare(cython.int, 200)  # below orjson's own limit (255)
_JSON_ESCAPE = "mlflow_accel.json_ascii"
_orjson_dumps = orjson.dumps
_OrjsonError = orjson.JSONEncodeError
_Fragment = orjson.Fragment
_INDENT_2 = orjson.OPT_INDENT_2


def _json_ascii_errors(error):
    """Codec error handler: non-ASCII characters as ``json`` escapes them (``\\u00e9``)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return encode_basestring_ascii(error.object[error.start : error.end])[1:-1], error.end


codecs.register_error(_JSON_ESCAPE, _json_ascii_errors)


_NOT_EXACT = cython.declare(cython.int, 1)
_RESPELL = cython.declare(cython.int, 2)
_NON_ASCII_KEY = cython.declare(cython.int, 4)


@cython.cfunc
def _respell(obj) -> cython.bint:
    """A value orjson spells unlike ``json``: a float below 1e-4 (orjson writes 1e-5 as
    ``0.00001`` and 1e-7 as ``1e-7``, ``json`` ``1e-05`` and ``1e-07``; every other finite float
    is spelled alike), or a str with non-ASCII characters (``json`` escapes them)."""
    number: cython.double
    kind = type(obj)
    if kind is str:
        return not obj.isascii()  # O(1): CPython keeps the flag
    if kind is float:
        number = obj
        return number != 0.0 and -1e-4 < number < 1e-4
    return False


@cython.cfunc
def _scan(obj, depth: cython.int) -> cython.int:
    """Flags: ``_NOT_EXACT`` where orjson cannot render ``obj`` as ``json`` does (a type other
    than JSON's own exact types, a NaN or infinite float, deep nesting), ``_RESPELL`` where it
    holds a value to respell, ``_NON_ASCII_KEY``. (orjson itself refuses non-str keys, lone
    surrogates and ints beyond 64 bits.)"""
    number: cython.double
    flags: cython.int = 0
    kind = type(obj)
    if kind is str:
        return _RESPELL if _respell(obj) else 0
    if kind is int or kind is bool or obj is None:
        return 0
    if kind is float:
        number = obj
        if number - number != 0.0:
            return _NOT_EXACT
        return _RESPELL if _respell(obj) else 0
    if depth >= _MAX_DEPTH:
        return _NOT_EXACT
    if kind is dict:
        for key, value in obj.items():
            if type(key) is str and not key.isascii():
                flags |= _NON_ASCII_KEY
            flags |= _scan(value, depth + 1)
            if flags & _NOT_EXACT:
                return flags
        return flags
    if kind is list or kind is tuple:
        for value in obj:
            flags |= _scan(value, depth + 1)
            if flags & _NOT_EXACT:
                return flags
        return flags
    return _NOT_EXACT


@cython.cfunc
def _respelled(obj):
    """``obj`` with each value to respell as an ``orjson.Fragment`` of ``json``'s spelling
    (``repr`` for floats). Containers are copied only where changed."""
    kind = type(obj)
    if kind is dict:
        copied = None
        for key, value in obj.items():
            new = _respelled(value)
            if new is not value:
                if copied is None:
                    copied = dict(obj)
                copied[key] = new
        return obj if copied is None else copied
    if kind is list or kind is tuple:
        copied = None
        for index, value in enumerate(obj):
            new = _respelled(value)
            if new is not value:
                if copied is None:
                    copied = list(obj)
                copied[index] = new
        return obj if copied is None else copied
    if _respell(obj):
        return _Fragment(repr(obj) if kind is float else encode_basestring_ascii(obj))
    return obj


def dumps(obj) -> bytes:
    """``json.dumps(obj, indent=2).encode()``: what ``message_to_json`` gives MLflow's response.

    Byte for byte: two-space indent, items parted by ``,`` and a newline, ``": "`` after keys,
    ASCII only with ``\\uXXXX`` escapes, ``repr`` floats. orjson renders; the values it spells
    differently (floats below 1e-4, non-ASCII strings) go in as fragments spelled by ``repr`` and
    ``json``'s own string encoder; non-ASCII keys and DEL are escaped in its output as ``json``
    escapes them. Values orjson cannot render as ``json`` would (NaN/inf floats, subclasses,
    non-str keys, other types, ints beyond 64 bits, deep nesting, lone surrogates) go to
    ``json.dumps`` itself, with its exceptions.
    """
    flags: cython.int = _scan(obj, 0)
    if flags & _NOT_EXACT:
        return json.dumps(obj, indent=2).encode("ascii")
    try:
        out = _orjson_dumps(_respelled(obj) if flags & _RESPELL else obj, option=_INDENT_2)
    except _OrjsonError:  # non-str keys, lone surrogates, ints beyond 64 bits
        return json.dumps(obj, indent=2).encode("ascii")
    if flags & _NON_ASCII_KEY:
        out = out.decode("utf-8").encode("ascii", _JSON_ESCAPE)
    if b"\x7f" in out:  # DEL is ASCII, so left alone above; only ever inside a string
        out = out.replace(b"\x7f", b"\\u007f")
    return out
