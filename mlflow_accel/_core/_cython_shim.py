"""Stand-in for the ``cython`` module when a core source runs as plain Python without Cython.

Only the names the core sources use: type names become Python's, decorators do nothing.
"""

int = int
double = float
bint = bool
Py_ssize_t = int


def cfunc(function):
    return function


def declare(_type, value):
    return value
