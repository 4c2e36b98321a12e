#!/usr/bin/python3
"""One DenseCL pretraining step in PyTorch, the counterpart of `./densecl bench step --model densecl`.

The algorithm is the official DenseCL's (github WXinlong/DenseCL, openselfsup/models/densecl.py and the
DenseCLNeck of openselfsup/models/necks.py), as our spec /work/shared/reference/densecl.md sections 1-2
describes it, written here from that description:

  * backbone: torchvision's ResNet without avgpool and fc, giving C5 (N, 2048, S, S);
  * neck (no BN): global = avgpool -> Linear C-H -> ReLU -> Linear H-D; dense = conv1x1 C-H -> ReLU ->
    conv1x1 H-D on every location; pooled dense = avgpool of the dense output (spec 1.2);
  * key encoder = a deep copy of the query encoder, updated as k <- m k + (1 - m) q with m = 0.999 under
    no_grad after the query forward and BEFORE the key forward (spec 1.3); BN in train mode on both;
  * F.normalize of q, the dense grid and the C5 maps; two queues (D x K) of random unit columns (spec 1.4);
  * global InfoNCE of q against k and queue; dense InfoNCE of every query location against the key location
    of highest cosine similarity of the normalised C5 features (argmax, gather) and queue2; temperature 0.2,
    CrossEntropy with target 0; loss = 0.5 * global + 0.5 * dense (spec 2.1);
  * SGD momentum 0.9, weight decay 1e-4 on the query encoder; enqueue k and the normalised pooled dense key
    after the update.

One device: no batch shuffle across GPUs, so both BN see the whole batch of N images. Our
`bench step --model densecl --bn-groups 1` (its default) does the same. Timing starts after the warm-up
steps; the last line is machine-readable for the Java caller, as in step_bench.py:

    RESULT images_per_s=<float> s_per_step=<float> threads=<int> min_s_per_step=<float>

preceded, as in step_bench.py, by a line "STEPS <float> ... <float>" with every timed step's seconds.

Run with Debian's interpreter (/usr/bin/python3, torch 1.13, torchvision 0.14).
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import step_bench  # the ResNet builder of the classifier step (torchvision, or its local ResNet-50)
from densecl_reference import DenseCL  # the model and its step, shared with the training twin


class Backbone(nn.Module):
    """A torchvision-layout ResNet up to layer4: C5, no avgpool, no fc."""

    def __init__(self, arch, channels):
        super().__init__()
        net, self.source = step_bench.build(arch, channels, 1000)
        self.conv1, self.bn1, self.maxpool = net.conv1, net.bn1, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        self.out_channels = net.fc.in_features

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--queue", type=int, default=4096, help="K, a multiple of --batch")
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 = all cores")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format (as our activations)")
    step_bench.add_device_args(ap)
    a = ap.parse_args()
    if a.queue % a.batch != 0:
        raise SystemExit(f"densecl_step_bench.py: --queue {a.queue} must be a multiple of --batch {a.batch}")

    torch.set_num_threads(a.threads if a.threads > 0 else os.cpu_count())
    torch.manual_seed(0)
    backbone = Backbone(a.arch, a.channels)
    model = DenseCL(backbone, hidden=2048, dim=128, queue=a.queue)  # one device: bn_groups 1, no key shuffle
    dev, autocast, on = step_bench.device_setup(a)
    model = model.to(dev).train()
    im_q = torch.randn(a.batch, a.channels, a.size, a.size, device=dev)
    im_k = torch.randn(a.batch, a.channels, a.size, a.size, device=dev)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        im_q = im_q.contiguous(memory_format=torch.channels_last)
        im_k = im_k.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.query_params(), lr=0.03, momentum=0.9, weight_decay=1e-4)

    def step():
        opt.zero_grad(set_to_none=False)
        with autocast():
            loss_global, loss_dense, _ = model(im_q, im_k, tau=0.2, lam=0.5, momentum=0.999)  # enqueues k, k2
            loss = loss_global + loss_dense
        loss.backward()
        opt.step()
        return loss.item()

    times, loss = step_bench.timed(step, a.warmup, a.steps)
    step_bench.report(f"pytorch {torch.__version__}, {backbone.source}, densecl {a.arch} batch {a.batch}"
                      f" {a.channels}x{a.size}x{a.size} queue {a.queue}{' channels_last' if a.channels_last else ''},"
                      f" {torch.get_num_threads()} threads{on}, last loss {loss:.4f}", a.batch, times)


if __name__ == "__main__":
    main()
