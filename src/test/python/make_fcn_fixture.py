#!/usr/bin/env python3
"""PyTorch reference fixture for FcnParityTest: a whole tiny FCN R50-D8, forward, losses and gradients.

Writes src/test/resources/fixtures/fcn_r50d8_tiny.safetensors. The tests NEVER run this script and need no
PyTorch: the generated file is committed. Rerun it only when the case changes, and commit the result.

How to run (from the repository root), with Debian's PyTorch 1.13 (CPU):

    apt-get install python3-torch python3-torchvision
    /usr/bin/python3 src/test/python/make_fcn_fixture.py

The model is bench/pytorch/fcn_model.py's FCN (the twin of org.densecl.seg.SegmentationModel; torchvision
is only used to check that its dilated backbone is torchvision's, see check_backbone_layout) as
SegmentationConfig.fcnR50D8().withWidthMultiplier(1/32) with blocks (1, 1, 2, 2), 1 input channel and
dropout 0:
  * backbone width 2: stage outputs 8/16/32/64 channels; layer3.1 runs the dilation-2 3x3 and layer4.0 /
    layer4.1 the dilation-2 / dilation-4 ones, so every dilation R50-D8 uses is exercised;
  * decode head on C5: 64 -> 16 channels, 2 ConvModules, conv_cat over 64 + 16; auxiliary head on C4: 32 -> 8,
    1 ConvModule; 4 classes; aux weight float32(0.4); align_corners False;
  * dropout 0 in both heads (Dropout2d masks come from different generators here and in the engine);
  * input (2, 1, 36, 44): odd sizes, C4 and C5 are 5 x 6 (BN over 60 values per channel), so the logits are
    resized by the non-integer factors 7.2 and 7.33; labels (2, 36, 44) in [0, 4) with about 20% 255
    (ignored, but counted in the mean's denominator).

Initialisation (seeded): Kaiming-normal (fan_in) convs, BN gamma ~ N(1, 0.2), beta ~ N(0, 0.2); conv_seg
~ N(0, 1/channels) with bias N(0, 0.1) instead of mmseg's N(0, 0.01), which would scale every backbone
gradient down by 100 and hide errors under the tolerance. Running statistics from a calibration batch,
then perturbed (as make_resnet_fixture.py's calibrate()), num_batches_tracked 3, so eval mode really uses
running statistics that are not the batch's.

Sequence: eval-mode logits first ('eval.logits', mmseg's 'whole' inference at the input size; running
statistics untouched), then in train mode both heads' logits, the losses, total.backward(). Saved under
mmseg's keys (backbone.<torchvision key>, decode_head.*, auxiliary_head.*), PyTorch layouts (NCHW, OIHW):
  <key>                  every state_dict entry BEFORE the step (F32; num_batches_tracked I64)
  input (2, 1, 36, 44) F32, labels (2, 36, 44) I64
  eval.logits            (2, 4, 36, 44) decode logits in eval mode, resized to the input size
  decode.logits, aux.logits  (2, 4, 5, 6) the heads' train-mode logits at 1/8
  loss.decode, loss.aux, loss.total  (1) the unweighted CEs and decode + float32(0.4) * aux
  grad.<key>             d loss.total / d every parameter
  after.<key>            every BN running_mean / running_var after the training forward
and the metadata key state_dict_keys: the state_dict's keys in order, comma-separated.

Precision: as make_fixtures.py, inputs and weights are float32 numbers stored as F32; everything is
computed in float64 and results are stored as F64 (the file stays at about 0.5 MB), so an F64 run of the
reference backend can be held to float64 rounding.
"""

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "bench" / "pytorch"))
from make_fixtures import f32, f64, gen, meta, randn, save, uniform  # noqa: E402
from fcn_model import FCN, DilatedResNet  # noqa: E402

GENERATOR = "src/test/python/make_fcn_fixture.py"
SEED = 2027
WIDTH_MULTIPLIER, BLOCKS, IN_CHANNELS, CLASSES = 1 / 32, (1, 1, 2, 2), 1, 4
N, H, W = 2, 36, 44
IGNORED = 0.2
# The engine holds these as Java floats: use the same float32 numbers so that the float64 reference answers
# the question the engine is asked (0.4f differs from 0.4 by 6e-9).
MOMENTUM, EPS, AUX_WEIGHT = (float(np.float32(v)) for v in (0.1, 1e-5, 0.4))


def initialise(model, g):
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d) and name.endswith("conv_seg"):
            m.weight.copy_(randn(g, *m.weight.shape, std=m.in_channels ** -0.5))
            m.bias.copy_(randn(g, *m.bias.shape, std=0.1))
        elif isinstance(m, nn.Conv2d):
            m.weight.copy_(randn(g, *m.weight.shape, std=(2.0 / m.weight[0].numel()) ** 0.5))
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(randn(g, m.num_features, mean=1.0, std=0.2))
            m.bias.copy_(randn(g, m.num_features, std=0.2))
            m.momentum, m.eps = MOMENTUM, EPS


