"""A TCP proxy on loopback that can be cut and restored, or partitioned and healed, to make a
database 'go away' for a test without touching the shared server."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._flowing.wait()  # partitioned: accepted, and nothing more happens
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes.update({writer, up_writer})
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()  # partitioned: held, as a lost packet is resent
                writer.write(data)
                await writer.drain()
        writer.close()
        self._pipes.discard(writer)

    async def cut(self) -> None:
        """Refuse new connections and drop every open one, like a database host going away."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    def partition(self) -> None:
        """Drop packets instead of refusing: connections are accepted and bytes are taken, but
        nothing reaches the other side (a network partition, not a database that is down)."""
        self._flowing.clear()

    def heal(self) -> None:
        """End the partition: what was held goes through, as TCP would resend it."""
        self._flowing.set()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        self.heal()
        await self.cut()
