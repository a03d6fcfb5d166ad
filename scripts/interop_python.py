"""Python side of scripts/interop-python.sh: the real Bittensor SDK (10.5.0) against tensornet.

Modes:
  serve  --port P                      run a Python Axon (axon key of keys.json) serving Echo and Classify
  query  --port P --axon-hotkey SS58   a Python Dendrite (dendrite key) calls Echo and Classify once and checks them
  bench  --port P --axon-hotkey SS58 --calls N --concurrency C [--synapse Echo|Classify]
                                       a Python Dendrite measures calls/s and latency; prints one JSON line

Offline care: get_external_ip is replaced before any Dendrite/Axon is built (it would call public
services), the AxonInfo is built by hand, serve() is never called, and the Axon binds 127.0.0.1.
Note: no `from __future__ import annotations` here (the SDK inspects forward-function annotations).
"""
import argparse
import asyncio
import json
import os
import sys
import time
import typing

import bittensor.utils.networking as networking

# Must happen before any Dendrite or Axon is constructed. An address other than the axon's, or the
# dendrite rewrites the target to 0.0.0.0.
networking.get_external_ip = lambda: "127.0.0.2"

import bittensor  # noqa: E402
from bittensor.core.chain_data.axon_info import AxonInfo  # noqa: E402
from bittensor_wallet import Keypair  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "..", "tests", "vectors", "keys", "keys.json")


def keypair(role: str) -> Keypair:
    with open(KEYS) as f:
        keys = json.load(f)["keys"]
    entry = next(k for k in keys if k["role"] == role)
    return Keypair.create_from_mnemonic(entry["mnemonic"])


class Echo(bittensor.Synapse):
    text: str
    response: typing.Optional[str] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("text",)


class Classify(bittensor.Synapse):
    pixels: typing.List[float]
    logits: typing.Optional[typing.List[float]] = None
    required_hash_fields: typing.ClassVar[typing.Tuple[str, ...]] = ("pixels",)


def logits_of(pixels):
    return [
        sum(((((31 * i + 17 * j) % 23) - 11) / 11) * p for j, p in enumerate(pixels[:64]))
        for i in range(10)
    ]


def pixels():
    return [((j * 7) % 13) / 13.0 - 0.25 for j in range(64)]


class _Wallet:
    """The Axon only reads wallet.hotkey and wallet.coldkeypub."""

    def __init__(self, kp: Keypair):
        self.hotkey = kp
        self.coldkeypub = kp


async def echo_forward(synapse: Echo) -> Echo:
    synapse.response = synapse.text
    return synapse


async def classify_forward(synapse: Classify) -> Classify:
    synapse.logits = logits_of(synapse.pixels)
    return synapse


def serve(port: int) -> None:
    axon = bittensor.Axon(
        wallet=_Wallet(keypair("axon")),
        port=port,
        ip="127.0.0.1",
        external_ip="127.0.0.1",
        external_port=port,
    )
    axon.attach(forward_fn=echo_forward)
    axon.attach(forward_fn=classify_forward)
    axon.fast_config.host = "127.0.0.1"
    axon.start()
    print(f"python axon listening on 127.0.0.1:{port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        axon.stop()


def target(port: int, hotkey: str) -> AxonInfo:
    return AxonInfo(
        version=10005000,
        ip="127.0.0.1",
        port=port,
        ip_type=4,
        hotkey=hotkey,
        coldkey=hotkey,
    )


async def query(port: int, hotkey: str) -> int:
    d = bittensor.Dendrite(wallet=keypair("dendrite"))
    info = target(port, hotkey)
    failures = 0
    r = await d.forward(info, Echo(text="hello from python"), timeout=10, deserialize=False)
    ok = r.dendrite.status_code == 200 and r.response == "hello from python"
    print(f"python dendrite -> rust axon Echo: status {r.dendrite.status_code} "
          f"{r.dendrite.status_message!r} response {r.response!r} -> {'OK' if ok else 'FAIL'}")
    failures += not ok
    px = pixels()
    r = await d.forward(info, Classify(pixels=px), timeout=10, deserialize=False)
    want = logits_of(px)
    got = r.logits or []
    ok = r.dendrite.status_code == 200 and len(got) == 10 and all(
        abs(a - b) < 1e-9 for a, b in zip(got, want))
    print(f"python dendrite -> rust axon Classify: status {r.dendrite.status_code} "
          f"{r.dendrite.status_message!r} logits[0:3] {got[:3]} -> {'OK' if ok else 'FAIL'}")
    failures += not ok
    await d.aclose_session()
    return 1 if failures else 0


async def bench(port: int, hotkey: str, calls: int, concurrency: int, synapse: str) -> int:
    d = bittensor.Dendrite(wallet=keypair("dendrite"))
    info = target(port, hotkey)
    make = (lambda: Echo(text="bench")) if synapse == "Echo" else (lambda: Classify(pixels=pixels()))
    # Warm-up (connection set-up, imports).
    await d.forward(info, make(), timeout=10, deserialize=False)
    lat = []
    failures = 0
    remaining = calls

    async def worker():
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            t = time.perf_counter()
            r = await d.forward(info, make(), timeout=10, deserialize=False)
            lat.append(time.perf_counter() - t)
            if r.dendrite.status_code != 200:
                failures += 1

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2)

    print(json.dumps({
        "calls_per_s": round(len(lat) / wall, 1), "p50_ms": pct(0.5), "p90_ms": pct(0.9),
        "p99_ms": pct(0.99), "failures": failures, "dendrite_cpu_ms_per_call": round(cpu * 1000 / len(lat), 3),
    }))
    await d.aclose_session()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["serve", "query", "bench"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--axon-hotkey")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--synapse", default="Echo", choices=["Echo", "Classify"])
    a = ap.parse_args()
    if a.mode == "serve":
        serve(a.port)
        return 0
    if a.mode == "query":
        return asyncio.run(query(a.port, a.axon_hotkey))
    return asyncio.run(bench(a.port, a.axon_hotkey, a.calls, a.concurrency, a.synapse))


if __name__ == "__main__":
    sys.exit(main())
