#!/usr/bin/env bash
# llama.cpp paired with `floe bench` on the peer-cpu geometry, alternating rounds in one sitting:
# llama-bench tg64 (BF16, Q8_0) and pp256 (BF16), then floe bench tg64, pp256 and batch 64 (BF16, FP8 E4M3 with the
# head BF16 as published checkpoints have it, and FP8 with the head FP8 too, as the Q8_0 GGUF has output.weight),
# each in its own JVM.
#   cli/paired-peer.sh PEER_DIR [ROUNDS=3]
# PEER_DIR holds what ../shared/peer/setup-llamacpp.sh builds: llama.cpp/build/bin/llama-bench and the GGUF files
# arctic-peer-bf16.gguf and arctic-peer-q8_0.gguf. Prints one block per round; the JSON reports go to a temp folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${1:?usage: cli/paired-peer.sh PEER_DIR [ROUNDS]} rounds=${2:-3}
lb=$peer/llama.cpp/build/bin/llama-bench
[ -x "$lb" ] || { echo "no llama-bench at $lb (run ../shared/peer/setup-llamacpp.sh)" >&2; exit 2; }
out=$(mktemp -d)
"$root/floe" --version >/dev/null                      # builds if needed
tps() { tail -1 | awk -F, '{print $(NF-1)}' | tr -d '"'; }
for r in $(seq "$rounds"); do
  echo "round $r $(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')"
  for w in bf16 q8_0; do
    echo "  llama.cpp $w tg64: $("$lb" -m "$peer/arctic-peer-$w.gguf" -p 0 -n 64 -t 2 -r 2 -o csv 2>/dev/null | tps) tok/s"
  done
  echo "  llama.cpp bf16 pp256: $("$lb" -m "$peer/arctic-peer-bf16.gguf" -p 256 -n 0 -t 2 -r 1 -o csv 2>/dev/null | tps) tok/s"
  # each format in its own JVM: a model built after others in one JVM runs at another speed (BENCHMARKS.md, 2026-12-07)
  for w in bf16 fp8 fp8-head; do
    "$root/floe" bench --preset peer-cpu --weights "$w" --tokens 64 --threads 2 --pp 256 --batch 64 --report "$out/floe-$r-$w.json" >/dev/null 2>&1
  done
  python3 - "$out"/floe-"$r"-{bf16,fp8,fp8-head}.json <<'PY'
import json, sys
for f in sys.argv[1:]:
  for x in json.load(open(f))["results"]:
    pp = [p for p in x.get("prompts", []) if p["tokens"] == 256]
    b = [q for q in x.get("batches", []) if q["batch"] == 64]
    peak = x.get("multiplyAddRate", float("nan"))
    line = f'  floe {x["weights"]}: tg64 {x["tokensPerSecond"]:.1f} tok/s'
    if pp: line += f', pp256 {pp[0]["tokensPerSecond"]:.1f} tok/s ({100 * pp[0]["multiplyAdds"] / pp[0]["seconds"] / 1e9 / peak:.0f}% of peak)'
    if b: line += f', batch64 {b[0]["tokensPerSecond"]:.1f} tok/s'
    print(line + f', multiply-add peak {peak:.1f} G/s')
PY
done
rm -rf "$out"
