#!/usr/bin/env bash
# Cold start of a one-shot `floe generate`, paired: alternating rounds of the same command with the class-data
# archive (what ./floe uses by default), with the AOT cache of FLOE_AOT=train, and with neither, in one sitting.
#   cli/cold-start.sh [ROUNDS=5] [TOKENS=128]
# Prints each run's speed line and wall time, then the medians per mode. Trains the cache and archive first, in
# copies under a temporary folder, so the checkout's own files are left alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5} tokens=${2:-128}
"$root/floe" --version >/dev/null                      # builds if needed
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
java=$JAVA_HOME/bin/java
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args=(--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED,dev.floe.runtime -Dfloe.home="$root"
      --module-path "$root/cli/target/lib" --add-modules ALL-MODULE-PATH -m dev.floe.cli/dev.floe.cli.FloeCli
      generate $'def fibonacci(n):\n' --ignore-eos -n "$tokens")
"$java" -XX:AOTCacheOutput="$tmp/floe.aot" -Xlog:aot=off "${args[@]}" >/dev/null 2>&1
"$java" -XX:ArchiveClassesAtExit="$tmp/floe.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off "${args[@]}" >/dev/null 2>&1
declare -A opts=([archive]="-XX:SharedArchiveFile=$tmp/floe.jsa -Xlog:cds=off" [aot]="-XX:AOTCache=$tmp/floe.aot -Xlog:aot=off" [none]="-Xshare:auto")
uptime
for r in $(seq "$rounds"); do
  for mode in archive aot none; do
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    line=$("$java" ${opts[$mode]} "${args[@]}" 2>&1 >/dev/null | grep 'tokens/s' | tail -1)
    echo "$r $mode $(( ($(date +%s%N) - start) / 1000000 )) ms | $line"
  done
done | tee "$tmp/runs"
uptime
echo "medians (wall ms, prompt ms, decode tokens/s):"
for mode in archive aot none; do
  awk -v m="$mode" '$2 == m { w[++n] = $3; for (i = 1; i <= NF; i++) { if ($i == "prompt") p[n] = $(i + 3); if ($i == "tokens/s,") t[n] = $(i - 1) } }
    function med(a, n,   i, j, x) { for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x } return a[int((n + 1) / 2)] }
    END { printf "%-8s %8s %8s %8s\n", m, med(w, n), med(p, n), med(t, n) }' "$tmp/runs"
done
