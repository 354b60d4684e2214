#!/usr/bin/env bash
# Builds the examples against Floe's installed artifacts and runs them as a vendor and a researcher would:
#   1. mvn install of Floe (tests skipped: ./test.sh ran them), into FLOE_M2_REPO when set (a private repository,
#      so that nothing reaches a shared ~/.m2) or the default repository;
#   2. the out-of-tree backend's own build, from a copy outside the checkout, runs the whole TCK through JUnit;
#   3. floe --plugin-path ... tck --backend example-scalar certifies it from the command line, with the example
#      router's oracle on the plugin path too (routing.top-p checks);
#   4. floe --plugin-path ... route-stats --router top-p runs the example router;
#   5. the embedding application runs on the class path and on the module path.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! "${JAVA_HOME:-/nonexistent}/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
cd "$root"
mvn_opts=(-B -q)
[ -n "${FLOE_M2_REPO:-}" ] && mvn_opts+=("-Dmaven.repo.local=$FLOE_M2_REPO")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== mvn install (Floe's artifacts, tests skipped)"
mvn "${mvn_opts[@]}" -DskipTests install

echo "== examples/backend: its own build runs the TCK through JUnit, with no Floe checkout around it"
cp -r examples/backend "$work/backend"
(cd "$work/backend" && mvn "${mvn_opts[@]}" verify)
reports="$work/backend/target/surefire-reports"
grep -h '<testsuite ' "$reports"/TEST-*.xml | sed 's/.*name="\([^"]*\)".*tests="\([0-9]*\)".*skipped="\([0-9]*\)".*failures="\([0-9]*\)".*/\1: \2 tests, \3 skipped, \4 failed/'
grep -q 'testcase name="conforms() kernel.matmul.f32' "$reports"/TEST-*.xml || { echo "checks are not reported by name" >&2; exit 1; }
grep -q 'testcase name="conforms() model.golden.tiny-mixtral' "$reports"/TEST-*.xml || { echo "model checks missing out of tree" >&2; exit 1; }

echo "== examples/router"
(cd examples/router && mvn "${mvn_opts[@]}" package)
plugins="$work/backend/target/example-backend-1.0.0.jar:$root/examples/router/target/example-router-1.0.0.jar"

echo "== floe --plugin-path ... tck --backend example-scalar"
./floe --plugin-path "$plugins" backends | grep -A2 '^example-scalar'
./floe --plugin-path "$plugins" routers | grep -A1 '^top-p'
./floe --plugin-path "$plugins" tck --backend example-scalar --report "$work/example-scalar.json" | tail -n 3
grep -q '"name" : "routing.top-p' "$work/example-scalar.json" || { echo "the example router's oracle did not run" >&2; exit 1; }

echo "== floe --plugin-path ... route-stats --router top-p"
FLOE_PLUGIN_PATH="$plugins" ./floe route-stats --router top-p:p=0.7 --router softmax-topk --max-tokens 256 | tail -n 4

echo "== examples/embedding on the class path and the module path"
(cd examples/embedding && mvn "${mvn_opts[@]}" package)
examples/embedding/run.sh "$root/models/arctic-tiny-code" | grep -E '^==|^GenerationResult'
