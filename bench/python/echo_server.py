"""The Python echo servers of the TCP echo workload.

Usage: python3 echo_server.py LOOP API
  LOOP  asyncio | uvloop
  API   streams  - asyncio.start_server; per connection read(65536) -> write -> drain
        protocol - loop.create_server with a Protocol whose data_received writes the data back

Listens on 127.0.0.1 on a free port, prints "@@READY {"port": N}" and serves until killed.
"""
import asyncio
import json
import sys

from common import loop_factory, print_result


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class EchoProtocol(asyncio.Protocol):
    def __init__(self):
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def serve(api):
    if api == "streams":
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
    else:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoProtocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("@@READY " + json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main():
    kind, api = sys.argv[1:3]
    try:
        factory = loop_factory(kind)
    except ImportError as error:
        print_result({"status": "cannot", "reason": f"{kind} is not installed: {error}"})
        return
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(api))


if __name__ == "__main__":
    main()
