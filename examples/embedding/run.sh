#!/usr/bin/env bash
# Runs the embedding example both ways: on the class path (as Spring Boot and fat jars run) and on the module path.
# Usage: examples/embedding/run.sh MODEL_DIR   (after `mvn -q package` in this folder)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model=${1:?usage: run.sh MODEL_DIR}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
jars="$here/target/example-embedding-1.0.0.jar:$(ls "$here"/target/lib/*.jar | tr '\n' ':')"
echo "== class path"
"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$jars" example.embedding.Embed "$model"
echo "== module path"
"$java" --enable-native-access=ALL-UNNAMED --module-path "$jars" --add-modules ALL-MODULE-PATH -m example.embedding/example.embedding.Embed "$model"
