#!/usr/bin/env python3
"""PyTorch reference fixture for ResNetParityTest: a whole reduced-width ResNet-50, forward and backward.

Writes src/test/resources/fixtures/resnet50_w16.safetensors. The tests NEVER run this script and need no
PyTorch: the generated file is committed. Rerun it only when the case changes, and commit the result.

How to run (from the repository root), with Debian's PyTorch 1.13 (CPU):

    apt-get install python3-torch
    /usr/bin/python3 src/test/python/make_resnet_fixture.py

The network is torchvision's ResNet-50 layout (Bottleneck v1.5: stride on the 3x3 conv, blocks 3, 4, 6, 3,
1x1 projection "downsample.0/1" in each stage's first block), defined below with torchvision's module names
so its state_dict keys are exactly those of org.densecl.model.ResNet, at ResNetConfig width 4
(withWidthMultiplier(1/16)): stem 4 channels, planes 4/8/16/32, stage outputs 16/32/64/128. One input
channel (grayscale), fc to 5 classes, input (2, 1, 48, 48): layer4 is 2x2, so its BNs still average
N*H*W = 8 values per channel (at 32x32 they would see 2 and map every value to +-1, hiding errors); 48 is
not a multiple of 32, so layer3 is 3x3 and layer4's strided convs see an odd size.

Initialisation (seeded): Kaiming-normal convs (fan_in), random BN gamma ~ N(1, 0.2), beta ~ N(0, 0.2),
fc ~ N(0, 0.1) with bias N(0, 0.1); running statistics from a calibration batch, then perturbed (see
calibrate()), and num_batches_tracked 3, so eval mode really uses running statistics that are not the
batch's.

Sequence: eval-mode logits first ('eval.logits', running statistics untouched), then in train mode
logits, mean cross-entropy over the 2 samples, loss.backward(). Saved: every state_dict entry BEFORE the
step (the exact float32 inputs; num_batches_tracked as an I64 scalar), 'input' (NCHW), 'labels' (I64),
'eval.logits', 'logits', 'loss', 'grad.<key>' for every parameter, 'grad.input' and 'after.<key>' for
every BN running_mean / running_var after the training forward (momentum 0.1).

Precision. Weights and input are drawn, rounded to float32 and stored as F32: the Java float32 run sees
exactly the numbers used here. Everything is then computed in float64 (model.double()), with BN momentum
and eps set to the float32 numbers 0.1f and 1e-5f the Java config holds, and results are stored as F32 to
keep the file under 1 MB (F64 gradients alone would be ~0.75 MB): rounding an F64 result to F32 costs
6e-8 relative, far below the ~1e-4 a float32 pass through ~50 layers with BN accumulates.
"""

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import OUT, write_safetensors  # noqa: E402

