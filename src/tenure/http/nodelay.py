"""uvicorn's HTTP protocol with TCP_NODELAY on every connection, however the socket was bound.

With ``--workers N`` uvicorn binds the listening socket itself with ``proto`` 0; accepted
sockets inherit it and asyncio then leaves Nagle's algorithm on, so every keep-alive request
after the first waits for the client's delayed ACK: about 40 ms more per request on Linux
(measured here: an API list at 50 ms with two workers, 5–11 ms with one;
https://github.com/Kludex/uvicorn/issues/3149, open). Setting the option on each accepted
socket makes one worker and many answer alike. ``tenure serve`` and ``served_app`` pass
``HTTP_PROTOCOL`` to uvicorn.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

HTTP_PROTOCOL = "tenure.http.nodelay:NoDelayHTTPProtocol"


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
