#!/usr/bin/env bash
# The CUDA backend's checks on a GPU machine, in one prepared call.
#
#   backend-cuda/gpu-check.sh prepare   here (JDK 25, Maven, network): fills .gpu/ (git-ignored) with a Java 25
#                                       runtime, every jar of the build and its dependencies, the backend's test
#                                       classes and the JUnit console launcher
#   backend-cuda/gpu-check.sh run       there, in the repository root with .gpu/ carried: runs the backend's
#                                       TCK's SPI 2 checks first (`floe tck --backend cuda --filter '^spi2\.'`:
#                                       fused MoE against the decomposition for every router and weight dtype,
#                                       device routing against the host rule, metadata reuse, a plan replayed as
#                                       CUDA graphs against eager interpretation), CUDA graphs on real passes
#                                       (GraphReplayCheck: fixtures with graphs and with cuda.graphs=false, golden
#                                       checks and identical greedy tokens), the FP8 block-scale
#                                       kernel checks and `floe check` of the FP8 fixtures, then the backend's
#                                       tests (GPU tests must run, not skip), the matvec bandwidth micro-benchmark,
#                                       NCCL all-reduce/all-gather/all-to-all on a group of one GPU and the parallel
#                                       layer graph on it against the goldens (NcclGroupCheck),
#                                       the whole `floe tck --backend cuda` and `floe bench --backend cuda`; writes
#                                       everything under $OUT
#
# Device session (see ../shared/device/GPU.md): prepare here, then one call of the device tool:
#   command: bash backend-cuda/gpu-check.sh run      carry: [".gpu"]      timeout_s: ~420 (leaves room for a rerun)
# Each step is recorded in $OUT/summary.txt with its exit status; the script's status is that of the first failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
gpu=$root/.gpu
junit_version=1.14.4

prepare() {
    set -e
    export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
    cd "$root"
    mvn -B -q -DskipTests package -pl backend-cuda,cli -am
    mvn -B -q test-compile -pl backend-cuda
    rm -rf "$gpu/lib" "$gpu/test" "$gpu/junit"
    mkdir -p "$gpu/lib" "$gpu/test" "$gpu/junit"
    for jar in */target/floe-*.jar; do
        case $jar in *-tests.jar|*-sources.jar|*-javadoc.jar) ;; *) cp "$jar" "$gpu/lib/" ;; esac
    done
    mvn -B -q -pl backend-cuda,cli dependency:copy-dependencies -DincludeScope=runtime -DexcludeGroupIds=dev.floe \
        -DoutputDirectory="$gpu/lib"
    cp -r backend-cuda/target/test-classes "$gpu/test/backend-cuda"
    mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version \
        -DoutputDirectory="$gpu/junit"
    [[ -f $gpu/jre.tgz ]] || bash "${FLOE_JRE_SH:-$root/../shared/device/jre.sh}" "$gpu"
    du -sh "$gpu"
}

