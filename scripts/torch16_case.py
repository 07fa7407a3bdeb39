#!/usr/bin/env python3
"""PyTorch's own nn.LSTM in bfloat16 and float16 on the float32 LSTM golden cases, on cuda:0.

For each case writes OUT/<case>__<precision>.safetensors holding output, h_n and c_n (as float32)
of the module converted with .to(dtype) (weights, input and states rounded to that precision, as
lstm4j's 16-bit models do), so that `lstm4j verify --precision P --torch16 OUT` compares lstm4j's
16-bit result with PyTorch's. Prints each case's error against the float64 truth. Needs only
torch (the safetensors files are read and written by hand: the format is a JSON header and raw data).
  usage: torch16_case.py --out DIR [--device cuda:0] CASE.safetensors...
"""
import argparse
import json
import os
import struct
import sys

import torch

DTYPES = {"F64": torch.float64, "F32": torch.float32, "I64": torch.int64}


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for key, h in header.items():
        a, b = h["data_offsets"]
        buf = bytearray(data[a:b])
        t = torch.frombuffer(buf, dtype=DTYPES[h["dtype"]]) if b > a else torch.empty(0, dtype=DTYPES[h["dtype"]])
        tensors[key] = t.reshape(h["shape"]).clone()
    return meta, tensors


def write(path, tensors):
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        raw = t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def run(meta, t, dtype, device):
    lstm = torch.nn.LSTM(int(meta["input_size"]), int(meta["hidden_size"]), int(meta["num_layers"]),
                         bias=meta["bias"] == "true", batch_first=meta["batch_first"] == "true",
                         bidirectional=meta["bidirectional"] == "true", proj_size=int(meta["proj_size"]))
    lstm.load_state_dict({k: v for k, v in t.items() if k.startswith(("weight_", "bias_"))})
    lstm = lstm.to(device, dtype).eval()
    x = t["input"].to(device, dtype)
    hx = (t["h0"].to(device, dtype), t["c0"].to(device, dtype)) if "h0" in t else None
    with torch.no_grad():
        if "lengths" in t:
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, t["lengths"], batch_first=lstm.batch_first,
                                                             enforce_sorted=False)
            y, (h, c) = lstm(packed, hx)
            total = x.shape[1] if lstm.batch_first else x.shape[0]
            y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=lstm.batch_first, total_length=total)
        else:
            y, (h, c) = lstm(x, hx)
    return {"output": y, "h_n": h, "c_n": c}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cuda:0", help="where torch runs (cpu only to try this script)")
    p.add_argument("cases", nargs="+")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    device = a.device
    for path in a.cases:
        meta, t = read(path)
        if meta.get("kind") != "lstm" or meta.get("dtype") != "float32":
            continue  # the 16-bit rows take float32 LSTM cases only
        name = os.path.basename(path)[: -len(".safetensors")]
        for pname, dtype in (("bfloat16", torch.bfloat16), ("float16", torch.float16)):
            r = run(meta, t, dtype, device)
            err = max((r[k].double().cpu() - t[k].double()).abs().max().item() for k in r)
            print(f"{name} torch_{pname} max_abs_err={err:.3e}")
            write(os.path.join(a.out, f"{name}__{pname}.safetensors"), r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
