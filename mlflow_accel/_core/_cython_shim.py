"""Stand-in for the ``cython`` module when a core source runs as plain Python without Cython.

Only the names the core sources use: type names become Python's, decorators do nothing.
"""

compiled = False
int = int
double = float
bint = bool
Py_ssize_t = int


def cfunc(function):
    return function


def ccall(function):
    return function


def inline(function):
    return function


def locals(**_types):
    return lambda function: function


def declare(_type=None, value=None, **_kwargs):
    return value
