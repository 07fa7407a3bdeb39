#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has a CUDA LibTorch (a pip torch)
# but no Java: a jlinked Java runtime (compressed), the lstm4j and lstm4j-tools jars, picocli,
# javacpp.jar, the presets' Java classes and the golden cases, into DIR (default .carry/gpu, ignored by
# git). About 35 MB.
#   usage: scripts/gpu-pack.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.carry/gpu}"
mvn -B -q install -DskipTests -Dinvoker.skip=true       # the library, into the local repository
(cd tools && mvn -B -q package -DskipTests)              # the command line, its class path in tools/target/lib
rm -rf "$out"
mkdir -p "$out/lib" "$out/golden"
# A runtime with the modules the library and its CLI use; no man pages, headers or debug symbols.
jlink --add-modules java.base,jdk.unsupported,jdk.incubator.vector --strip-debug --no-man-pages \
  --no-header-files --compress=2 --output "$out/jre"
tar -C "$out" -czf "$out/jre.tgz" jre
rm -rf "$out/jre"
cp tools/target/lstm4j-tools-*.jar tools/target/lib/lstm4j-*.jar tools/target/lib/picocli-*.jar \
  tools/target/lib/pickle-*.jar "$out/lib/"
# javacpp.jar and the presets' Java classes (our bindings inherit their JavaCPP properties), no
# native jars: the LibTorch and CUDA libraries come from the GPU machine's torch/lib.
cp tools/target/lib/javacpp-1.5.13.jar tools/target/lib/pytorch-2.10.0-1.5.13.jar "$out/lib/"
cp src/test/resources/golden/*.safetensors "$out/golden/"
cp scripts/gpu-check.sh scripts/cudnn_bench.py "$out/"
du -sh "$out"
