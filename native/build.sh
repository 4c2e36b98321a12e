#!/usr/bin/env bash
# Builds native/*.cu into one fatbin (sm_80 and sm_90 machine code, plus compute_90 PTX that newer GPUs
# JIT-compile) at target/classes/org/densecl/backend/cuda/densecl_kernels.fatbin, so it is on the
# classpath and in the jar. Maven runs this at generate-resources; it can also be run by hand.
#
# Incremental: nothing is compiled when the fatbin is newer than every native/*.cu and *.cuh.
# Without nvcc it prints one warning, writes densecl_kernels.missing (the reason the CUDA backend will
# give) and succeeds, so machines without CUDA still build. With CI=true a missing nvcc or a failed
# compile fails the build: CI compiles the kernels.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir="$root/target/classes/org/densecl/backend/cuda"
out="$out_dir/densecl_kernels.fatbin"
missing="$out_dir/densecl_kernels.missing"
mkdir -p "$out_dir"

if [[ -f "$out" && -z $(find "$root/native" \( -name '*.cu' -o -name '*.cuh' \) -newer "$out" -print -quit) ]]; then
  exit 0  # up to date
fi
sources=("$root"/native/*.cu)

if [[ -n "${NVCC:-}" ]]; then
  nvcc=$(command -v "$NVCC" || true)  # an explicit compiler, or nothing
else
  nvcc=$(command -v nvcc || true)
  [[ -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
fi
if [[ -z "$nvcc" ]]; then
  msg="kernels were not built: nvcc not found at build time (install the CUDA toolkit or set NVCC, then rebuild)"
  if [[ "${CI:-}" == "true" ]]; then
    echo "native/build.sh: ERROR: $msg; CI must compile the kernels" >&2
    exit 1
  fi
  echo "native/build.sh: WARNING: $msg; the cpu and ref backends are unaffected" >&2
  rm -f "$out"  # older than the sources: its kernels may no longer match CudaKernels
  echo "$msg" > "$missing"
  exit 0
fi

# One translation unit including every kernel file: a fatbin comes from one compilation, and nvcc
# builds it without a device-link step.
unity="$root/target/native/densecl_kernels.cu"
mkdir -p "$(dirname "$unity")"
: > "$unity"
for s in "${sources[@]}"; do echo "#include \"$s\"" >> "$unity"; done

start=$(date +%s)
if ! "$nvcc" -O3 -std=c++17 -fatbin -I"$root/native" \
      -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
      -gencode arch=compute_90,code=compute_90 -o "$out.tmp" "$unity"; then
  rm -f "$out.tmp"
  echo "native/build.sh: ERROR: nvcc failed to compile the kernels (messages above)" >&2
  exit 1
fi
mv "$out.tmp" "$out"
rm -f "$missing"
echo "native/build.sh: built $(basename "$out") ($(stat -c %s "$out") bytes) in $(( $(date +%s) - start )) s" >&2
