"""Axon/dendrite benchmark figures for docs/benchmarks.md (run by hand, not in CI).

    python3 scripts/bench_axon.py --bin target/release/tensornet [--venv ~/.cache/tensornet-interop-venv-10.5.0]

Starts `tensornet axon echo` processes (and, with --venv, Python SDK axons) on free 127.0.0.1
ports, runs `tensornet axon bench` / the Python dendrite bench against them, reads each axon's CPU
time from /proc, and prints one JSON line per scenario. Standard library only.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
AXON_HK = "5FZFbVHsqXdzitno1eF1gBjYesXckiGewQ3qURrSuVbMisnh"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on 127.0.0.1:{port}")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def write_wallets(root):
    keys = json.load(open(os.path.join(REPO, "tests/vectors/keys/keys.json")))["keys"]
    for role in ("dendrite", "axon"):
        k = next(x for x in keys if x["role"] == role)
        s = k["sr25519"]
        d = os.path.join(root, role, "hotkeys")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "default")
        with open(p, "w") as f:
            json.dump({"secretPhrase": k["mnemonic"], "secretSeed": "0x" + s["mini_secret_hex"],
                       "privateKey": "0x" + s["secret_key_hex"], "publicKey": "0x" + s["public_key_hex"],
                       "accountId": "0x" + s["public_key_hex"], "ss58Address": s["ss58"]}, f)
        os.chmod(p, 0o600)
        for q in (d, os.path.dirname(d)):
            os.chmod(q, 0o700)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--venv")
    ap.add_argument("--fanout-axons", type=int, default=32)
    ap.add_argument("--calls", type=int, default=20000)
    a = ap.parse_args()
    procs = []
    wallets = tempfile.mkdtemp()
    write_wallets(wallets)
    w = ["--wallet-path", wallets]

    def start_rust():
        port = free_port()
        p = subprocess.Popen([a.bin, "axon", "echo", *w, "--wallet-name", "axon", "--port", str(port)],
                             stderr=subprocess.DEVNULL)
        procs.append(p)
        wait_port(port)
        return port, p

    def start_python():
        port = free_port()
        py = os.path.join(a.venv, "bin", "python")
        p = subprocess.Popen([py, os.path.join(HERE, "interop_python.py"), "serve", "--port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        wait_port(port)
        return port, p

    def rust_bench(label, ports, synapse, calls, conc, fanout=False, axon_pids=()):
        before = [cpu_s(pid) for pid in axon_pids]
        cmd = [a.bin, "axon", "bench", *w, "--wallet-name", "dendrite",
               "--targets", ",".join(f"127.0.0.1:{p}" for p in ports), "--axon-hotkey", AXON_HK,
               "--synapse", synapse, "--calls", str(calls), "--concurrency", str(conc), "--json"]
        if fanout:
            cmd.append("--fanout")
        out = subprocess.run(cmd, capture_output=True, text=True)
        r = json.loads(out.stdout)
        answers = r["calls"] * (len(ports) if fanout else 1)
        if axon_pids:
            spent = sum(cpu_s(pid) for pid in axon_pids) - sum(before)
            r["axon_cpu_ms_per_1000_calls"] = round(spent * 1e6 / answers, 1)
        print(json.dumps({"scenario": label, **r}), flush=True)

    def python_bench(label, port, synapse, calls, conc, axon_pid=None):
        before = cpu_s(axon_pid) if axon_pid else 0
        py = os.path.join(a.venv, "bin", "python")
        out = subprocess.run([py, os.path.join(HERE, "interop_python.py"), "bench", "--port", str(port),
                              "--axon-hotkey", AXON_HK, "--synapse", synapse, "--calls", str(calls),
                              "--concurrency", str(conc)], capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if axon_pid:
            r["axon_cpu_ms_per_1000_calls"] = round((cpu_s(axon_pid) - before) * 1e6 / calls, 1)
        print(json.dumps({"scenario": label, **r}), flush=True)

    try:
        port, p = start_rust()
        rust_bench("rust->rust Echo sequential", [port], "Echo", a.calls // 10, 1, axon_pids=[p.pid])
        rust_bench("rust->rust Echo 64 in flight", [port], "Echo", a.calls, 64, axon_pids=[p.pid])
        rust_bench("rust->rust Classify 64 in flight", [port], "Classify", a.calls, 64, axon_pids=[p.pid])
        fan = [port] + [start_rust()[0] for _ in range(a.fanout_axons - 1)]
        rust_bench(f"rust->rust Echo fan-out to {len(fan)} axons (round latency)", fan, "Echo", 300, 1, fanout=True)
        if a.venv:
            python_bench("python->rust Echo sequential", port, "Echo", 300, 1, p.pid)
            python_bench("python->rust Echo 64 in flight", port, "Echo", 2000, 64, p.pid)
            pport, pp = start_python()
            rust_bench("rust->python Echo sequential", [pport], "Echo", 300, 1, axon_pids=[pp.pid])
            rust_bench("rust->python Echo 64 in flight", [pport], "Echo", 2000, 64, axon_pids=[pp.pid])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
