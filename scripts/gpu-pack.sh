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
# The command line's class path without the presets' native jars (*-linux-x86_64.jar): the LibTorch
# and CUDA libraries come from the GPU machine's torch/lib.
jars=(tools/target/lstm4j-tools-*.jar)
for j in tools/target/lib/*.jar; do
  case "$j" in *-linux-x86_64.jar) ;; *) jars+=("$j") ;; esac
done
# A runtime with the modules the jars use (jdeps; the bench's ManagementFactory needs
# java.management), plus the Vector API the JAVA engine uses when present; no man pages, headers or
# debug symbols. --ignore-missing-deps: the presets' jar refers to classes of optional jars; the
# class path lets jdeps resolve the presets' modular jars (split-package warnings are harmless).
cp_all="$(printf '%s:' "${jars[@]}")"
modules="$(jdeps --print-module-deps --ignore-missing-deps --multi-release 17 --class-path "$cp_all" \
  "${jars[@]}" 2>/dev/null | tail -n 1)"
case "$modules" in java.base*) ;; *) echo "gpu-pack: jdeps found no module list: $modules" >&2; exit 1 ;; esac
case ",$modules," in *,jdk.incubator.vector,*) ;; *) modules="$modules,jdk.incubator.vector" ;; esac
echo "gpu-pack: modules $modules"
jlink --add-modules "$modules" --strip-debug --no-man-pages \
  --no-header-files --compress=2 --output "$out/jre"
tar -C "$out" -czf "$out/jre.tgz" jre
rm -rf "$out/jre"
cp "${jars[@]}" "$out/lib/"
cp src/test/resources/golden/*.safetensors "$out/golden/"
cp scripts/gpu-check.sh scripts/cudnn_bench.py scripts/torch16_case.py "$out/"
du -sh "$out"
