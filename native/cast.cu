// bf16 copies of f32 tensors for cuDNN's bf16 convolutions (PSEUDO_BFLOAT16_CONFIG: bf16 data, f32
// accumulation), and their results back to f32. bf16 is the top half of an f32's bits: the same sign and
// exponent, 7 stored mantissa bits. Integer arithmetic on the bits, so no flush of subnormals and the
// same result on the device, in the CPU emulator and in CudaBf16's Java reference.
#include <string.h>

#include "common.cuh"

__host__ __device__ inline unsigned int f32_bits(float f) {
    unsigned int u;
    memcpy(&u, &f, sizeof u);
    return u;
}

__host__ __device__ inline float f32_of_bits(unsigned int u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

// Round to nearest, ties to even: add 0x7FFF plus the lowest kept bit, then drop the low 16 bits (a carry
// into the exponent is the correct rounding up, to infinity past the largest bf16). NaN becomes the
// canonical quiet NaN 0x7FFF, as CUDA's __float2bfloat16_rn gives, since the addition could carry a NaN
// payload into infinity.
__host__ __device__ inline unsigned short bf16_round(float f) {
    unsigned int u = f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (unsigned short)0x7FFFu;
    return (unsigned short)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// dst = bf16(src), rounded to nearest even. src (n), dst (n)
extern "C" __global__ void cast_f32_to_bf16(const float* src, unsigned short* dst, long long n) {
    FOR_EACH(i, n) dst[i] = bf16_round(src[i]);
}

// dst = f32(src) (exact), or dst += f32(src) when accumulate (a backward's gradient joining what is there).
// src (n), dst (n)
extern "C" __global__ void cast_bf16_to_f32(const unsigned short* src, float* dst, long long n, int accumulate) {
    FOR_EACH(i, n) {
        float v = f32_of_bits((unsigned int)src[i] << 16);
        dst[i] = accumulate ? dst[i] + v : v;
    }
}