def calibrate(model, g):
    """Running statistics near the real ones (random ones would not match activations whose variance grows
    block by block): one train-mode pass over another batch with momentum 1, then mean + N(0, 0.1) * std and
    var * U(0.7, 1.3), rounded to float32, and num_batches_tracked 3."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(randn(g, 4, IN_CHANNELS, H, W))
        for m in bns:
            c = m.num_features
            m.running_mean.copy_((m.running_mean + 0.1 * m.running_var.sqrt() * randn(g, c)).float().double())
            m.running_var.copy_((m.running_var * uniform(g, c, lo=0.7, hi=1.3)).float().double())
            m.num_batches_tracked.fill_(3)
            m.momentum = MOMENTUM


def check_backbone_layout():
    """Our DilatedResNet at full width is torchvision's resnet50(replace_stride_with_dilation=[False, True,
    True]) without fc: the same state_dict keys and shapes, and on torchvision's weights the same C5."""
    try:
        import torchvision
    except ImportError:
        print("torchvision not installed: the backbone layout check is skipped")
        return
    tv = torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True]).double().eval()
    ours = DilatedResNet(64, 3).double().eval()
    want = {k: v.shape for k, v in tv.state_dict().items() if not k.startswith("fc.")}
    got = {k: v.shape for k, v in ours.state_dict().items()}
    assert list(want) == list(got) and want == got, "DilatedResNet's state_dict differs from torchvision's"
    ours.load_state_dict({k: v for k, v in tv.state_dict().items() if not k.startswith("fc.")})
    x = torch.randn(1, 3, 67, 61, generator=gen(1), dtype=torch.float64)
    with torch.no_grad():
        c5 = tv.layer4(tv.layer3(tv.layer2(tv.layer1(tv.maxpool(tv.relu(tv.bn1(tv.conv1(x))))))))
        diff = (ours(x)[1] - c5).abs().max().item()
    assert diff == 0, f"DilatedResNet's C5 differs from torchvision's by {diff}"
    print(f"backbone layout: as torchvision {torchvision.__version__} resnet50 at output stride 8")


def main():
    check_backbone_layout()
    g = gen(SEED)
    model = FCN(CLASSES, WIDTH_MULTIPLIER, IN_CHANNELS, BLOCKS, dropout=0.0, aux_weight=AUX_WEIGHT).double()
    with torch.no_grad():
        initialise(model, g)
    calibrate(model, g)
    x = randn(g, N, IN_CHANNELS, H, W)
    labels = torch.randint(0, CLASSES, (N, H, W), generator=g)
    labels[torch.rand(N, H, W, generator=g) < IGNORED] = 255
    labels[0, 0, 0] = 255  # at least one, in a known place (a corner: the resize's edge clamping)

    tensors = {k: (v.clone() if v.dtype == torch.int64 else f32(v)) for k, v in model.state_dict().items()}

    model.eval()
    with torch.no_grad():
        tensors["eval.logits"] = f64(model.predict(x, (H, W)))

    model.train()
    total, ce_dec, ce_aux, dec, aux = model.losses(x, labels)
    total.backward()

    tensors.update({"input": f32(x), "labels": labels, "decode.logits": f64(dec), "aux.logits": f64(aux),
                    "loss.decode": f64(ce_dec).reshape(1), "loss.aux": f64(ce_aux).reshape(1),
                    "loss.total": f64(total).reshape(1)})
    for key, p in model.named_parameters():
        tensors["grad." + key] = f64(p.grad)
    for key, v in model.state_dict().items():
        if key.endswith("running_mean") or key.endswith("running_var"):
            tensors["after." + key] = f64(v)

    m = meta("fcn_r50d8_forward_backward", SEED, width_multiplier="1/32", blocks="1,1,2,2",
             in_channels=IN_CHANNELS, classes=CLASSES, batch=N, height=H, width=W, dropout=0.0,
             aux_weight=AUX_WEIGHT, align_corners=False, momentum=MOMENTUM, eps=EPS, ignore_index=255,
             ignored=int((labels == 255).sum()), pixels=labels.numel(),
             state_dict_keys=",".join(model.state_dict().keys()))
    m.update(generator=GENERATOR)
    save("fcn_r50d8_tiny", tensors, m)
    print(f"loss total {total.item():.6f} = decode {ce_dec.item():.6f} + {AUX_WEIGHT} * aux {ce_aux.item():.6f}")


if __name__ == "__main__":
    main()
