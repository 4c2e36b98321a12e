#!/usr/bin/python3
"""Convolution layers one by one in PyTorch, the counterpart of `./densecl bench conv-layers`.

Each layer is given as n,h,w,c,k,r,s,stride,pad,dilation,passes (our ConvGeometry with square strides, padding
and dilation; NHWC sizes; passes three 0/1 digits: which of forward, data, filter the step calls). For every
layer the script times those passes, the way autograd calls them:
    forward   torch.nn.functional.conv2d
    data      aten.convolution_backward with output_mask (True, False, False): the input gradient
    filter    aten.convolution_backward with output_mask (False, True, False): the weight gradient
each after --warmup untimed calls, as the mean of --reps timed calls (nan for a pass not called). Output, one
line per layer after a description line:

    pytorch <version>, <memory format>, <threads> threads: conv layers
    LAYER <index> <forward s> <data s> <filter s>

Run with Debian's interpreter (/usr/bin/python3, torch 1.13).
"""
import argparse
import time

import torch


def time_call(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def time_layer(spec, passes, memory_format, warmup, reps):
    n, h, w, c, k, r, s, stride, pad, dil = spec
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(n, c, h, w, generator=gen) * 2 - 1).to(memory_format=memory_format)
    weight = (torch.rand(k, c, r, s, generator=gen) * 2 - 1).to(memory_format=memory_format)
    conv = dict(stride=stride, padding=pad, dilation=dil)
    with torch.no_grad():
        y = torch.nn.functional.conv2d(x, weight, **conv)
        dy = (torch.rand(y.shape, generator=gen) * 2 - 1).to(memory_format=memory_format)

        def backward(mask):
            return torch.ops.aten.convolution_backward(dy, x, weight, None, [stride] * 2, [pad] * 2, [dil] * 2,
                                                       False, [0, 0], 1, mask)

        calls = (lambda: torch.nn.functional.conv2d(x, weight, **conv),
                 lambda: backward([True, False, False]),
                 lambda: backward([False, True, False]))
        return [time_call(fn, warmup, reps) if on == "1" else float("nan") for fn, on in zip(calls, passes)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", required=True,
                    help="layers separated by ';', each n,h,w,c,k,r,s,stride,pad,dilation,passes")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="0: torch's default")
    ap.add_argument("--memory-format", choices=("channels_last", "contiguous"), default="channels_last")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    memory_format = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format
    layers = [layer.split(",") for layer in args.layers.split(";")]
    print(f"pytorch {torch.__version__}, {args.memory_format}, {torch.get_num_threads()} threads: conv layers",
          flush=True)
    for i, fields in enumerate(layers):
        if len(fields) != 11 or len(fields[10]) != 3 or set(fields[10]) - {"0", "1"}:
            raise SystemExit(f"conv_layers_bench.py: layer {i} is {fields}, expected 10 numbers and 3 pass digits")
        seconds = time_layer(tuple(int(v) for v in fields[:10]), fields[10], memory_format, args.warmup, args.reps)
        print("LAYER", i, " ".join(f"{t:.6e}" for t in seconds), flush=True)


if __name__ == "__main__":
    main()
