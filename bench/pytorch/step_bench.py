#!/usr/bin/python3
"""One ResNet training step in PyTorch, the counterpart of `./densecl bench step`.

The step is the same as ours: zero the gradients, forward, softmax cross-entropy, backward (no gradient
for the input image), SGD with momentum 0.9 and weight decay 1e-4 on every parameter. Timing starts after
the warm-up steps; the last line is machine-readable for the Java caller:

    RESULT images_per_s=<float> s_per_step=<float> threads=<int> min_s_per_step=<float>

and the line before it lists every timed step's seconds (the Java caller alternates runs of this script
with its own and compares the distributions):

    STEPS <float> ... <float>

Run with Debian's interpreter (/usr/bin/python3, torch 1.13); torchvision's resnet is used when it
imports, otherwise the equivalent ResNet50 below (fcn_model.py's v1.5 Bottleneck: stride on the 3x3).
"""
import argparse
import contextlib
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from fcn_model import Bottleneck  # torchvision's v1.5 block; dilation 1 here


class ResNet50(nn.Module):
    """torchvision.models.resnet50's layout, for machines without torchvision."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes, stages = 64, []
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
            stride = 1 if i == 0 else 2
            down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                                 nn.BatchNorm2d(planes * 4))
            layers = [Bottleneck(inplanes, planes, stride, 1, down)]
            inplanes = planes * 4
            layers += [Bottleneck(inplanes, planes, 1, 1, None) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def add_device_args(ap):
    """--device and --precision, shared by both step twins (the GPU check runs them with cuda)."""
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--precision", default="tf32", choices=("tf32", "fp32", "bf16"),
                    help="cuda only: tf32 (allow_tf32, PyTorch's cuDNN default), fp32 (TF32 off) or bf16 (autocast)")


def device_setup(a):
    """Sets the math flags of a.device / a.precision. Returns (device, autocast context factory, label)."""
    if a.device == "cpu":
        return torch.device("cpu"), contextlib.nullcontext, ""
    tf32 = a.precision != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    if a.precision == "bf16":
        return torch.device(a.device), lambda: torch.autocast("cuda", dtype=torch.bfloat16), f", {a.device} bf16"
    return torch.device(a.device), contextlib.nullcontext, f", {a.device} {a.precision}"


def isa_note():
    """The vector ISA caps set in the environment, as oneDNN and ATen read them, e.g. to time an AVX2 machine's
    kernels on an AVX-512 one: ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN's convolutions), ATEN_CPU_CAPABILITY=avx2."""
    caps = [f"{k}={os.environ[k]}" for k in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")
            if os.environ.get(k)]
    return ", ISA capped by " + " ".join(caps) if caps else ""


def report(description, batch, times):
    """Prints the three lines PytorchStep.java reads: the description with the speed, STEPS, RESULT."""
    mean = sum(times) / len(times)
    print(f"{description}{isa_note()}: {batch / mean:.3f} images/s, {mean:.4f} s/step (min {min(times):.4f})")
    print("STEPS " + " ".join(f"{t:.6f}" for t in times))
    print(f"RESULT images_per_s={batch / mean:.6f} s_per_step={mean:.6f} threads={torch.get_num_threads()}"
          f" min_s_per_step={min(times):.6f}")


def timed(step, warmup, steps):
    """Runs step() warmup times untimed, then steps times; returns (seconds per step, last result)."""
    for _ in range(warmup):
        step()
    times, result = [], None
    for _ in range(steps):
        t0 = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - t0)
    return times, result


def build(model, channels, classes):
    try:
        import torchvision
        net = getattr(torchvision.models, model)(num_classes=classes)
        source = "torchvision " + torchvision.__version__
    except ImportError:
        if model != "resnet50":
            raise SystemExit("step_bench.py: without torchvision only resnet50 is defined here")
        net = ResNet50(classes)
        source = "local ResNet50 definition (no torchvision)"
    if channels != 3:  # a grayscale stem, as our --channels 1
        net.conv1 = nn.Conv2d(channels, net.conv1.out_channels, 7, 2, 3, bias=False)
    return net, source


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 = all cores")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format (as our activations)")
    add_device_args(ap)
    a = ap.parse_args()

    import os
    torch.set_num_threads(a.threads if a.threads > 0 else os.cpu_count())
    torch.manual_seed(0)
    net, source = build(a.model, a.channels, a.classes)
    dev, autocast, on = device_setup(a)
    net = net.to(dev).train()
    x = torch.randn(a.batch, a.channels, a.size, a.size, device=dev)
    y = torch.randint(0, a.classes, (a.batch,), device=dev)
    if a.channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        opt.zero_grad(set_to_none=False)
        with autocast():
            loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the device: each timed step is the whole step

    description = (f"pytorch {torch.__version__}, {source}, {a.model} batch {a.batch} {a.channels}x{a.size}x{a.size}"
                   f"{' channels_last' if a.channels_last else ''}, {torch.get_num_threads()} threads{on}")
    times, _ = timed(step, a.warmup, a.steps)
    report(description, a.batch, times)


if __name__ == "__main__":
    main()
