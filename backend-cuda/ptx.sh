#!/usr/bin/env bash
# Compiles the CUDA kernels (src/main/cuda/*.cu) to PTX for compute_90 (Hopper) and compute_80 (Ampere) into
# src/main/resources/dev/floe/backend/cuda/<name>.<arch>.ptx, which are committed: the build needs no nvcc.
#
#   ./ptx.sh           regenerate the committed PTX
#   ./ptx.sh --check   regenerate into a temporary folder and fail if it differs from the committed PTX
#                      (comment lines, which carry nvcc's version and build id, are ignored); also assembles
#                      each PTX with ptxas when it is installed, to catch errors the PTX front end lets through.
#
# Every kernel must compile without warnings (-Werror all-warnings). NVCC overrides the compiler (default:
# nvcc on PATH, else /usr/local/bin/nvcc or /usr/local/cuda/bin/nvcc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/src/main/cuda
dst=$here/src/main/resources/dev/floe/backend/cuda
archs=(compute_90 compute_80)

nvcc=${NVCC:-$(command -v nvcc || true)}
for c in /usr/local/bin/nvcc /usr/local/cuda/bin/nvcc; do [[ -z "$nvcc" && -x $c ]] && nvcc=$c; done
[[ -n "$nvcc" ]] || { echo "ptx.sh: nvcc not found (set NVCC)" >&2; exit 2; }

compile() { # into folder $1
    local out=$1 f name arch
    mkdir -p "$out"
    for f in "$src"/*.cu; do
        name=$(basename "$f" .cu)
        for arch in "${archs[@]}"; do
            "$nvcc" --ptx -arch="$arch" -std=c++17 -Werror all-warnings -o "$out/$name.$arch.ptx" "$f"
        done
    done
}

strip() { grep -v '^[[:space:]]*//' "$1" | sed 's/[[:space:]]*$//'; }

if [[ "${1:-}" == "--check" ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    compile "$tmp"
    status=0
    committed_by=$(grep -m1 -ho 'release [0-9.]*, V[0-9.]*' "$dst"/*.ptx | head -1 || true)
    running=$("$nvcc" --version | grep -o 'release [0-9.]*, V[0-9.]*' || true)
    if [[ -n "$committed_by" && "$committed_by" != "$running" ]]; then
        echo "ptx.sh: note: committed PTX comes from nvcc $committed_by, this is nvcc $running; differences may be the compiler's" >&2
    fi
    for f in "$tmp"/*.ptx; do
        name=$(basename "$f")
        if [[ ! -f "$dst/$name" ]]; then
            echo "ptx.sh: $name is not committed (run ./ptx.sh)" >&2; status=1; continue
        fi
        if ! diff -q <(strip "$f") <(strip "$dst/$name") >/dev/null; then
            echo "ptx.sh: $name differs from the committed PTX (run ./ptx.sh and commit)" >&2; status=1
        fi
    done
    for f in "$dst"/*.ptx; do
        [[ -f "$tmp/$(basename "$f")" ]] || { echo "ptx.sh: $(basename "$f") has no source" >&2; status=1; }
    done
    ptxas=$(dirname "$(readlink -f "$nvcc")")/ptxas
    [[ -x $ptxas ]] || ptxas=$(command -v ptxas || true)
    if [[ -n "$ptxas" ]]; then
        for f in "$tmp"/*.ptx; do
            arch=sm_${f##*.compute_}; arch=${arch%.ptx}
            "$ptxas" -arch="$arch" -Werror "$f" -o /dev/null || { echo "ptx.sh: ptxas rejects $(basename "$f")" >&2; status=1; }
        done
    fi
    [[ $status == 0 ]] && echo "ptx.sh: committed PTX is up to date ($(ls "$tmp"/*.ptx | wc -l) files, $("$nvcc" --version | tail -1))"
    exit $status
fi

compile "$dst"
ls -l "$dst"/*.ptx
