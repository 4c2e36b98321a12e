#!/usr/bin/env python3
"""PyTorch reference fixtures for DenseCL-J's parity tests.

Writes src/test/resources/fixtures/*.safetensors: small, seeded cases of the ops the reference backend
implements (conv2d, training batch norm with and without ReLU, bilinear resize, softmax cross-entropy
with an ignore index), each with its inputs, outputs and autograd gradients, in PyTorch's layouts
(NCHW activations, OIHW weights). The Java tests in src/test/java/org/densecl/parity/ read them and
permute to NHWC / KRSC themselves. The tests NEVER run this script and need no PyTorch: the generated
files are committed. Rerun it only when a case is added or changed, and commit the results.

How to run (from the repository root):

    apt-get install python3-torch          # Debian's PyTorch 1.13 (CPU), with numpy
    /usr/bin/python3 src/test/python/make_fixtures.py

Use the system interpreter (/usr/bin/python3): a pyenv or venv python on PATH does not see Debian's
torch. No `safetensors` package is needed: the format is written by hand below (8-byte little-endian
header length N, N bytes of JSON padded with spaces to a multiple of 8, then the raw little-endian data).
`make_fixtures.py --read FILE` prints a safetensors file's header and first values (e.g. one the Java
writer produced), as an independent check of that writer.

Precision. Every input (x, weights, upstream gradients dy) is drawn in float64 from a seeded generator,
rounded to float32 and STORED AS F32: the Java float32 path then sees exactly the numbers PyTorch used.
Every output and gradient is computed from those same values in float64 and STORED AS F64. So a stored
result is the exact answer to within ~1e-16 relative, not one particular float32 rounding path, and the
Java test's tolerance measures only its own float32 error (and an F64 run of the reference backend can be
held to ~1e-12). Files stay far below the 2 MB budget.

Sizes are deliberately awkward: odd channel counts, spatial sizes that are not multiples of 8, batch 1,
non-integer resize factors, ignored pixels, one pixel whose logits are near 100 (naive exp overflows in
float32), batch-norm channels with large means (catastrophic cancellation in a one-pass variance).
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parents[1] / "resources" / "fixtures"
GENERATOR = "src/test/python/make_fixtures.py"

# ----------------------------------------------------------------------------------- safetensors I/O

_CODES = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16",
          np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16",
          np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL"}
_NUMPY = {v: k for k, v in _CODES.items()}
_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def _raw(t):
    """(dtype code, shape, little-endian bytes) of a torch tensor or numpy array."""
    if isinstance(t, torch.Tensor):
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16: store its 16 bits
            return "BF16", list(t.shape), t.view(torch.int16).numpy().astype("<i2").tobytes()
        t = t.numpy()
    a = np.asarray(t, order="C")  # not ascontiguousarray: it turns a 0-d scalar into shape (1,)
    return _CODES[a.dtype], list(a.shape), a.astype(a.dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as safetensors. Tensors are ordered by element size, largest first (stable),
    as the reference implementation does, so every tensor is aligned to its element size."""
    items = [(name,) + _raw(t) for name, t in tensors.items()]
    items.sort(key=lambda it: -_SIZES[it[1]])
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, code, shape, data in items:
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for _, _, _, data in items:
            f.write(data)


def read_safetensors(path):
    """Returns ({name: numpy array (BF16 as raw int16 bits)}, metadata)."""
    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        np_type = np.dtype("<i2") if e["dtype"] == "BF16" else _NUMPY[e["dtype"]].newbyteorder("<")
        out[name] = np.frombuffer(data[b:end], dtype=np_type).reshape(e["shape"])
    return out, meta


# ----------------------------------------------------------------------------------- helpers


def gen(seed):
    return torch.Generator().manual_seed(seed)


def randn(g, *shape, std=1.0, mean=0.0):
    """float64 normal values that are exactly float32 numbers (see "Precision" above)."""
    return (mean + std * torch.randn(*shape, generator=g, dtype=torch.float64)).float().double()


def uniform(g, *shape, lo=0.0, hi=1.0):
    return (lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)).float().double()


def f32(t):
    return t.detach().float()


def f64(t):
    return t.detach().double()


