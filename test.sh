#!/usr/bin/env bash
# Runs the whole test suite (unit tests, golden fixtures, the TCK on every backend this machine can run) with JDK 25.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for j in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
  if [ -n "$j" ] && [ -x "$j/bin/java" ] && "$j/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
    export JAVA_HOME=$j; break
  fi
done
if ! "${JAVA_HOME:-/nonexistent}/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  echo "test.sh needs a JDK 25 (looked at JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
  exit 1
fi
cd "$here"
exec mvn -B verify "$@"
