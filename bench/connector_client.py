"""Why proactive sends bypass botbuilder's ConnectorClient: measure it against a slow connector.

botbuilder 4.17's async ConnectorClient sends through `requests` in the event loop's default
thread pool, so at most min(32, cores + 4) requests are in flight at once whatever the caller
asks for. This script sends the same N messages to a fake connector that takes DELAY seconds to
answer each, first through the SDK's client and then through bot/connector.py's shared aiohttp
session, and prints both wall times and the concurrency each achieved. One line of JSON ends it.

    .venv/bin/python bench/connector_client.py --messages 48 --delay 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from aiohttp import web
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials

from bot.connector import ConnectorTransport
from core.config.settings import Settings
from core.transport import Destination


class SlowConnector:
    """Answers every send after `delay` seconds and records the most requests seen at once."""

    def __init__(self, delay: float):
        self.delay = delay
        self.in_flight = 0
        self.peak = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await request.read()
            await asyncio.sleep(self.delay)
            return web.json_response({"id": "1"})
        finally:
            self.in_flight -= 1

    def reset(self) -> None:
        self.peak = 0


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=48)
    parser.add_argument(
        "--delay", type=float, default=1.0, help="seconds the connector takes to answer"
    )
    args = parser.parse_args()

    slow = SlowConnector(args.delay)
    app = web.Application()
    app.router.add_post("/v3/conversations/{cid}/activities", slow.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"

    client = ConnectorClient(MicrosoftAppCredentials.empty(), base_url=url)
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client.conversations.send_to_conversation(
                f"a:{i}",
                Activity(
                    type="message",
                    text="hi",
                    from_property=ChannelAccount(id="28:bot"),
                    conversation=ConversationAccount(id=f"a:{i}"),
                ),
            )
            for i in range(args.messages)
        )
    )
    sdk_seconds, sdk_peak = time.perf_counter() - started, slow.peak

    slow.reset()
    transport = ConnectorTransport(Settings(_env_file=None), None)  # local mode: no token needed
    await transport.start()
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(
            transport.send(
                Destination(url, "tenant", "28:bot", f"a:{i}"), {"text": "hi", "card": None}
            )
            for i in range(args.messages)
        )
    )
    ours_seconds, ours_peak = time.perf_counter() - started, slow.peak
    await transport.close()
    await runner.cleanup()
    assert all(o.ok for o in outcomes)

    figures = {
        "messages": args.messages,
        "delay_s": args.delay,
        "cores": os.cpu_count(),
        "sdk_seconds": round(sdk_seconds, 2),
        "sdk_peak_in_flight": sdk_peak,
        "aiohttp_seconds": round(ours_seconds, 2),
        "aiohttp_peak_in_flight": ours_peak,
    }
    print(f"botbuilder ConnectorClient: {sdk_seconds:.2f} s, at most {sdk_peak} requests in flight")
    print(
        f"shared aiohttp session:     {ours_seconds:.2f} s, at most {ours_peak} requests in flight"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
