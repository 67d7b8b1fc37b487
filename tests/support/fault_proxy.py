"""A TCP relay that can take a database "down" without touching the database server.

``FaultProxy(host, port)`` listens on a free local port and relays every connection to
``host:port`` (PostgreSQL, MariaDB). Point a backend URI at ``proxy.port`` and the relay is
between the tracking server and its database:

- ``pause()``: the database is unreachable — every relayed connection is cut at once (both
  sides closed) and every new connection is closed as soon as it is accepted;
- ``resume()``: new connections are relayed again (cut ones stay cut, as after a real restart).

The relay runs an asyncio loop on its own daemon thread; ``close()`` (or leaving the ``with``
block) stops it and cuts everything.
"""

from __future__ import annotations

import asyncio
import threading

_CHUNK = 65536


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.port: int | None = None
        self.accepted = 0
        self._paused = False
        self._links: set[asyncio.Transport] = set()
        self._relays: set[asyncio.Task] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._relay, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def pause(self) -> None:
        """Cut every relayed connection and refuse new ones until ``resume``."""
        self._call(self._cut_all())

    def resume(self) -> None:
        self._call(self._set_paused(False))

    # -- on the loop thread ----------------------------------------------------------------------

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _set_paused(self, paused: bool) -> None:
        self._paused = paused

    async def _cut_all(self) -> None:
        self._paused = True
        for transport in list(self._links):
            transport.abort()
        self._links.clear()

    async def _shutdown(self) -> None:
        self._server.close()
        await self._cut_all()
        await asyncio.wait_for(asyncio.gather(*self._relays, return_exceptions=True), 5)
        await self._server.wait_closed()

    async def _relay(self, client_reader, client_writer) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        self._relays.add(task)
        try:
            await self._relay_until_cut(client_reader, client_writer)
        finally:
            self._relays.discard(task)

    async def _relay_until_cut(self, client_reader, client_writer) -> None:
        if self._paused:
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer.transport, upstream_writer.transport}
        if self._paused:  # paused while connecting upstream
            for transport in pair:
                transport.abort()
            return
        self._links |= pair
        await asyncio.gather(
            _pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer)
        )
        self._links -= pair


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until either side ends; then close ``writer``."""
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
