#!/usr/bin/python3
"""Checks that our checkpoints are PyTorch state dicts, both ways, against torchvision's resnet50.

1. torchvision resnet50 (seeded, two training-mode forwards so running statistics and
   num_batches_tracked are not at their defaults) is written to theirs.safetensors.
2. Java (org.densecl.io.StateDict, through a small program run with the JDK's source launcher) loads
   it strictly into our ResNet-50 (KRSC in memory) and writes it back: ours.safetensors (3 channels)
   and ours_gray.safetensors (a 1-channel model: the stem summed over RGB).
3. Here: ours.safetensors goes into a fresh resnet50 with load_state_dict(strict=True) and every
   tensor must equal the original exactly; ours_gray.safetensors goes into a resnet50 with a 1-channel
   conv1 and its stem must be the RGB stem summed over input channels.
4. Java's evaluation-mode logits for one image (grey, replicated over RGB for the 3-channel model)
   must match torchvision's: this checks the KRSC <-> OIHW transposition semantically, not just as a
   round trip, and that summing the stem is right for grey input.

Needs the project built (./densecl builds it on first use) and Debian's /usr/bin/python3 (torch 1.13).
The safetensors format is read and written here directly (the package is not installed).
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

JAVA_DRIVER = r"""
import java.nio.file.Path;
import java.util.Map;
import org.densecl.backend.Backend;
import org.densecl.backend.Backends;
import org.densecl.io.LoadReport;
import org.densecl.io.StateDict;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;

public class RoundTrip {
    public static void main(String[] a) {
        int channels = Integer.parseInt(a[2]);
        try (Backend be = Backends.open("ref", 1, "vector")) {
            ResNetConfig cfg = ResNetConfig.resnet(50).withInChannels(channels).withClassifier(1000);
            ResNet net = ResNet.create(be, cfg, DType.F32, 1, 32, 32);
            LoadReport r = StateDict.load(Path.of(a[0]), net.parameters(), be, true);
            System.out.println("java: strict load into ResNet-50 (" + channels + " channel): " + r);
            StateDict.save(Path.of(a[1]), net.parameters(), be, Map.of("format", "pt"));
            System.out.println("java: wrote " + a[1]);
            // Evaluation-mode logits for the image x[c][h][w] = sin(0.01 (h * 32 + w)) in every channel.
            Tensor x = be.allocate(DType.F32, net.inputShape()); // (1, 32, 32, C)
            for (int h = 0; h < 32; h++) {
                for (int w = 0; w < 32; w++) {
                    for (int c = 0; c < channels; c++) {
                        x.set((h * 32 + w) * channels + c, Math.sin(0.01 * (h * 32 + w)));
                    }
                }
            }
            net.forward(x, false);
            StringBuilder sb = new StringBuilder("LOGITS");
            for (int i = 0; i < 1000; i++) {
                sb.append(' ').append(net.logits().value().getFloat(i));
            }
            System.out.println(sb);
        }
    }
}
"""

NP = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-(8 + len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        a = np.frombuffer(data[8 + n + lo:8 + n + hi], dtype=np.dtype(NP[e["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(a.reshape(e["shape"]).copy())
    return out


def java(args, root, java_bin, driver):
    with open(os.path.join(root, "target", "classpath.txt")) as f:
        cp = os.path.join(root, "target", "classes") + ":" + f.read().strip()
    cmd = [java_bin, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
           "-cp", cp, driver] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write("".join(l + "\n" for l in r.stdout.splitlines() if not l.startswith("LOGITS")))
    if r.returncode != 0:
        sys.exit("java failed:\n" + r.stderr)
    line = [l for l in r.stdout.splitlines() if l.startswith("LOGITS")][0]
    return torch.tensor([float(v) for v in line.split()[1:]], dtype=torch.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--java", default="/usr/lib/jvm/temurin-25-jdk-amd64/bin/java")
    ap.add_argument("--dir", default=None, help="where the files go (default: a temporary folder)")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    d = a.dir or tempfile.mkdtemp(prefix="densecl-state-dict-")
    os.makedirs(d, exist_ok=True)
    theirs_path = os.path.join(d, "theirs.safetensors")
    driver = os.path.join(d, "RoundTrip.java")
    with open(driver, "w") as f:
        f.write(JAVA_DRIVER)

    torch.manual_seed(0)
    net = torchvision.models.resnet50()
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.randn(2, 3, 64, 64))
    theirs = net.state_dict()
    write_safetensors(theirs_path, theirs)
    print(f"python: wrote torchvision resnet50 state dict ({len(theirs)} keys) to {theirs_path}")

    ours_path, gray_path = os.path.join(d, "ours.safetensors"), os.path.join(d, "ours_gray.safetensors")
    logits3 = java([theirs_path, ours_path, "3"], root, a.java, driver)
    logits1 = java([theirs_path, gray_path, "1"], root, a.java, driver)
    # The same image in PyTorch: a grey (c, h, w) = sin(0.01 (h * 32 + w)) replicated over RGB.
    img = torch.sin(0.01 * torch.arange(32 * 32, dtype=torch.float64)).float().reshape(1, 1, 32, 32)
    net.eval()
    with torch.no_grad():
        ref = net(img.expand(1, 3, 32, 32)).double()[0]
    scale = ref.abs().max().item()
    e3, e1 = (logits3 - ref).abs().max().item(), (logits1 - ref).abs().max().item()
    print(f"python: eval logits of our ResNet-50 vs torchvision on the same image: max |diff| {e3:.2e} (RGB),"
          f" {e1:.2e} (gray stem on the grey image), largest |logit| {scale:.3f}")

    ours = read_safetensors(ours_path)
    fresh = torchvision.models.resnet50()
    print("python: load_state_dict(strict=True) of ours.safetensors:", fresh.load_state_dict(ours, strict=True))
    bad = [k for k in theirs if theirs[k].dtype != ours[k].dtype or not torch.equal(theirs[k], ours[k])]
    print(f"python: {len(theirs) - len(bad)} of {len(theirs)} tensors equal exactly after the Java round trip"
          f" (num_batches_tracked = {int(ours['bn1.num_batches_tracked'])}, dtype {ours['bn1.num_batches_tracked'].dtype})")

    gray = read_safetensors(gray_path)
    g = torchvision.models.resnet50()
    g.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    print("python: load_state_dict(strict=True) of ours_gray.safetensors into a 1-channel resnet50:",
          g.load_state_dict(gray, strict=True))
    expect = theirs["conv1.weight"].double().sum(1, keepdim=True)
    err = (gray["conv1.weight"].double() - expect).abs().max().item()
    rest = [k for k in theirs if k != "conv1.weight" and not torch.equal(theirs[k], gray[k])]
    print(f"python: gray stem = RGB stem summed over input channels, max |diff| {err:.2e};"
          f" other tensors differing: {len(rest)}")
    # f32 through ~50 layers in another summation order: 1e-4 of the largest logit is generous and a
    # transposed filter would change the logits by O(1).
    ok = not bad and not rest and err < 1e-6 and max(e3, e1) < 1e-4 * scale + 1e-5
    print("OK" if ok else "FAILED: " + str(bad[:5] + rest[:5]))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
