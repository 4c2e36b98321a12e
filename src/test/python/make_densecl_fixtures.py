#!/usr/bin/env python3
"""PyTorch reference fixture for DenseCL-J's contrastive kernels (denseMatch, denseGather, infoNceLoss).

Writes src/test/resources/fixtures/densecl_loss.safetensors: one small, seeded step of the DenseCL loss
computed the way the original code does it (WXinlong/DenseCL densecl.py + contrastive_head.py): queues as
D x K matrices of key COLUMNS, feature maps as (N, C, S2), `max(dim=2)[1]` for the correspondence,
`torch.gather` for the matched keys, nn.CrossEntropyLoss (mean) over [l_pos, l_neg] / tau with target 0,
and autograd for the gradients of the global anchors q and the dense anchors q_grid. The Java test
(src/test/java/org/densecl/parity/DenseClParityTest.java) feeds the same numbers to the engine's ops,
which use row-major layouts, so the fixture also checks those layout translations. Stored tensors are in
the ENGINE's layouts (noted per tensor below) so the test needs no permutes:

  q, k           (N, D)        global query / key, L2-normalised            F32
  qb, kb         (N, S2, C)    backbone features, L2-normalised per location F32 (torch: (N, C, S2))
  q_grid, k_grid (N, S2, D)    dense projections, L2-normalised per location F32 (torch: (N, D, S2))
  queue, queue2  (K, D)        negative keys as rows                         F32 (torch: (D, K))
  indices        (N, S2)       argmax correspondence                         I32
  k_matched      (N, S2, D)    k_grid gathered at indices                    F64
  loss_global, loss_dense (1)  mean CE of each head                          F64
  dq (N, D), dq_grid (N, S2, D)  d loss_global / d q, d loss_dense / d q_grid  F64

Run (no PyTorch needed by the tests; the file is committed):

    /usr/bin/python3 src/test/python/make_densecl_fixtures.py

Precision: as make_fixtures.py, inputs are rounded to float32 and stored F32, results computed in float64
from exactly those values and stored F64. Sizes are awkward on purpose: N = 3, a 3 x 3 grid (S2 = 9),
C = 37, D = 13, K = 19 (no multiple of 8 anywhere).
"""

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import f32, f64, gen, meta, randn, save  # noqa: E402

GENERATOR = "src/test/python/make_densecl_fixtures.py"


def unit(x, dim):
    """L2-normalised along dim in float64, then rounded to float32 values (held as float64)."""
    return F.normalize(x, dim=dim).float().double()


def head(pos, neg, tau):
    """ContrastiveHead: CE over [l_pos, l_neg] / tau with target 0, mean over rows."""
    logits = torch.cat([pos, neg], dim=1) / tau
    labels = torch.zeros(logits.size(0), dtype=torch.long)
    return F.cross_entropy(logits, labels)


def densecl_case(name, seed, n, s, c, d, k, tau):
    g = gen(seed)
    s2 = s * s
    q = unit(randn(g, n, d), 1).requires_grad_()
    kk = unit(randn(g, n, d), 1)
    q_b = unit(randn(g, n, c, s2), 1)              # (N, C, S2), normalised over C per location
    k_b = unit(randn(g, n, c, s2), 1)
    q_grid = unit(randn(g, n, d, s2), 1).requires_grad_()
    k_grid = unit(randn(g, n, d, s2), 1)
    queue = unit(randn(g, d, k), 0)                # (D, K) columns of keys
    queue2 = unit(randn(g, d, k), 0)

    # Global head (densecl.py: l_pos, l_neg).
    l_pos = torch.einsum('nc,nc->n', [q, kk]).unsqueeze(-1)
    l_neg = torch.einsum('nc,ck->nk', [q, queue])
    loss_global = head(l_pos, l_neg, tau)

    # Dense head: correspondence from the backbone features, positives from the key grid.
    sim = torch.matmul(q_b.permute(0, 2, 1), k_b)  # (N, S2, S2)
    ind = sim.max(dim=2)[1]                        # (N, S2), first maximum on ties
    k_matched = torch.gather(k_grid, 2, ind.unsqueeze(1).expand(-1, k_grid.size(1), -1))  # (N, D, S2)
    l_pos_dense = (q_grid * k_matched).sum(1).view(-1).unsqueeze(-1)                      # (N*S2, 1)
    q_rows = q_grid.permute(0, 2, 1).reshape(-1, d)                                         # (N*S2, D)
    l_neg_dense = torch.einsum('nc,ck->nk', [q_rows, queue2])
    loss_dense = head(l_pos_dense, l_neg_dense, tau)

    dq, = torch.autograd.grad(loss_global, q)
    dq_grid, = torch.autograd.grad(loss_dense, q_grid)
    nsd = lambda t: t.permute(0, 2, 1).contiguous()  # (N, X, S2) -> (N, S2, X)
    tensors = {
        "q": f32(q), "k": f32(kk), "qb": f32(nsd(q_b)), "kb": f32(nsd(k_b)),
        "q_grid": f32(nsd(q_grid)), "k_grid": f32(nsd(k_grid)),
        "queue": f32(queue.t().contiguous()), "queue2": f32(queue2.t().contiguous()),
        "indices": ind.int(), "k_matched": f64(nsd(k_matched)),
        "loss_global": f64(loss_global).reshape(1), "loss_dense": f64(loss_dense).reshape(1),
        "dq": f64(dq), "dq_grid": f64(nsd(dq_grid)),
    }
    m = meta("densecl_loss", seed, temperature=tau, n=n, s2=s2, c=c, d=d, k=k)
    m.update(generator=GENERATOR, layout="engine (rows of keys, (N, S2, X) maps); see the script's docstring")
    save(name, tensors, m)


def main():
    torch.set_grad_enabled(True)
    # tau = 0.2 as the engine holds it: float32(0.2), so an F64 run of the ref backend matches to ~1e-15.
    tau = torch.tensor(0.2, dtype=torch.float32).item()
    densecl_case("densecl_loss", 501, n=3, s=3, c=37, d=13, k=19, tau=tau)


if __name__ == "__main__":
    main()