GENERATOR = "src/test/python/make_resnet_fixture.py"
SEED = 2026
WIDTH, IN_CHANNELS, CLASSES = 4, 1, 5
N, H, W = 2, 48, 48
MOMENTUM, EPS = float(np.float32(0.1)), float(np.float32(1e-5))


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (v1.5): 1x1 -> 3x3 (stride) -> 1x1 (x4), projection when the shape changes."""
    expansion = 4

    def __init__(self, inplanes, planes, stride, project):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False),
                                        nn.BatchNorm2d(planes * 4)) if project else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + identity)


class ResNet50(nn.Module):
    """torchvision's resnet50 with ResNetConfig's width (stem channels = layer1 planes; stage s has width * 2^s)."""

    def __init__(self, width, in_channels, classes, blocks=(3, 4, 6, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = width
        for s, count in enumerate(blocks):
            planes, stride = width << s, 1 if s == 0 else 2
            layer = []
            for b in range(count):
                project = b == 0 and (stride != 1 or inplanes != planes * 4)
                layer.append(Bottleneck(inplanes, planes, stride if b == 0 else 1, project))
                inplanes = planes * 4
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def f32exact(t):
    """float64 values that are exactly float32 numbers."""
    return t.float().double()


def initialise(model, g):
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.weight[0].numel()
            m.weight.copy_(f32exact(torch.randn(m.weight.shape, generator=g, dtype=torch.float64)
                                    * (2.0 / fan_in) ** 0.5))
        elif isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.copy_(f32exact(1.0 + 0.2 * torch.randn(c, generator=g, dtype=torch.float64)))
            m.bias.copy_(f32exact(0.2 * torch.randn(c, generator=g, dtype=torch.float64)))
            m.running_mean.copy_(f32exact(0.2 * torch.randn(c, generator=g, dtype=torch.float64)))
            m.running_var.copy_(f32exact(0.5 + torch.rand(c, generator=g, dtype=torch.float64)))
            m.num_batches_tracked.fill_(3)
            m.momentum, m.eps = MOMENTUM, EPS
        elif isinstance(m, nn.Linear):
            m.weight.copy_(f32exact(0.1 * torch.randn(m.weight.shape, generator=g, dtype=torch.float64)))
            m.bias.copy_(f32exact(0.1 * torch.randn(m.bias.shape, generator=g, dtype=torch.float64)))


def calibrate(model, g):
    """Running statistics near the real ones: random running stats would not match the activations (whose
    variance grows block by block), and eval logits came out at ~1e3. One train-mode pass over another random
    batch with momentum 1 sets them to that batch's statistics, which are then perturbed (mean + N(0, 0.1) *
    sqrt(var), var * U(0.7, 1.3)) so eval mode differs visibly from train mode, and rounded to float32."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(f32exact(torch.randn(4, IN_CHANNELS, H, W, generator=g, dtype=torch.float64)))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.add_(0.1 * m.running_var.sqrt() * torch.randn(c, generator=g, dtype=torch.float64))
                m.running_var.mul_(0.7 + 0.6 * torch.rand(c, generator=g, dtype=torch.float64))
                m.running_mean.copy_(f32exact(m.running_mean))
                m.running_var.copy_(f32exact(m.running_var))
                m.num_batches_tracked.fill_(3)
                m.momentum = MOMENTUM


def main():
    g = torch.Generator().manual_seed(SEED)
    model = ResNet50(WIDTH, IN_CHANNELS, CLASSES).double()
    with torch.no_grad():
        initialise(model, g)
    calibrate(model, g)
    x = f32exact(torch.randn(N, IN_CHANNELS, H, W, generator=g, dtype=torch.float64))
    labels = torch.tensor([3, 1], dtype=torch.int64)

    tensors = {}
    for key, v in model.state_dict().items():
        tensors[key] = v.detach().clone() if v.dtype == torch.int64 else v.detach().float()

    model.eval()
    with torch.no_grad():
        tensors["eval.logits"] = model(x).float()

    model.train()
    xg = x.clone().requires_grad_()
    logits = model(xg)
    loss = F.cross_entropy(logits, labels)
    loss.backward()

    tensors.update({"input": x.float(), "labels": labels, "logits": logits.detach().float(),
                    "loss": loss.detach().float(), "grad.input": xg.grad.float()})
    for key, p in model.named_parameters():
        tensors["grad." + key] = p.grad.float()
    for key, v in model.state_dict().items():
        if key.endswith("running_mean") or key.endswith("running_var"):
            tensors["after." + key] = v.float()

    meta = {"op": "resnet50_forward_backward", "seed": SEED, "generator": GENERATOR, "torch": torch.__version__,
            "layout": "PyTorch (NCHW activations, OIHW weights)",
            "precision": "inputs F32 (exact); computed in float64; results stored as F32",
            "width": WIDTH, "in_channels": IN_CHANNELS, "classes": CLASSES, "batch": N, "height": H,
            "width_px": W, "momentum": MOMENTUM, "eps": EPS}
    path = OUT / "resnet50_w16.safetensors"
    write_safetensors(path, tensors, meta)
    print(f"{path}: {path.stat().st_size} bytes, {len(tensors)} tensors, loss {loss.item():.6f}, "
          f"eval logits {tensors['eval.logits'].tolist()}")


if __name__ == "__main__":
    main()
