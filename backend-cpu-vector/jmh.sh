#!/usr/bin/env bash
# Runs the cpu-vector kernel microbenchmarks (JMH 1.37, src/test/java/dev/floe/backend/cpu/jmh) with JMH's own
# arguments, for example:
#   backend-cpu-vector/jmh.sh GemmBenchmark -p rows=64,256 -p path=dot,gemm
#   backend-cpu-vector/jmh.sh MultiplyAddPeakBenchmark -t 2
#   backend-cpu-vector/jmh.sh -l                                      # list the benchmarks
# It compiles the module's test classes (JMH generates its harness then) and runs org.openjdk.jmh.Main on the class
# path; each benchmark forks its own JVM with --add-modules=jdk.incubator.vector.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[[ -x $JAVA_HOME/bin/java && $("$JAVA_HOME/bin/java" -version 2>&1) == *'version "2'[5-9]* ]] \
    || { echo "jmh.sh: JAVA_HOME=$JAVA_HOME is not a JDK 25 or newer" >&2; exit 2; }
cd "$root"
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
mvn -B -q test-compile dependency:build-classpath -pl backend-cpu-vector -am \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp" >&2
m=backend-cpu-vector/target
exec "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --sun-misc-unsafe-memory-access=allow \
    -cp "$m/test-classes:$m/classes:$(cat "$cp")" org.openjdk.jmh.Main "$@"
