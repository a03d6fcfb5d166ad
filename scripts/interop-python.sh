#!/usr/bin/env bash
# Live interop with the real Python Bittensor SDK (bittensor==10.5.0 from PyPI):
#   (a) a Python Dendrite queries the Rust echo axon with Echo and Classify (expects 200 + payload);
#   (b) the Rust dendrite (`tensornet axon query`) queries a Python Axon with Echo and Classify.
# Options: --bench  also measure Python dendrite -> Rust axon and Rust dendrite -> Python axon.
#          --setup  only create (or check) the venv and exit; `.ci/run` calls this before
#                   `cargo test` so the Rust tests that open our keyfiles with bittensor-wallet run.
# Environment: TENSORNET_INTEROP_VENV (default ~/.cache/tensornet-interop-venv-10.5.0, reused when
# it already holds bittensor 10.5.0), TENSORNET_BIN (default: build and use target/debug/tensornet).
# Prints a SKIPPED line and exits 0 only when python3 is missing. Binds 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=0
SETUP=0
[[ "${1:-}" == "--bench" ]] && BENCH=1
[[ "${1:-}" == "--setup" ]] && SETUP=1

if ! command -v python3 >/dev/null 2>&1; then
    echo "interop-python: SKIPPED (python3 not found; the live Python SDK interop test did not run)"
    exit 0
fi

VENV="${TENSORNET_INTEROP_VENV:-${HOME:-/root}/.cache/tensornet-interop-venv-10.5.0}"
PY="$VENV/bin/python"
if ! "$PY" -c 'import bittensor, sys; sys.exit(bittensor.__version__ != "10.5.0")' >/dev/null 2>&1; then
    echo "interop-python: creating $VENV with bittensor==10.5.0 (first run only)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --disable-pip-version-check bittensor==10.5.0
fi
if [[ $SETUP == 1 ]]; then
    echo "interop-python: venv ready at $VENV"
    exit 0
fi

if [[ -n "${TENSORNET_BIN:-}" ]]; then
    BIN="$TENSORNET_BIN"
else
    cargo build -q -p tensornet-cli
    BIN="${CARGO_TARGET_DIR:-target}/debug/tensornet"
fi

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do
        [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# A wallet folder holding the two vector hotkeys (plaintext keyfiles, as btcli writes them).
"$PY" - "$WORK/wallets" <<'EOF'
import json, os, sys
root = sys.argv[1]
keys = json.load(open("tests/vectors/keys/keys.json"))["keys"]
for role in ("dendrite", "axon"):
    k = next(x for x in keys if x["role"] == role)
    s = k["sr25519"]
    d = os.path.join(root, role, "hotkeys")
    os.makedirs(d, exist_ok=True)
    doc = {"secretPhrase": k["mnemonic"], "secretSeed": "0x" + s["mini_secret_hex"],
           "privateKey": "0x" + s["secret_key_hex"], "publicKey": "0x" + s["public_key_hex"],
           "accountId": "0x" + s["public_key_hex"], "ss58Address": s["ss58"]}
    p = os.path.join(d, "default")
    with open(p, "w") as f:
        json.dump(doc, f)
    os.chmod(p, 0o600)
EOF
chmod -R go-rwx "$WORK/wallets"
AXON_HK=5FZFbVHsqXdzitno1eF1gBjYesXckiGewQ3qURrSuVbMisnh
W=(--wallet-path "$WORK/wallets")

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 120); do
        "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
        sleep 0.25
    done
    echo "interop-python: FAILED (nothing listening on 127.0.0.1:$1; log: $2)"; cat "$2" || true; return 1
}

FAIL=0

# (a) Python dendrite -> Rust axon.
RPORT="$(free_port)"
"$BIN" axon echo "${W[@]}" --wallet-name axon --port "$RPORT" 2>"$WORK/rust-axon.log" &
PIDS+=($!)
RUST_AXON_PID=$!
wait_port "$RPORT" "$WORK/rust-axon.log"
if "$PY" scripts/interop_python.py query --port "$RPORT" --axon-hotkey "$AXON_HK"; then
    echo "interop-python: (a) Python Dendrite -> Rust axon: OK"
else
    echo "interop-python: (a) Python Dendrite -> Rust axon: FAILED"; FAIL=1
fi

# (b) Rust dendrite -> Python axon.
PPORT="$(free_port)"
"$PY" scripts/interop_python.py serve --port "$PPORT" >"$WORK/py-axon.log" 2>&1 &
PIDS+=($!)
wait_port "$PPORT" "$WORK/py-axon.log"
PIXELS="$("$PY" -c 'print(",".join(repr(((j*7)%13)/13.0-0.25) for j in range(64)))')"
check() { # $1 = synapse, $2 = body, $3 = python check on the answer document d
    local out
    if out="$("$BIN" axon query "${W[@]}" --wallet-name dendrite --axon "127.0.0.1:$PPORT" \
        --axon-hotkey "$AXON_HK" --synapse "$1" --body "$2" --json)" &&
        "$PY" -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['status_code']==200 and ($3) else 1)" "$out"; then
        echo "Rust dendrite -> Python axon $1: ${out:0:160} -> OK"
    else
        echo "Rust dendrite -> Python axon $1: ${out:-no output} -> FAIL"; return 1
    fi
}
if check Echo '{"text":"hello from rust"}' "d['response']['response']=='hello from rust'" &&
    check Classify "{\"pixels\":[$PIXELS]}" \
        "len(d['response']['logits'])==10 and abs(d['response']['logits'][0]-sum(((((17*j)%23)-11)/11)*p for j,p in enumerate(d['response']['pixels'])))<1e-9"; then
    echo "interop-python: (b) Rust dendrite -> Python Axon: OK"
else
    echo "interop-python: (b) Rust dendrite -> Python Axon: FAILED"; FAIL=1
    tail -20 "$WORK/py-axon.log" || true
fi

if [[ "$BENCH" == 1 ]]; then
    cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
    echo "== bench: Python dendrite -> Rust axon (Echo)"
    for c in 1 64; do
        t0=$(cpu_ticks "$RUST_AXON_PID")
        out="$("$PY" scripts/interop_python.py bench --port "$RPORT" --axon-hotkey "$AXON_HK" --calls $((c == 1 ? 300 : 1500)) --concurrency $c)"
        t1=$(cpu_ticks "$RUST_AXON_PID")
        n=$((c == 1 ? 300 : 1500))
        echo "concurrency $c: $out rust_axon_cpu_ms_per_call=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN{printf "%.3f", (b-a)*10/n}')"
    done
    echo "== bench: Rust dendrite -> Python axon (Echo)"
    for c in 1 64; do
        "$BIN" axon bench "${W[@]}" --wallet-name dendrite --targets "127.0.0.1:$PPORT" --axon-hotkey "$AXON_HK" \
            --synapse Echo --calls $((c == 1 ? 300 : 1500)) --concurrency $c --json || FAIL=1
    done
fi

if [[ "$FAIL" != 0 ]]; then
    echo "interop-python: FAILED"
    exit 1
fi
echo "interop-python: 2 passed, 0 failed"