run() {
    local out=${OUT:-$root/gpu-out} status=0 java tmp
    mkdir -p "$out"
    if [[ -x $gpu/jre/bin/java ]]; then java=$gpu/jre/bin/java
    elif [[ -f $gpu/jre.tgz ]]; then tar xzf "$gpu/jre.tgz" -C /tmp && java=/tmp/jre/bin/java
    else java=${JAVA:-java}; fi
    tmp=$(mktemp -d)   # private java.io.tmpdir: JCuda reuses any libJCudaDriver-*.so it finds there
    local jvm=(-Djava.io.tmpdir="$tmp" -Dfloe.root="$root" --enable-native-access=ALL-UNNAMED,jcuda,dev.floe.backend.cuda
               -p "$gpu/lib" --add-modules ALL-MODULE-PATH)
    step() { # name, command...
        local name=$1; shift
        local t0=$SECONDS rc
        "$@" >"$out/$name.txt" 2>&1; rc=$?
        echo "$name: exit $rc in $((SECONDS - t0)) s" | tee -a "$out/summary.txt"
        tail -5 "$out/$name.txt"
        [[ $rc != 0 && $status == 0 ]] && status=$rc
        return 0
    }
    : >"$out/summary.txt"
    step device bash -c 'nvidia-smi; ls -l /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libnccl.so.2 /usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublasLt.so.13 2>&1; true'
    step java "$java" -version
    # SPI 2 first: the newest kernels (rope_table, moe_route, moe_up/down, moe_combine) have never run on a GPU
    step tck-spi2 "$java" "${jvm[@]}" -Dfloe.cublaslt.path=/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublasLt.so.13 \
        -m dev.floe.cli/dev.floe.cli.FloeCli tck --backend cuda --filter '^spi2\.'
    # CUDA graphs (cuStreamBeginCapture .. cuGraphLaunch) have never run on a GPU: spi2.plan.replay above compiles the
    # TCK's plan into graphs (a 6-row and a 1-row pass, each captured and launched); here whole models, graphs vs eager
    step graph-replay "$java" "${jvm[@]}" --patch-module dev.floe.backend.cuda="$gpu/test/backend-cuda" \
        --add-reads dev.floe.backend.cuda=dev.floe.runtime \
        -m dev.floe.backend.cuda/dev.floe.backend.cuda.GraphReplayCheck
    # FP8 block scales (matmul_block_fp8, moe_up/down_block_fp8) have never run on a GPU either: the TCK's block
    # checks against the float64 oracle, then the FP8 fixtures of every scale layout (their MoE layers go through
    # the fused MoE with block-scaled experts)
    step tck-fp8-blocks "$java" "${jvm[@]}" -m dev.floe.cli/dev.floe.cli.FloeCli tck --backend cuda --no-bundled \
        --filter '^kernel\.matmul\.fp8'
    step check-fp8 "$java" "${jvm[@]}" -m dev.floe.cli/dev.floe.cli.FloeCli check --backend cuda fixtures/tiny-arctic-fp8 \
        fixtures/tiny-arctic-fp8-tensor fixtures/tiny-arctic-fp8-block fixtures/tiny-arctic-fp8-ct-block
    step backend-tests "$java" "${jvm[@]}" -Dfloe.cuda.require=true \
        -Dfloe.cublaslt.path=/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublasLt.so.13 \
        --patch-module dev.floe.backend.cuda="$gpu/test/backend-cuda" \
        --add-reads dev.floe.backend.cuda=ALL-UNNAMED --add-opens dev.floe.backend.cuda/dev.floe.backend.cuda=ALL-UNNAMED \
        -cp "$(ls "$gpu"/junit/junit-platform-console-standalone-*.jar)" \
        org.junit.platform.console.ConsoleLauncher execute --select-module dev.floe.backend.cuda \
        --reports-dir "$out/junit" --details tree --disable-banner
    step matvec-bench "$java" "${jvm[@]}" --patch-module dev.floe.backend.cuda="$gpu/test/backend-cuda" \
        -m dev.floe.backend.cuda/dev.floe.backend.cuda.MatvecBench
    # NCCL of a world of one and the parallel layer graph on that group (issue 13): never run on a GPU before
    step nccl-group "$java" "${jvm[@]}" --patch-module dev.floe.backend.cuda="$gpu/test/backend-cuda" \
        --add-reads dev.floe.backend.cuda=dev.floe.runtime \
        -m dev.floe.backend.cuda/dev.floe.backend.cuda.NcclGroupCheck
    step tck "$java" "${jvm[@]}" -Dfloe.cublaslt.path=/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublasLt.so.13 \
        -m dev.floe.cli/dev.floe.cli.FloeCli tck --backend cuda
    step bench "$java" "${jvm[@]}" -Dfloe.cublaslt.path=/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublasLt.so.13 \
        -m dev.floe.cli/dev.floe.cli.FloeCli bench --backend cuda
    rm -rf "$tmp"
    echo "reports in $out"
    return $status
}

case ${1:-} in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
