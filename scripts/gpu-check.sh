#!/usr/bin/env bash
# The GPU check: every golden case on cuda:0 in float32 through lstm4j's CUDA cell kernel first
# (the cell path that ran is printed first and last), then again through LibTorch's fused cell (the
# fallback), the float32 LSTM cases in bfloat16 and float16 (also against PyTorch's own 16-bit
# nn.LSTM), then the bench grid on cuda:0 next to
# PyTorch's own nn.LSTM (cuDNN) timed on the same machine when a Python torch is present. Runs from
# a folder made by scripts/gpu-pack.sh, or from the repository after `./lstm4j help` has built it
# (then with the JDK on the PATH).
#   usage: scripts/gpu-check.sh [--quick]
#          scripts/gpu-check.sh --rehearse [--quick]
# LibTorch: LSTM4J_LIBTORCH_DIR, else the torch/lib of python3's torch.
#
# --rehearse (run in the repository, by CI): builds the pack with scripts/gpu-pack.sh into a
# temporary folder, and runs that folder's own copy of this script with its jlinked runtime on the
# CPU against the presets' CPU LibTorch (target/natives), no Python torch needed: the golden cases
# (every CPU algorithm's default and the device scan) and the bench. A pack that cannot start or run
# fails here, not on the GPU machine. Exit 0 only if all of it ran.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
quick=""
rehearse=""
cpu=""
for a in "$@"; do
  case "$a" in
    --quick) quick="--quick" ;;
    --rehearse) rehearse=1 ;;
    --cpu) cpu=1 ;;   # internal: the rehearsal's run inside the pack
    *) echo "gpu-check: unknown option $a (expected --quick, --rehearse)" >&2; exit 2 ;;
  esac
done

if [ -n "$rehearse" ]; then
  root="$(cd "$here/.." && pwd)"
  natives="$root/target/natives/org/bytedeco"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$root/scripts/gpu-pack.sh" "$tmp/pack"
  [ -f "$natives/pytorch/linux-x86_64/libtorch_cpu.so" ] \
    || { echo "gpu-check --rehearse: no CPU LibTorch in $natives (run mvn package first)" >&2; exit 2; }
  # The pack's libopenblas is not LibTorch's folder: the loader finds it through LD_LIBRARY_PATH.
  LSTM4J_LIBTORCH_DIR="$natives/pytorch/linux-x86_64" \
    LD_LIBRARY_PATH="$natives/openblas/linux-x86_64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$tmp/pack/gpu-check.sh" --cpu $quick
  echo "gpu-check --rehearse: the pack ran everything on the CPU"
  exit 0
fi

if [ -f "$here/jre.tgz" ]; then            # packed by gpu-pack.sh
  [ -x "$here/jre/bin/java" ] || tar -C "$here" -xzf "$here/jre.tgz"
  java="$here/jre/bin/java"
  cp="$(ls "$here"/lib/*.jar | tr '\n' ':')"
  golden="$here/golden"
else                                      # a repository checkout
  root="$(cd "$here/.." && pwd)"
  java="${JAVA:-java}"
  lib="$root/tools/target/lib"
  cp="$(ls "$root"/tools/target/lstm4j-tools-*.jar "$lib"/*.jar | grep -v -- '-linux-x86_64.jar$' | tr '\n' ':')"
  golden="$root/src/test/resources/golden"
fi

torch_lib="${LSTM4J_LIBTORCH_DIR:-}"
if [ -z "$torch_lib" ]; then
  torch_lib="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
fi
if [ -z "$cpu" ]; then
  [ -f "$torch_lib/libtorch_cuda.so" ] || { echo "gpu-check: no libtorch_cuda.so in $torch_lib" >&2; exit 2; }
  device="cuda:0"
else
  device="cpu"
fi
echo "gpu-check: LibTorch from $torch_lib, device $device"
[ -z "$cpu" ] && command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

lstm4j() {
  LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$java" -Xss4m \
    --add-modules jdk.incubator.vector -Dorg.bytedeco.javacpp.platform.extension= \
    -Dlstm4j.libtorch.dir="$torch_lib" "${jvm_extra[@]}" -cp "$cp" dev.lstm4j.tools.cli.Main "$@"
}
jvm_extra=()

status=0
if [ -z "$cpu" ]; then
  # lstm4j's own CUDA cell kernel first (2 ops per step): verify prints the cell path it runs
  # ("kernel: ..." or "libtorch: ..." with every reason the kernel did not load) before any case.
  echo "== golden cases on $device with lstm4j's CUDA cell kernel, float32/float64 (tolerance 5e-6 / 1e-12 vs PyTorch's float64 truth)"
  log="$(mktemp)"
  lstm4j verify --backend native --device "$device" "$golden"/*.safetensors 2>&1 | tee "$log" \
    || status=1
  cell_path="$(grep -m1 '^cell path on ' "$log" || echo "cell path: not reported")"
  rm -f "$log"
  echo "== the same with LibTorch's fused cell (the fallback, 3 ops per step: LSTM4J_CUDA_CELL=libtorch)"
  LSTM4J_CUDA_CELL=libtorch lstm4j verify --backend native --device "$device" "$golden"/*.safetensors \
    || status=1
else
  echo "== golden cases on $device, float32/float64 (tolerance 5e-6 / 1e-12 vs PyTorch's float64 truth)"
  lstm4j verify --backend native --device "$device" "$golden"/*.safetensors || status=1
fi
if [ -n "$cpu" ]; then
  # The device scan (the CUDA path's code) on LibTorch's CPU operations.
  echo "== golden cases on cpu through the device scan"
  jvm_extra=(-Dlstm4j.native.cpuAlgorithm=device)
  lstm4j verify --backend native --device cpu "$golden"/*.safetensors || status=1
  jvm_extra=()
else
  torch16=""
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    torch16="$(mktemp -d)"
    echo "== PyTorch's own 16-bit nn.LSTM on the float32 LSTM cases (the reference for the 16-bit rows)"
    python3 "$here/torch16_case.py" --out "$torch16" "$golden"/*.safetensors || status=1
  else
    echo "gpu-check: no Python torch with CUDA here: 16-bit rows checked against the truth bound only"
  fi
  for p in bfloat16 float16; do
    echo "== golden float32 LSTM cases on cuda:0 in $p (truth bound per precision; and vs PyTorch's $p)"
    lstm4j verify --backend native --device cuda:0 --precision "$p" ${torch16:+--torch16 "$torch16"} \
      "$golden"/*.safetensors || status=1
    # 16-bit runs cuDNN by default; the device scan (and so the cell kernel's 16-bit code) on demand.
    echo "== the same in $p through the device scan and its cell"
    jvm_extra=(-Dlstm4j.native.cpuAlgorithm=device)
    lstm4j verify --backend native --device cuda:0 --precision "$p" ${torch16:+--torch16 "$torch16"} \
      "$golden"/*.safetensors || status=1
    jvm_extra=()
  done
fi

echo "== bench grid on $device"
csv="$(mktemp -d)/bench_${device%%:*}.csv"
lstm4j bench $quick --device "$device" --backends native --csv "$csv" || status=1
if [ -z "$cpu" ] && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  echo "== PyTorch nn.LSTM (cuDNN) on the same rows, and the ratio of lstm4j to it"
  python3 "$here/cudnn_bench.py" --lstm4j-csv "$csv" $quick || status=1
elif [ -z "$cpu" ]; then
  echo "gpu-check: no Python torch with CUDA here: cuDNN column skipped"
fi
[ -z "$cpu" ] && echo "gpu-check: $cell_path"
exit $status
