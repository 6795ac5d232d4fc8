"""What every fake platform server shares: an aiohttp app on a free loopback port, started and
closed by the test (`async with FakeX() as fake: … fake.base_url …`)."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self

from aiohttp import web


class LoopbackServer:
    client_max_size = 16 * 1024 * 1024
    handler_cancellation = False  # True: a request whose client went away ends at once
    base_url = ""
    _runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        """Add the fake's endpoints."""
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application(client_max_size=self.client_max_size)
        self.routes(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0,
                               handler_cancellation=self.handler_cancellation)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.base_url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()
