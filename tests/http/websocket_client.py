"""A strict WebSocket client (Python's `websockets`, Debian python3-websockets)
against ws://127.0.0.1:PORT/ws, an echo: text, binary, a large fragmented
message, a ping, then a close with a code. Prints one line per check; exits
non-zero at the first failure. Run by websocket_python_test.cpp with
/usr/bin/python3 (argv[1]: the port)."""

import asyncio
import os
import sys

import websockets


async def main(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=4 << 20,
                                  open_timeout=10,  # (offers permessage-deflate)
                                  close_timeout=10) as ws:
        async def echo(msg, label):
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 10)
            assert type(got) is type(msg), (label, type(got))
            assert got == msg, (label, len(got), len(msg))
            print(label, "ok", len(got))

        await echo("hello", "text")
        await echo("caf\u00e9 \u20ac \U0001F600", "utf8")
        await echo(bytes(range(256)) * 4, "binary")
        await echo(b"", "empty")
        big = os.urandom(1 << 20)  # 1 MiB, the server's max_message
        pieces = [big[i:i + 65536] for i in range(0, len(big), 65536)]
        await ws.send(pieces)  # an iterable is sent as fragments
        got = await asyncio.wait_for(ws.recv(), 20)
        assert got == big, ("fragmented", len(got))
        print("fragmented ok", len(pieces), len(got))
        text = "\u00e9" * 100000  # 200,000 bytes of UTF-8 in three fragments
        await ws.send([text[:33333], text[33333:66666], text[66666:]])
        assert await asyncio.wait_for(ws.recv(), 20) == text
        print("fragmented text ok")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        print("pong ok")
        await ws.close(code=4001, reason="bye")
        assert ws.close_sent.code == 4001, ws.close_sent
        assert ws.close_rcvd is not None, "no close frame from the server"
        assert ws.close_rcvd.code == 4001, ws.close_rcvd
        print("closed", ws.close_rcvd.code, ws.close_rcvd.reason)
    try:
        await websockets.connect(f"ws://127.0.0.1:{port}/nothing", open_timeout=10)
        print("no refusal")
        return 1
    except websockets.exceptions.InvalidStatusCode as e:
        print("refused", e.status_code)
    return 0


sys.exit(asyncio.run(main(int(sys.argv[1]))))
