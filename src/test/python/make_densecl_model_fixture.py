#!/usr/bin/env python3
"""PyTorch reference fixture for a whole DenseCL step's loss and query gradients (tiny backbone).

Writes src/test/resources/fixtures/densecl_model.safetensors with bench/pytorch/densecl_reference.py's
DenseCL (the PyTorch twin of `./densecl pretrain`): a ResNet-50 layout with one block per stage at 1/16
width (C5 = 128 channels, 2 x 2 at 64 x 64 input), one gray input channel, the DenseCL neck (hidden 16,
D 8), queues of K = 16, tau = float32(0.2), lambda 0.5, key momentum 1 (the key encoder stays the query's
exact copy, so the EMA, tested elsewhere, drops out), one BN group (no key shuffle). Everything is
float64; weights and inputs are float32 numbers (see make_fixtures.py, "Precision").

Stored (PyTorch layouts: NCHW images, OIHW conv weights; our test permutes):
  backbone.<torchvision key>   the query (= key) backbone's state dict, BN gamma/beta randomised
  neck.<mlp.0.weight ...>      the neck's parameters
  im_q, im_k (N, 1, 64, 64)    the two views, N = 4
  queue_rows, queue2_rows (K, D)  the queues as rows of keys (the engine's layout; torch holds D x K)
  loss_global, loss_dense (1)  (1 - lambda) * global and lambda * dense InfoNCE
  grad.backbone.<key>, grad.neck.<key>  d(total loss) / d(every trainable query parameter)

Run from the repository root (no PyTorch needed by the tests; the file is committed):

    /usr/bin/python3 src/test/python/make_densecl_model_fixture.py
"""

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "bench" / "pytorch"))
from make_fixtures import f32, f64, gen, meta, randn, save  # noqa: E402
from densecl_reference import DenseCL, ResNetC5  # noqa: E402

GENERATOR = "src/test/python/make_densecl_model_fixture.py"


def main():
    seed, n, size, hidden, dim, k = 701, 4, 64, 16, 8, 16
    tau = torch.tensor(0.2, dtype=torch.float32).item()
    torch.manual_seed(seed)
    model = DenseCL(ResNetC5(1 / 16, 1, blocks=(1, 1, 1, 1)), hidden, dim, k, bn_groups=1).double()
    g = gen(seed)
    with torch.no_grad():
        for p in model.query_params():
            p.copy_(p.float().double())                       # default init, rounded to float32 values
        for mod in model.backbone_q.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):         # gamma near 1, beta near 0, not the 1 / 0 init
                mod.weight.copy_(randn(g, *mod.weight.shape, mean=1.0, std=0.2))
                mod.bias.copy_(randn(g, *mod.bias.shape, std=0.1))
        for pk, pq in zip(model.key_params(), model.query_params()):
            pk.copy_(pq)
        model.queue.copy_(torch.nn.functional.normalize(randn(g, dim, k), dim=0).float().double())
        model.queue2.copy_(torch.nn.functional.normalize(randn(g, dim, k), dim=0).float().double())
    queue_rows = model.queue.t().clone()
    queue2_rows = model.queue2.t().clone()
    im_q = randn(g, n, 1, size, size)
    im_k = randn(g, n, 1, size, size)
    state = {"backbone." + k_: v.clone() for k_, v in model.backbone_q.state_dict().items()}
    state.update({"neck." + k_: v.clone() for k_, v in model.neck_q.state_dict().items()})

    model.train()
    loss_global, loss_dense, _ = model(im_q, im_k, tau, 0.5, 1.0)
    (loss_global + loss_dense).backward()

    tensors = {}
    for key, v in state.items():
        tensors[key] = v if v.dtype == torch.int64 else f32(v)
    tensors.update({"im_q": f32(im_q), "im_k": f32(im_k), "queue_rows": f32(queue_rows),
                    "queue2_rows": f32(queue2_rows), "loss_global": f64(loss_global).reshape(1),
                    "loss_dense": f64(loss_dense).reshape(1)})
    for prefix, module in (("backbone.", model.backbone_q), ("neck.", model.neck_q)):
        for key, p in module.named_parameters():
            tensors["grad." + prefix + key] = f64(p.grad)
    m = meta("densecl_model", seed, n=n, size=size, hidden=hidden, dim=dim, k=k, temperature=tau, lam=0.5,
             momentum=1.0, bn_groups=1, width="1/16", blocks="1,1,1,1")
    m.update(generator=GENERATOR)
    save("densecl_model", tensors, m)


if __name__ == "__main__":
    main()
