#!/usr/bin/python3
"""DenseCL pretraining in PyTorch, the independent twin of `./densecl pretrain`, to compare training curves.

Same algorithm as the engine (../shared/reference/densecl.md, after WXinlong/DenseCL densecl.py and
necks.py): a ResNet-50 layout at a width multiplier, DenseCLNeck (global MLP, dense 1x1-conv MLP, pooled
dense key), momentum key encoder updated BEFORE the key forward, two queues of random unit keys, argmax
correspondence of the L2-normalised C5 features, global and dense InfoNCE at tau, total
(1 - lambda) * global + lambda * dense, SGD with momentum and weight decay, cosine lr per epoch, enqueue
after the loss. Shuffle-BN on one device as the engine emulates it: the query batch in G contiguous BN
groups, the key batch permuted at random and run in G groups, C5 put back in batch order.

Views are torchvision's MoCo v2 recipe for gray images with the values of configs/augment.yaml. The
script reads the engine's YAML config, so one file drives both:

    /usr/bin/python3 bench/pytorch/densecl_reference.py --config configs/densecl_quick.yaml \
        --output runs/quick-torch [--set densecl.lambda=0] [--device cuda]

It writes DIR/log.jsonl with the engine's keys (step, loss, loss_global, loss_dense, lr) and its collapse
indicators (q_std, sim_pos, sim_neg, dead_hidden; see EmbeddingStats.java), so
`./densecl plot` draws both runs on one chart. PyTorch 1.13 or later; torchvision for the transforms.
"""
import argparse
import copy
import json
import math
import os
import random
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from fcn_model import Bottleneck  # torchvision's v1.5 block (stride on the 3x3); dilation 1 here


