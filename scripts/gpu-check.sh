#!/usr/bin/env bash
# The GPU check: every golden case on cuda:0 in float32 (and the float32 LSTM cases in bfloat16 and
# float16), then the bench grid on cuda:0 next to PyTorch's own nn.LSTM (cuDNN) timed on the same
# machine when a Python torch is present. Runs from a folder made by scripts/gpu-pack.sh, or from
# the repository after `./lstm4j help` has built it (then with the JDK on the PATH).
#   usage: scripts/gpu-check.sh [--quick]
# LibTorch: LSTM4J_LIBTORCH_DIR, else the torch/lib of python3's torch.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
quick="${1:-}"

if [ -f "$here/jre.tgz" ]; then            # packed by gpu-pack.sh
  [ -x "$here/jre/bin/java" ] || tar -C "$here" -xzf "$here/jre.tgz"
  java="$here/jre/bin/java"
  cp="$(ls "$here"/lib/*.jar | tr '\n' ':')"
  golden="$here/golden"
else                                      # a repository checkout
  root="$(cd "$here/.." && pwd)"
  java="${JAVA:-java}"
  lib="$root/tools/target/lib"
  cp="$(ls "$root"/tools/target/lstm4j-tools-*.jar "$lib"/lstm4j-*.jar "$lib"/picocli-*.jar "$lib"/pickle-*.jar \
    "$lib"/javacpp-1.5.13.jar "$lib"/pytorch-2.10.0-1.5.13.jar | tr '\n' ':')"
  golden="$root/src/test/resources/golden"
fi

torch_lib="${LSTM4J_LIBTORCH_DIR:-}"
if [ -z "$torch_lib" ]; then
  torch_lib="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
fi
[ -f "$torch_lib/libtorch_cuda.so" ] || { echo "gpu-check: no libtorch_cuda.so in $torch_lib" >&2; exit 2; }
echo "gpu-check: LibTorch from $torch_lib"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

lstm4j() {
  LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$java" -Xss4m \
    --add-modules jdk.incubator.vector -Dorg.bytedeco.javacpp.platform.extension= \
    -Dlstm4j.libtorch.dir="$torch_lib" -cp "$cp" dev.lstm4j.tools.cli.Main "$@"
}

status=0
echo "== golden cases on cuda:0, float32/float64 (tolerance 5e-6 / 1e-12 vs PyTorch's float64 truth)"
lstm4j verify --backend native --device cuda:0 "$golden"/*.safetensors || status=1
for p in bfloat16 float16; do
  echo "== golden float32 LSTM cases on cuda:0 in $p (tolerance 2e-2)"
  lstm4j verify --backend native --device cuda:0 --precision "$p" "$golden"/*.safetensors || status=1
done

echo "== bench grid on cuda:0"
csv="$(mktemp -d)/bench_cuda.csv"
lstm4j bench $quick --device cuda:0 --backends native --csv "$csv" || status=1
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  echo "== PyTorch nn.LSTM (cuDNN) on the same rows, and the ratio of lstm4j to it"
  python3 "$here/cudnn_bench.py" --lstm4j-csv "$csv" $quick || status=1
else
  echo "gpu-check: no Python torch with CUDA here: cuDNN column skipped"
fi
exit $status
