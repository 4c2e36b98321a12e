#!/usr/bin/python3
"""One FCN R50-D8 fine-tuning step in PyTorch, the counterpart of `./densecl bench step --model fcn`.

The model is fcn_model.py's FCN (torchvision's dilated ResNet-50 layout, mmseg's FCNHead for the decode head
on C5 and the auxiliary head on C4, Dropout2d 0.1, bilinear logits with align_corners False, ignore-255
cross-entropy averaged over all pixels, total = decode + 0.4 aux); FcnParityTest checks that a tiny copy of
it computes what our SegmentationModel computes. The step is ours: zero the gradients, forward in training
mode, both losses, backward (no gradient for the input image), SGD with lr 0.01, momentum 0.9 and weight
decay 5e-4 on every parameter. Images are standard normal, labels uniform classes with a tenth of the
pixels 255 (the values do not change the work). Timing starts after the warm-up steps; as in step_bench.py
the last two lines are machine-readable for the Java caller:

    STEPS <float> ... <float>
    RESULT images_per_s=<float> s_per_step=<float> threads=<int> min_s_per_step=<float>

Run with Debian's interpreter (/usr/bin/python3, torch 1.13).
"""
import argparse
import os

import torch

import step_bench  # timed()
from fcn_model import FCN, IGNORE_INDEX


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--classes", type=int, default=2)
    ap.add_argument("--width-multiplier", type=float, default=1.0)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 = all cores")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format (as our activations)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads if a.threads > 0 else os.cpu_count())
    torch.manual_seed(0)
    model = FCN(a.classes, a.width_multiplier, a.channels)  # dropout 0.1, aux weight 0.4, align_corners False
    model.train()
    x = torch.randn(a.batch, a.channels, a.size, a.size)
    labels = torch.randint(0, a.classes, (a.batch, a.size, a.size))
    labels[torch.rand(a.batch, a.size, a.size) < 0.1] = IGNORE_INDEX
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = model.losses(x, labels)[0]
        loss.backward()
        opt.step()
        return loss.item()

    times, loss = step_bench.timed(step, a.warmup, a.steps)
    width = "" if a.width_multiplier == 1.0 else f" width x{a.width_multiplier}"
    step_bench.report(f"pytorch {torch.__version__}, fcn_model.py, fcn r50-d8{width} batch {a.batch}"
                      f" {a.channels}x{a.size}x{a.size} classes {a.classes}{' channels_last' if a.channels_last else ''},"
                      f" {torch.get_num_threads()} threads, last loss {loss:.4f}", a.batch, times)


if __name__ == "__main__":
    main()