def meta(op, seed, **kw):
    m = {"op": op, "seed": seed, "generator": GENERATOR, "torch": torch.__version__,
         "layout": "PyTorch (NCHW activations, OIHW weights)",
         "precision": "inputs F32 (exact), outputs and gradients F64 computed in float64"}
    m.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in kw.items()})
    return m


def save(name, tensors, metadata):
    path = OUT / (name + ".safetensors")
    write_safetensors(path, tensors, metadata)
    print(f"{path.relative_to(OUT.parents[3])}: {path.stat().st_size} bytes, "
          + ", ".join(f"{k}{tuple(v.shape)}" for k, v in tensors.items()))


# ----------------------------------------------------------------------------------- cases


def conv2d_case(name, seed, n, c, h, w, k, r, stride, pad, dilation, bias):
    g = gen(seed)
    x = randn(g, n, c, h, w).requires_grad_()
    weight = randn(g, k, c, r, r, std=(2.0 / (c * r * r)) ** 0.5).requires_grad_()  # Kaiming-like scale
    b = randn(g, k, std=0.5).requires_grad_() if bias else None
    y = F.conv2d(x, weight, b, stride=stride, padding=pad, dilation=dilation)
    dy = randn(g, *y.shape)
    y.backward(dy)
    tensors = {"x": f32(x), "weight": f32(weight), "y": f64(y), "dy": f32(dy),
               "dx": f64(x.grad), "dweight": f64(weight.grad)}
    if bias:
        tensors.update({"bias": f32(b), "dbias": f64(b.grad)})
    save(name, tensors, meta("conv2d", seed, stride=stride, padding=pad, dilation=dilation, bias=bias))


def batch_norm_case(name, seed, n, c, h, w, momentum=0.1, eps=1e-5):
    # The backend takes momentum and eps as Java floats: use those exact float32 numbers here too, so the
    # float64 reference answers the question the backend is asked (0.1f differs from 0.1 by 1.5e-9).
    momentum, eps = float(np.float32(momentum)), float(np.float32(eps))
    g = gen(seed)
    # Per-channel means up to +-4 with spreads 0.3..2: a one-pass E[x^2] - E[x]^2 loses digits here.
    offset = uniform(g, 1, c, 1, 1, lo=-4.0, hi=4.0)
    spread = uniform(g, 1, c, 1, 1, lo=0.3, hi=2.0)
    x0 = (offset + spread * torch.randn(n, c, h, w, generator=g, dtype=torch.float64)).float().double()
    gamma0 = randn(g, c, mean=1.0, std=0.3)
    beta0 = randn(g, c, std=0.3)
    rm0 = randn(g, c, std=0.1)
    rv0 = uniform(g, c, lo=0.8, hi=1.3)
    dy = randn(g, n, c, h, w)
    tensors = {"x": f32(x0), "weight": f32(gamma0), "bias": f32(beta0), "dy": f32(dy),
               "running_mean": f32(rm0), "running_var": f32(rv0)}
    for relu in (False, True):
        x, gamma, beta = (t.clone().requires_grad_() for t in (x0, gamma0, beta0))
        rm, rv = rm0.clone(), rv0.clone()
        y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=momentum, eps=eps)
        if relu:
            y = F.relu(y)
        y.backward(dy)
        suffix = "_relu" if relu else ""
        tensors.update({"y" + suffix: f64(y), "dx" + suffix: f64(x.grad),
                        "dweight" + suffix: f64(gamma.grad), "dbias" + suffix: f64(beta.grad)})
    # the running statistics do not depend on the ReLU; record them (and the batch statistics) once
    tensors.update({"running_mean_after": f64(rm), "running_var_after": f64(rv),
                    "mean": f64(x0.mean(dim=(0, 2, 3))),
                    "invstd": f64(1.0 / torch.sqrt(x0.var(dim=(0, 2, 3), unbiased=False) + eps))})
    save(name, tensors, meta("batch_norm_train", seed, momentum=momentum, eps=eps))


def resize_case(name, seed, n, c, h, w, oh, ow, align_corners):
    g = gen(seed)
    x = randn(g, n, c, h, w).requires_grad_()
    y = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=align_corners)
    dy = randn(g, *y.shape)
    y.backward(dy)
    save(name, {"x": f32(x), "y": f64(y), "dy": f32(dy), "dx": f64(x.grad)},
         meta("resize_bilinear", seed, align_corners=align_corners))


