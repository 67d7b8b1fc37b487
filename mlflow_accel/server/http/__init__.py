"""The HTTP plumbing every mount of the fast path shares.

``request``: what a handler reads of a request; ``body``: the body read once, with the size
limit; ``response``: a handler's answer or error as ``(status, body)`` and its ASGI sending;
``nodelay``: TCP_NODELAY on uvicorn's connections.
"""
