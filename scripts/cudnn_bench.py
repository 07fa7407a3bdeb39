"""Times PyTorch's own nn.LSTM (cuDNN) on the rows of `lstm4j bench` and prints the ratio of
lstm4j's NATIVE time on cuda:0 (from its --csv file) to it, per row.

Per row, cuDNN is timed in two numeric modes, because PyTorch runs cuDNN's float32 RNN in TF32 by
default (`torch.backends.cudnn.allow_tf32`, which covers `allowTF32CuDNN(Float32Op::RNN)`) while
lstm4j's float32 is IEEE:
- `ieee`: TF32 off, the same arithmetic as lstm4j's float32 (the fair anchor for lstm4j's time);
- `tf32`: PyTorch's default.
Each mode is timed with the input already on the GPU and the outputs left there (what PyTorch users
usually time), and with the input copied from host memory and the outputs copied back, as
lstm4j's array API does on every call. The ratios are lstm4j's time over the IEEE cuDNN time.
"""
import argparse
import csv
import statistics
import time

import torch

# Same rows as dev.lstm4j.bench.BenchmarkRow: name, B, T, I, H, layers, bidirectional, proj_size.
ROWS = [
    ("stream_b1_t1_h256", 1, 1, 256, 256, 1, False, 0),
    ("b1_t128_h256", 1, 128, 256, 256, 1, False, 0),
    ("b64_t128_h256_l2", 64, 128, 256, 256, 2, False, 0),
    ("b64_t128_h512_l2_bi", 64, 128, 512, 512, 2, True, 0),
    ("b64_t128_i512_h1024_l2_p256", 64, 128, 512, 1024, 2, False, 256),
]


def median_ms(fn, min_calls, min_seconds):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lstm4j-csv", help="CSV written by `lstm4j bench --device cuda:0 --csv`")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    ours = {}
    if args.lstm4j_csv:
        with open(args.lstm4j_csv) as f:
            for r in csv.DictReader(f):
                if r["backend"] == "NATIVE":
                    ours[r["config"]] = float(r["median_ms"])
    min_calls, min_s = (3, 0.05) if args.quick else (20, 1.0)
    dev = torch.device("cuda:0")
    torch.manual_seed(42)
    print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}")
    print(f"{'config':28} {'ieee_ms':>9} {'ieee_copies_ms':>15} {'tf32_ms':>9} {'tf32_copies_ms':>15} "
          f"{'lstm4j_ms':>10} {'ratio':>7} {'ratio_copies':>13}")
    default_tf32 = torch.backends.cudnn.allow_tf32
    with torch.inference_mode():
        for name, B, T, I, H, L, bi, P in ROWS:
            lstm = torch.nn.LSTM(I, H, num_layers=L, batch_first=True, bidirectional=bi, proj_size=P).to(dev)
            x_host = torch.randn(B, T, I).pin_memory()
            x_dev = x_host.to(dev)

            def with_copies():
                y, (h, c) = lstm(x_host.to(dev))
                return y.cpu(), h.cpu(), c.cpu()

            times = {}
            for mode, tf32 in (("ieee", False), ("tf32", True)):
                torch.backends.cudnn.allow_tf32 = tf32
                times[mode] = (median_ms(lambda: lstm(x_dev), min_calls, min_s),
                               median_ms(with_copies, min_calls, min_s))
            torch.backends.cudnn.allow_tf32 = default_tf32
            (ieee, ieee_c), (tf, tf_c) = times["ieee"], times["tf32"]
            mine = ours.get(name)
            r = f"{mine / ieee:7.3f}" if mine else "    n/a"
            rc = f"{mine / ieee_c:13.3f}" if mine else "          n/a"
            m = f"{mine:10.4f}" if mine else "       n/a"
            print(f"{name:28} {ieee:9.4f} {ieee_c:15.4f} {tf:9.4f} {tf_c:15.4f} {m} {r} {rc}")
    print(f"PyTorch's default here: torch.backends.cudnn.allow_tf32 = {default_tf32} "
          f"(the tf32 columns); lstm4j's float32 is IEEE (compare with the ieee columns)")

if __name__ == "__main__":
    main()
