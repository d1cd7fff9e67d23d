"""Connections accepted on a socket bound the way uvicorn's workers bind it get TCP_NODELAY.

uvicorn's own protocol leaves Nagle's algorithm on there (the listener's ``proto`` is 0), which
costs ~40 ms per keep-alive request with ``--workers 2``; ours turns it off.
"""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.server import ServerState

from tenure.http.nodelay import HTTP_PROTOCOL, NoDelayHTTPProtocol


async def _nodelay_of_accepted(protocol: type[asyncio.Protocol]) -> int:
    """TCP_NODELAY of the server side of one connection, seen when the protocol gets it."""
    # As uvicorn's Config.bind_socket does for --workers N: proto left at 0.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    config = uvicorn.Config(app=lambda *_: None, http=HTTP_PROTOCOL, lifespan="off")
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[int] = loop.create_future()

    class Probe(protocol):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            connection = transport.get_extra_info("socket")
            seen.set_result(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = await loop.create_server(
        lambda: Probe(config=config, server_state=ServerState(), app_state={}), sock=listener
    )
    try:
        _, writer = await asyncio.open_connection(*listener.getsockname())
        nodelay = await asyncio.wait_for(seen, timeout=10)
        writer.close()
        return nodelay
    finally:
        server.close()


@pytest.mark.parametrize(
    ("protocol", "expected"), [(AutoHTTPProtocol, 0), (NoDelayHTTPProtocol, 1)]
)
def test_accepted_connections_get_tcp_nodelay(
    protocol: type[asyncio.Protocol], expected: int
) -> None:
    # A loop of its own in a thread of its own: a browser test earlier in the same worker leaves
    # Playwright's event loop running in this thread, where asyncio.run refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: asyncio.run(_nodelay_of_accepted(protocol))).result() == expected
