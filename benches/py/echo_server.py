"""The Python peers of examples/echo_server.rs: an echo server on asyncio's
own event loop or on uvloop's, written the fastest idiomatic way (a Protocol
whose data_received writes the bytes straight back).

    python echo_server.py --loop asyncio|uvloop --addr 127.0.0.1:7000

Prints "READY <addr>" once listening; runs until killed.
"""
import argparse
import asyncio


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            import socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(host, port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, host, port, backlog=4096)
    print("READY", server.sockets[0].getsockname(), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--addr", default="127.0.0.1:7000")
    args = parser.parse_args()
    host, port = args.addr.rsplit(":", 1)
    if args.loop == "uvloop":
        import uvloop
        uvloop.run(main(host, int(port)))
    else:
        asyncio.run(main(host, int(port)))