def cross_entropy_case(name, seed, n, c, h, w, ignore=255):
    g = gen(seed)
    logits0 = randn(g, n, c, h, w, std=2.0)
    logits0[0, :, 0, 0] += 100.0  # exp(100) overflows float32: the softmax must subtract the row max
    logits0 = logits0.float().double()  # x + 100 needs more bits than float32 has: round it again
    labels = torch.randint(0, c, (n, h, w), generator=g)
    labels[torch.rand(n, h, w, generator=g) < 0.2] = ignore
    labels[0, 0, 1] = ignore  # at least one, in a known place
    tensors = {"logits": f32(logits0), "labels": labels}
    # 'valid': PyTorch's default, the mean over non-ignored pixels.
    # 'all': mmsegmentation 0.x, per-pixel losses (0 where ignored) averaged over ALL pixels.
    for suffix, reduce in (("valid", lambda l: F.cross_entropy(l, labels, ignore_index=ignore)),
                           ("all", lambda l: F.cross_entropy(l, labels, ignore_index=ignore,
                                                             reduction="none").mean())):
        logits = logits0.clone().requires_grad_()
        loss = reduce(logits)
        loss.backward()
        tensors.update({"loss_" + suffix: f64(loss), "dlogits_" + suffix: f64(logits.grad)})
    save(name, tensors, meta("softmax_cross_entropy", seed, ignore_index=ignore,
                             ignored=int((labels == ignore).sum()), pixels=labels.numel()))


def io_case(name):
    """Known values in every dtype the Java reader supports, for its unit test."""
    tensors = {
        "f64": torch.arange(6, dtype=torch.float64).reshape(2, 3) * 0.5 - 1.0,
        "f32": torch.tensor([[1.5, -2.25], [2.0 ** -24, 1e30], [-0.0, 7.0]], dtype=torch.float32),
        "f16": torch.tensor([1.0, -2.5, 2.0 ** -14, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([[1.0, -3.0], [2.0 ** -7, 2.0 ** 100]], dtype=torch.bfloat16),
        "i64": torch.tensor([0, -1, 255, 2 ** 31 - 1, -2 ** 31], dtype=torch.int64),
        "i64_big": torch.tensor([2 ** 40], dtype=torch.int64),
        "i32": torch.tensor([1, -2, 3, -4], dtype=torch.int32).reshape(2, 2, 1),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    write_safetensors(OUT / (name + ".safetensors"), tensors,
                      {"format": "pt", "generator": GENERATOR, "note": "unicode \u00e9 \u2713"})
    print(f"{name}.safetensors: io test values")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--read":
        tensors, metadata = read_safetensors(sys.argv[2])
        print("metadata:", metadata)
        for k, v in tensors.items():
            print(k, v.dtype, v.shape, v.reshape(-1)[:6])
        return
    torch.set_grad_enabled(True)
    OUT.mkdir(parents=True, exist_ok=True)
    io_case("io_python_writer")
    conv2d_case("conv2d_stride2", 101, n=2, c=5, h=11, w=9, k=7, r=3, stride=2, pad=1, dilation=1, bias=True)
    conv2d_case("conv2d_dilation2", 102, n=1, c=6, h=10, w=13, k=4, r=3, stride=1, pad=2, dilation=2, bias=False)
    conv2d_case("conv2d_7x7_stride2", 103, n=2, c=3, h=15, w=17, k=5, r=7, stride=2, pad=3, dilation=1, bias=False)
    batch_norm_case("batch_norm_train", 201, n=3, c=7, h=5, w=3)
    resize_case("resize_up_align_false", 301, n=2, c=3, h=5, w=7, oh=12, ow=11, align_corners=False)
    resize_case("resize_down_align_false", 302, n=1, c=4, h=13, w=11, oh=5, ow=4, align_corners=False)
    resize_case("resize_up_align_true", 303, n=2, c=3, h=5, w=7, oh=12, ow=11, align_corners=True)
    resize_case("resize_down_align_true", 304, n=1, c=4, h=13, w=11, oh=5, ow=4, align_corners=True)
    cross_entropy_case("cross_entropy_ignore", 401, n=2, c=5, h=7, w=6)


if __name__ == "__main__":
    main()
