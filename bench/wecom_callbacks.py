"""B6: WeCom callbacks per second through verify + decrypt + parse + acknowledge.

Run: `.venv/bin/python -m bench.wecom_callbacks` (from the top of the repository)

fieldbot: the callback server's POST handler (`bot.wecom.callback.CallbackServer.receive`)
with a no-op background handler: read the body, parse the envelope, check the signature in
constant time, the replay window and nonce, decrypt, unpad strictly, check the corpid, parse the
message XML (DOCTYPE refused), de-duplicate by MsgId, start the background task, answer 200 —
called directly with a mocked request, and again over HTTP on loopback (aiohttp client and
server in one process, so that figure includes both ends of HTTP).
Baseline, measured in the same run on the same payloads: raw AES-256-CBC decryption with
`cryptography` (base64 decode + decrypt), nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import random
import socket
import statistics
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from yarl import URL

from bot.wecom.callback import CallbackServer, RecentKeys, ReplayGuard, callback_app
from bot.wecom.crypto import WXBizMsgCrypt
from bot.wecom.mapping import Inbound

TOKEN = "BenchToken2026"  # noqa: S105  (a benchmark's own, not a secret)
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CORP_ID = "ww0f1e1dbench00001"
PAYLOADS = 4000
ROUNDS = 5
HTTP_CONCURRENCY = 16
NOW = 1_780_000_000
TEXTS = ("今天施工正常，现场 35 人，完成主体结构浇筑。", "/status 毛绒", "35", "是",
         "汉滨区毛绒文创产业园二期厂房钢结构吊装完成 80%，预计下周封顶。" * 3)


@dataclass(frozen=True)
class Payload:
    query: dict[str, str]
    body: bytes
    encrypt: str


def payloads(crypto: WXBizMsgCrypt, count: int, seed: int) -> list[Payload]:
    rng = random.Random(seed)  # noqa: S311  (varied texts for a benchmark, not secrets)
    made = []
    for n in range(count):
        msg_id = seed * 1_000_000 + n
        xml = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
               f"<FromUserName><![CDATA[user{n % 200}]]></FromUserName>"
               f"<CreateTime>{NOW}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{rng.choice(TEXTS)}]]></Content>"
               f"<MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>")
        nonce = str(msg_id)
        encrypt, signature = crypto.encrypt_message(xml, str(NOW), nonce)
        body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA["
                f"{encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>").encode()
        made.append(Payload({"msg_signature": signature, "timestamp": str(NOW), "nonce": nonce},
                            body, encrypt))
    return made


async def nothing(_message: Inbound) -> None:
    return None


def fresh_server(crypto: WXBizMsgCrypt) -> CallbackServer:
    return CallbackServer(crypto, nothing, replay=ReplayGuard(now=lambda: float(NOW)),
                          recent=RecentKeys())


class IdleProtocol:
    """What a StreamReader asks of its protocol, doing nothing (a mock would be timed too)."""

    _reading_paused = False

    def pause_reading(self, **_options: object) -> None:
        return None

    def resume_reading(self, **_options: object) -> None:
        return None


def mocked(payload: Payload) -> web.Request:
    loop = asyncio.get_running_loop()
    stream = StreamReader(IdleProtocol(), 2 ** 16, loop=loop)  # type: ignore[arg-type]
    stream.feed_data(payload.body)
    stream.feed_eof()
    path = str(URL("/wecom/callback").with_query(payload.query))
    return make_mocked_request("POST", path, payload=stream,
                               headers={"Content-Length": str(len(payload.body))})


async def direct_round(crypto: WXBizMsgCrypt, batch: list[Payload]) -> float:
    server = fresh_server(crypto)
    requests = [mocked(p) for p in batch]  # made before the clock starts
    started = time.perf_counter()
    for request in requests:
        response = await server.receive(request)
        if response.status != 200:
            raise RuntimeError(f"refused: {server.refusals}")
    await server.drain()
    elapsed = time.perf_counter() - started
    if server.accepted != len(batch):
        raise RuntimeError("not every callback was taken")
    return len(batch) / elapsed


async def http_round(crypto: WXBizMsgCrypt, batch: list[Payload]) -> float:
    server = fresh_server(crypto)
    runner = web.AppRunner(callback_app(server), access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/wecom/callback"
    queue = list(reversed(batch))
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                limit=HTTP_CONCURRENCY)) as session:

            async def worker() -> None:
                while queue:
                    payload = queue.pop()
                    async with session.post(url, params=payload.query,
                                            data=payload.body) as response:
                        if response.status != 200:
                            raise RuntimeError(f"refused: {server.refusals}")
                        await response.read()

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(HTTP_CONCURRENCY)))
            await server.drain()
            elapsed = time.perf_counter() - started
    finally:
        await runner.cleanup()
    return len(batch) / elapsed


def raw_round(batch: list[Payload]) -> float:
    key = base64.b64decode(AES_KEY + "=")
    started = time.perf_counter()
    for payload in batch:
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        decryptor.update(base64.b64decode(payload.encrypt)) + decryptor.finalize()
    return len(batch) / (time.perf_counter() - started)


async def main() -> None:
    crypto = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)
    direct, http, raw = [], [], []
    for round_ in range(ROUNDS):
        batch = payloads(crypto, PAYLOADS, seed=round_ + 1)
        raw.append(raw_round(batch))
        direct.append(await direct_round(crypto, batch))
        http.append(await http_round(crypto, batch))
    d, h, r = (statistics.median(x) for x in (direct, http, raw))
    size = statistics.mean(len(p.body) for p in batch)
    print(f"WeCom callbacks: {PAYLOADS} text callbacks (body {size:.0f} bytes on average) "
          f"× {ROUNDS} rounds, median")
    print(f"  fieldbot, handler called directly : {d:10,.0f} callbacks/s  ({1e6 / d:7.1f} µs)")
    print(f"  fieldbot, over HTTP on loopback   : {h:10,.0f} callbacks/s  ({1e6 / h:7.1f} µs)"
          f"  [{HTTP_CONCURRENCY} connections]")
    print(f"  baseline, raw AES-256-CBC decrypt : {r:10,.0f} payloads/s   ({1e6 / r:7.1f} µs)")
    print(f"  ratio direct / raw: {d / r:.3f}  (raw is {r / d:.1f}× faster); "
          f"HTTP / raw: {h / r:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