class ResNetC5(nn.Module):
    """torchvision's ResNet-50 layout without avgpool/fc, every width times `width` (as ResNetConfig)."""

    def __init__(self, width, in_channels, blocks=(3, 4, 6, 3)):
        super().__init__()
        w = [max(1, round(p * width)) for p in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(in_channels, w[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes, stages = w[0], []
        for i, (planes, n) in enumerate(zip(w, blocks)):
            stride = 1 if i == 0 else 2
            down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
            layers = [Bottleneck(inplanes, planes, stride, 1, down)]
            inplanes = planes * 4
            layers += [Bottleneck(inplanes, planes, 1, 1, None) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_channels = inplanes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class DenseCLNeck(nn.Module):
    def __init__(self, c, hidden, dim, batch_norm=False):
        super().__init__()
        # batch_norm: model.neckBatchNorm, a BN between the global head's Linear and ReLU (not in the paper)
        mid = [nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
        self.mlp = nn.Sequential(nn.Linear(c, hidden), *mid, nn.Linear(hidden, dim))
        self.mlp2 = nn.Sequential(nn.Conv2d(c, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, dim, 1))
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        hidden = self.mlp[:-1](F.adaptive_avg_pool2d(x, 1).flatten(1))
        z = self.mlp[-1](hidden)                     # (N, D) global
        grid = self.mlp2(x)                          # (N, D, S, S) dense
        pooled = F.adaptive_avg_pool2d(grid, 1).flatten(1)
        return z, grid.flatten(2), pooled, hidden


def info_nce(pos, neg, tau):
    logits = torch.cat([pos, neg], dim=1) / tau
    return F.cross_entropy(logits, torch.zeros(logits.size(0), dtype=torch.long, device=logits.device))


class DenseCL(nn.Module):
    """Query encoder (backbone + neck), its momentum copy, two queues. Any backbone with out_channels."""

    def __init__(self, backbone, hidden, dim, queue, bn_groups=1, neck_bn=False):
        super().__init__()
        self.backbone_q = backbone
        self.neck_q = DenseCLNeck(backbone.out_channels, hidden, dim, neck_bn)
        self.backbone_k = copy.deepcopy(self.backbone_q)   # the key encoder starts as an exact copy
        self.neck_k = copy.deepcopy(self.neck_q)
        for p in self.key_params():
            p.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(dim, queue), dim=0))   # (D, K) key columns
        self.register_buffer("queue2", F.normalize(torch.randn(dim, queue), dim=0))
        self.ptr = 0
        self.groups = bn_groups

    def query_params(self):
        return list(self.backbone_q.parameters()) + list(self.neck_q.parameters())

    def key_params(self):
        return list(self.backbone_k.parameters()) + list(self.neck_k.parameters())

    def grouped(self, net, x):
        return torch.cat([net(c) for c in x.chunk(self.groups)]) if self.groups > 1 else net(x)

    def forward(self, im_q, im_k, tau, lam, momentum):
        c5q = self.grouped(self.backbone_q, im_q)
        z, q_grid, _, hidden = self.neck_q(c5q)
        q, q_grid = F.normalize(z, dim=1), F.normalize(q_grid, dim=1)
        q_b = F.normalize(c5q.flatten(2), dim=1)
        with torch.no_grad():
            for pq, pk in zip(self.query_params(), self.key_params()):
                pk.mul_(momentum).add_(pq.detach(), alpha=1 - momentum)
            if self.groups > 1:  # shuffle-BN emulation: the key BN groups are random subsets
                perm = torch.randperm(im_k.size(0), device=im_k.device)
                c5k = torch.empty_like(c5q)
                c5k[perm] = self.grouped(self.backbone_k, im_k[perm])
            else:
                c5k = self.backbone_k(im_k)
            zk, k_grid, k2, _ = self.neck_k(c5k)
            k, k2, k_grid = F.normalize(zk, dim=1), F.normalize(k2, dim=1), F.normalize(k_grid, dim=1)
            k_b = F.normalize(c5k.flatten(2), dim=1)
        l_pos = (q * k).sum(1, keepdim=True)
        loss_g = info_nce(l_pos, q @ self.queue.clone().detach(), tau)
        loss_d = torch.zeros((), device=q.device)
        if lam > 0:
            ind = torch.matmul(q_b.permute(0, 2, 1), k_b).max(dim=2)[1]           # (N, S2)
            k_match = torch.gather(k_grid, 2, ind.unsqueeze(1).expand(-1, k_grid.size(1), -1))
            pos_d = (q_grid * k_match).sum(1).reshape(-1, 1)
            rows = q_grid.permute(0, 2, 1).reshape(-1, q_grid.size(1))
            loss_d = info_nce(pos_d, rows @ self.queue2.clone().detach(), tau)
        stats = embedding_stats(q.detach(), k, hidden.detach())
        with torch.no_grad():
            n = k.size(0)
            self.queue[:, self.ptr:self.ptr + n] = k.t()
            self.queue2[:, self.ptr:self.ptr + n] = k2.t()
            self.ptr = (self.ptr + n) % self.queue.size(1)
        return (1 - lam) * loss_g, lam * loss_d, stats


def embedding_stats(q, k, hidden):
    """The engine's EmbeddingStats: q_std, sim_pos, sim_neg, dead_hidden."""
    n, d = q.shape
    sim = q @ k.t()
    off = (sim.sum() - sim.diag().sum()) / max(1, n * (n - 1))
    return {"q_std": (q.std(0).mean() * math.sqrt(d)).item(), "sim_pos": sim.diag().mean().item(),
            "sim_neg": off.item(), "dead_hidden": (hidden <= 0).all(0).float().mean().item()}


def load_yaml(path, overrides):
    import yaml
    cfg = yaml.safe_load(Path(path).read_text())
    for o in overrides:
        key, value = o.split("=", 1)
        node = cfg
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        if leaf not in node:
            raise SystemExit(f"densecl_reference.py: unknown config key {key}")
        node[leaf] = yaml.safe_load(value)
    return cfg


def views(aug, size, channels):
    from PIL import ImageFilter
    import torchvision.transforms as T

    class Blur:
        def __call__(self, img):
            return img.filter(ImageFilter.GaussianBlur(radius=random.uniform(*aug["blurSigma"])))

    return T.Compose([
        T.RandomResizedCrop(size, scale=tuple(aug["cropScale"]), ratio=tuple(aug["cropRatio"])),
        T.RandomApply([T.ColorJitter(aug["brightness"], aug["contrast"])], p=aug["jitterProbability"]),
        T.RandomApply([Blur()], p=aug["blurProbability"]),
        T.RandomHorizontalFlip(aug["flipProbability"]),
        T.ToTensor(),
        T.Normalize([aug["mean"]], [aug["std"]]),
        T.Lambda(lambda x: x.expand(channels, -1, -1)),
    ])


class Pairs(torch.utils.data.Dataset):
    def __init__(self, root, transform):
        exts = (".png", ".jpg", ".jpeg")
        self.files = sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in exts)
        if not self.files:
            raise SystemExit(f"densecl_reference.py: no images under {root}")
        self.t = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        from PIL import Image
        img = Image.open(self.files[i]).convert("L")
        return self.t(img), self.t(img)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--output", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--workers", type=int, default=min(8, os.cpu_count()))
    ap.add_argument("--max-steps", type=int, default=0, help="stop early (0: the config's epochs)")
    a = ap.parse_args()
    cfg = load_yaml(a.config, a.set)
    mc, dc, oc, data = cfg["model"], cfg["densecl"], cfg["optim"], cfg["data"]
    aug = dict(load_yaml(data["augment"], [])["pretrain"], cropScale=data["cropScale"])  # the recipe's crop range
    torch.manual_seed(cfg["run"]["seed"])
    random.seed(cfg["run"]["seed"])
    dev = torch.device(a.device)
    model = DenseCL(ResNetC5(mc["widthMultiplier"], mc["inChannels"]), mc["hidden"], mc["dim"], dc["queueSize"],
                    dc["bnGroups"], mc["neckBatchNorm"]).to(dev)
    ds = Pairs(data["root"], views(aug, data["size"], mc["inChannels"]))
    loader = torch.utils.data.DataLoader(ds, batch_size=data["batch"], shuffle=True, drop_last=True,
                                         num_workers=a.workers, persistent_workers=a.workers > 0)
    params = model.query_params()
    opt = torch.optim.SGD(params, lr=oc["lr"], momentum=oc["sgdMomentum"], weight_decay=oc["weightDecay"])
    epochs, per_epoch = oc["epochs"], len(loader)
    out = Path(a.output)
    out.mkdir(parents=True, exist_ok=True)
    step, t0 = 0, time.time()
    total = epochs * per_epoch if a.max_steps <= 0 else min(a.max_steps, epochs * per_epoch)
    with open(out / "log.jsonl.tmp", "w") as log:
        for epoch in range(epochs):
            cosine = 0.5 * oc["lr"] * (1 + math.cos(math.pi * epoch / epochs))  # cosine per epoch, min 0
            for im_q, im_k in loader:
                if step >= total:
                    break
                warm = oc["warmupSteps"]  # linear rise from 0 over the first steps, per step
                lr = cosine * (step / warm if step < warm else 1.0)
                for g in opt.param_groups:
                    g["lr"] = lr
                lg, ld, stats = model(im_q.to(dev), im_k.to(dev), dc["temperature"], dc["lambda"], dc["momentum"])
                opt.zero_grad()
                (lg + ld).backward()
                opt.step()
                step += 1
                rec = {"step": step, "loss": (lg + ld).item(), "loss_global": lg.item(), "loss_dense": ld.item(),
                       "lr": lr, **stats}
                log.write(json.dumps(rec) + "\n")
                if step % cfg["run"]["logEvery"] == 0:
                    print(f"step {step}/{total} loss {rec['loss']:.4f} (global {rec['loss_global']:.4f}, dense "
                          f"{rec['loss_dense']:.4f}) q_std {rec['q_std']:.2f} lr {lr:.4g} "
                          f"{step * data['batch'] / (time.time() - t0):.1f} img/s", flush=True)
    os.replace(out / "log.jsonl.tmp", out / "log.jsonl")
    print(f"densecl_reference.py: {step} steps in {time.time() - t0:.0f} s -> {out / 'log.jsonl'}")


if __name__ == "__main__":
    main()
