#!/usr/bin/python3
"""mmsegmentation's FCN R50-D8 in plain PyTorch: the twin of org.densecl.seg.SegmentationModel.

Used by src/test/python/make_fcn_fixture.py (a tiny float64 copy, for FcnParityTest) and by
bench/pytorch/fcn_step_bench.py (the full model, for `./densecl bench step --model fcn --compare-pytorch`).
Written here so that both use one definition, and so that neither needs mmcv/mmseg (not packaged by Debian):

  * backbone: torchvision's ResNet-50 layout (7x7 stem, Bottleneck v1.5 with the stride on the 3x3) at
    output stride 8 as torchvision's replace_stride_with_dilation=[False, True, True] builds it: layer3 and
    layer4 keep stride 1 and dilate their 3x3s by 2 and 4, the first block of each using the previous
    dilation (1 and 2), as mmseg's contract_dilation does. Widths are ResNetConfig's: stem and layer1 planes
    `width`, stage s planes width * 2^s, so a width multiplier m gives round(64 m). The blocks per stage
    can be reduced (the fixture's tiny model). make_fcn_fixture.py checks this definition against
    torchvision's at full width.
  * heads: mmseg's FCNHead. ConvModule = conv (no bias, since a norm follows) -> BN -> ReLU; `convs` is
    num_convs 3x3 ConvModules (in -> channels -> channels); with concat_input `conv_cat` is a 3x3 ConvModule
    over torch.cat([x, convs(x)], dim=1); Dropout2d(p) when p > 0; `conv_seg` a 1x1 conv with bias.
    conv_seg is created first, as BaseDecodeHead does before FCNHead adds its convs, so the state_dict
    order is mmseg's. Decode head on C5 (2 convs, concat_input, 512 m channels), auxiliary head on C4
    (1 conv, no concat, 256 m channels).
  * loss: each head's logits bilinearly resized to the label size (align_corners False), softmax
    cross-entropy with ignore_index 255 averaged over ALL pixels (mmseg 0.x's CrossEntropyLoss with
    avg_non_ignore False), total = decode + aux_weight * aux.

state_dict keys are mmseg's: backbone.<torchvision key>, decode_head.*, auxiliary_head.*.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

IGNORE_INDEX = 255


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (v1.5: the stride on the 3x3) with its dilation argument."""

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + idt)


class DilatedResNet(nn.Module):
    """ResNet-50 layout at output stride 8, without avgpool and fc; forward returns (C4, C5)."""

    def __init__(self, width=64, in_channels=3, blocks=(3, 4, 6, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes, dilation, stages = width, 1, []
        for s, count in enumerate(blocks):
            planes, stride, previous = width << s, 1 if s == 0 else 2, dilation
            if s >= 2:  # torchvision's replace_stride_with_dilation [False, True, True]
                dilation *= stride
                stride = 1
            down = None
            if stride != 1 or inplanes != planes * 4:
                down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                                     nn.BatchNorm2d(planes * 4))
            layers = [Bottleneck(inplanes, planes, stride, previous, down)]
            inplanes = planes * 4
            layers += [Bottleneck(inplanes, planes, 1, dilation, None) for _ in range(count - 1)]
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.c4_channels, self.c5_channels = (width << 2) * 4, (width << 3) * 4

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        c4 = self.layer3(self.layer2(self.layer1(x)))
        return c4, self.layer4(c4)


class ConvModule(nn.Module):
    """mmcv's ConvModule with norm_cfg BN and ReLU: conv (bias 'auto' = False under a norm) -> BN -> ReLU."""

    def __init__(self, cin, cout, kernel):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FCNHead(nn.Module):
    """mmseg's FCNHead (kernel 3, dilation 1) with BaseDecodeHead's dropout and conv_seg."""

    def __init__(self, in_channels, channels, num_convs, concat_input, dropout, num_classes):
        super().__init__()
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)  # first: mmseg's state_dict order
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else None
        self.convs = nn.Sequential(*[ConvModule(in_channels if i == 0 else channels, channels, 3)
                                     for i in range(num_convs)])
        self.conv_cat = ConvModule(in_channels + channels, channels, 3) if concat_input else None

    def forward(self, x):
        out = self.convs(x)
        if self.conv_cat is not None:
            out = self.conv_cat(torch.cat([x, out], dim=1))
        if self.dropout is not None:
            out = self.dropout(out)
        return self.conv_seg(out)


def seg_cross_entropy(logits, labels, align_corners):
    """Logits (N, K, h, w) resized to labels (N, H, W), per-pixel CE with ignore 255, mean over ALL pixels."""
    up = F.interpolate(logits, size=labels.shape[1:], mode="bilinear", align_corners=align_corners)
    return F.cross_entropy(up, labels, ignore_index=IGNORE_INDEX, reduction="none").mean()


class FCN(nn.Module):
    """FCN R50-D8 as SegmentationConfig.fcnR50D8().withWidthMultiplier(width_multiplier)."""

    def __init__(self, num_classes, width_multiplier=1.0, in_channels=3, blocks=(3, 4, 6, 3), dropout=0.1,
                 aux_weight=0.4, align_corners=False):
        super().__init__()
        width = max(1, round(64 * width_multiplier))
        self.backbone = DilatedResNet(width, in_channels, blocks)
        self.decode_head = FCNHead(self.backbone.c5_channels, max(1, round(512 * width_multiplier)), 2, True,
                                   dropout, num_classes)
        self.auxiliary_head = FCNHead(self.backbone.c4_channels, max(1, round(256 * width_multiplier)), 1, False,
                                      dropout, num_classes)
        self.aux_weight = aux_weight
        self.align_corners = align_corners

    def forward(self, x):
        """(decode logits, auxiliary logits), both (N, K, H/8, W/8)."""
        c4, c5 = self.backbone(x)
        return self.decode_head(c5), self.auxiliary_head(c4)

    def losses(self, x, labels):
        """(total, decode CE, auxiliary CE (unweighted), decode logits, auxiliary logits); train mode."""
        dec, aux = self(x)
        ce_dec = seg_cross_entropy(dec, labels, self.align_corners)
        ce_aux = seg_cross_entropy(aux, labels, self.align_corners)
        return ce_dec + self.aux_weight * ce_aux, ce_dec, ce_aux, dec, aux

    def predict(self, x, size):
        """mmseg's 'whole' inference: the decode head's logits resized to `size` (call in eval mode)."""
        c4, c5 = self.backbone(x)
        return F.interpolate(self.decode_head(c5), size=size, mode="bilinear", align_corners=self.align_corners)
