/*
 * A stand-in for cuDNN 9's legacy API on machines without a GPU, for CudaFakeLibrariesTest: the functions
 * Cudnn binds, with host memory as device memory. Descriptors keep what they were set to; the convolutions,
 * the bias gradient, the tensor add and batch norm compute what cuDNN documents (direct sums over the
 * descriptors' dims and strides, alpha/beta blending, the unbiased running variance), and reject what cuDNN
 * rejects (an output descriptor that does not match the convolution, a workspace smaller than the algorithm
 * needs, a filter not in the NHWC/KRSC format). So the binding's descriptors, argument order and scalars are
 * checked against the reference backend without a GPU. Not fast, not a simulator of cuDNN's numerics.
 *
 * Convolutions take the two data-type configurations of cudnnConvolutionForward / BackwardData /
 * BackwardFilter we use, and reject the others as cuDNN does (CUDNN_STATUS_NOT_SUPPORTED): FLOAT_CONFIG
 * (x, w, y and the convolution's compute type CUDNN_DATA_FLOAT) and PSEUDO_BFLOAT16_CONFIG (x, w, y
 * CUDNN_DATA_BFLOAT16, compute type CUDNN_DATA_FLOAT; there is no true-bf16 config). bf16 data is read
 * exactly, summed in float (a product of two bf16 is exact in float) and the result written rounded to
 * nearest even; alpha and beta are floats in both. f32 data is summed in double, as before.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SUCCESS 0
#define DATA_FLOAT 0     /* cudnnDataType_t CUDNN_DATA_FLOAT */
#define DATA_BFLOAT16 9  /* cudnnDataType_t CUDNN_DATA_BFLOAT16 */
#define BAD_PARAM 2000
#define NOT_SUPPORTED 3000

typedef struct { int dt, n, c, h, w, ns, cs, hs, ws; } Tensor;
typedef struct { int dt, fmt, k, c, r, s; } Filter;
typedef struct { int ph, pw, u, v, dh, dw, mode, ct, math; } Conv;
typedef struct { int algo; int status; float time; size_t memory; int determinism; int math; int reserved[3]; } Perf;

static int last_math = -1, last_bn_mode = -1;
static int last_conv[4] = {-1, -1, -1, -1}; /* data types of the last convolution: x, w, y, compute */
static double last_factor, last_eps;

int cudnnCreate(void **h) { *h = malloc(8); return SUCCESS; }
int cudnnDestroy(void *h) { free(h); return SUCCESS; }
int cudnnSetStream(void *h, void *s) { return SUCCESS; }
const char *cudnnGetErrorString(int s) {
    return s == BAD_PARAM ? "CUDNN_STATUS_BAD_PARAM" : s == NOT_SUPPORTED ? "CUDNN_STATUS_NOT_SUPPORTED" : "?";
}
size_t cudnnGetVersion(void) { return 91900; }

int cudnnCreateTensorDescriptor(void **d) { *d = calloc(1, sizeof(Tensor)); return SUCCESS; }
int cudnnDestroyTensorDescriptor(void *d) { free(d); return SUCCESS; }
int cudnnSetTensor4dDescriptorEx(Tensor *d, int dt, int n, int c, int h, int w, int ns, int cs, int hs, int ws) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || ns <= 0 || cs <= 0 || hs <= 0 || ws <= 0) return BAD_PARAM;
    *d = (Tensor){dt, n, c, h, w, ns, cs, hs, ws};
    return SUCCESS;
}
int cudnnCreateFilterDescriptor(void **d) { *d = calloc(1, sizeof(Filter)); return SUCCESS; }
int cudnnDestroyFilterDescriptor(void *d) { free(d); return SUCCESS; }
int cudnnSetFilter4dDescriptor(Filter *d, int dt, int fmt, int k, int c, int r, int s) {
    if (fmt != 1 || k <= 0 || c <= 0 || r <= 0 || s <= 0) return BAD_PARAM; /* CUDNN_TENSOR_NHWC: K, R, S, C */
    *d = (Filter){dt, fmt, k, c, r, s};
    return SUCCESS;
}
int cudnnCreateConvolutionDescriptor(void **d) { *d = calloc(1, sizeof(Conv)); return SUCCESS; }
int cudnnDestroyConvolutionDescriptor(void *d) { free(d); return SUCCESS; }
int cudnnSetConvolution2dDescriptor(Conv *d, int ph, int pw, int u, int v, int dh, int dw, int mode, int ct) {
    if (ph < 0 || pw < 0 || u <= 0 || v <= 0 || dh <= 0 || dw <= 0) return BAD_PARAM;
    *d = (Conv){ph, pw, u, v, dh, dw, mode, ct, 0};
    return SUCCESS;
}
int cudnnSetConvolutionMathType(Conv *d, int math) { d->math = math; last_math = math; return SUCCESS; }

#define AT(t, n_, c_, h_, w_) ((size_t)(n_) * (t)->ns + (size_t)(c_) * (t)->cs + (size_t)(h_) * (t)->hs + (size_t)(w_) * (t)->ws)
#define FAT(f, k_, r_, s_, c_) ((((size_t)(k_) * (f)->r + (r_)) * (f)->s + (s_)) * (f)->c + (c_))

/* The shapes must agree as cuDNN checks them: y (N, K, P, Q) for x (N, C, H, W), w (K, C, R, S). */
static int shapes(const Tensor *x, const Filter *w, const Conv *cv, const Tensor *y) {
    int p = (x->h + 2 * cv->ph - cv->dh * (w->r - 1) - 1) / cv->u + 1;
    int q = (x->w + 2 * cv->pw - cv->dw * (w->s - 1) - 1) / cv->v + 1;
    return cv->mode == 1 && x->c == w->c && y->n == x->n && y->c == w->k && y->h == p && y->w == q
           ? SUCCESS : BAD_PARAM;
}

/* FLOAT_CONFIG or PSEUDO_BFLOAT16_CONFIG (x, w and y of one type, f32 compute), else NOT_SUPPORTED. */
static int config(const Tensor *x, const Filter *w, const Conv *cv, const Tensor *y) {
    if (x->dt != w->dt || x->dt != y->dt || cv->ct != DATA_FLOAT) return NOT_SUPPORTED;
    if (x->dt != DATA_FLOAT && x->dt != DATA_BFLOAT16) return NOT_SUPPORTED;
    last_conv[0] = x->dt; last_conv[1] = w->dt; last_conv[2] = y->dt; last_conv[3] = cv->ct;
    return SUCCESS;
}

/* Element i of an f32 or bf16 buffer (a bf16 is the upper half of an f32's bits). */
static double load(const void *p, size_t i, int dt) {
    if (dt == DATA_FLOAT) return ((const float *)p)[i];
    uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Stores v as f32, or as bf16 rounded to nearest even (NaN to 0x7FFF, as CUDA's __float2bfloat16_rn). */
static void store(void *p, size_t i, int dt, float v) {
    if (dt == DATA_FLOAT) { ((float *)p)[i] = v; return; }
    uint32_t u;
    memcpy(&u, &v, 4);
    ((uint16_t *)p)[i] = (u & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FFF : (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* A running sum: double for f32 data; for bf16 data each partial sum rounded to float, cuDNN's accumulator. */
static double accumulate(double sum, double term, int dt) {
    return dt == DATA_FLOAT ? sum + term : (float)(sum + term);
}

/* Two algorithms: 1 ranks first and needs 1 MiB of workspace, though the ranking underestimates it (512 KiB:
 * only the workspace query is exact); 0 needs none. */
static int ranking(int requested, int *returned, Perf *perf) {
    if (requested < 2) return BAD_PARAM;
    memset(perf, 0, 2 * sizeof(Perf));
    perf[0] = (Perf){1, SUCCESS, 1.0f, (size_t)1 << 19, 1, 1, {0, 0, 0}};
    perf[1] = (Perf){0, SUCCESS, 2.0f, 0, 1, 0, {0, 0, 0}};
    *returned = 2;
    return SUCCESS;
}
int cudnnGetConvolutionForwardAlgorithm_v7(void *h, const Tensor *x, const Filter *w, const Conv *cv,
                                           const Tensor *y, int requested, int *returned, Perf *perf) {
    return shapes(x, w, cv, y) ? BAD_PARAM : config(x, w, cv, y) ? NOT_SUPPORTED : ranking(requested, returned, perf);
}
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *h, const Filter *w, const Tensor *dy, const Conv *cv,
                                                const Tensor *dx, int requested, int *returned, Perf *perf) {
    return shapes(dx, w, cv, dy) ? BAD_PARAM : config(dx, w, cv, dy) ? NOT_SUPPORTED : ranking(requested, returned, perf);
}
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *h, const Tensor *x, const Tensor *dy, const Conv *cv,
                                                  const Filter *dw, int requested, int *returned, Perf *perf) {
    return shapes(x, dw, cv, dy) ? BAD_PARAM : config(x, dw, cv, dy) ? NOT_SUPPORTED : ranking(requested, returned, perf);
}
/* What each algorithm needs: 1 MiB for algorithm 1, none for 0. */
static int sizes(int algo, size_t *bytes) {
    if (algo < 0 || algo > 1) return NOT_SUPPORTED;
    *bytes = algo == 1 ? (size_t)1 << 20 : 0;
    return SUCCESS;
}
int cudnnGetConvolutionForwardWorkspaceSize(void *h, const Tensor *x, const Filter *w, const Conv *cv,
                                            const Tensor *y, int algo, size_t *bytes) {
    return shapes(x, w, cv, y) ? BAD_PARAM : sizes(algo, bytes);
}
int cudnnGetConvolutionBackwardDataWorkspaceSize(void *h, const Filter *w, const Tensor *dy, const Conv *cv,
                                                 const Tensor *dx, int algo, size_t *bytes) {
    return shapes(dx, w, cv, dy) ? BAD_PARAM : sizes(algo, bytes);
}
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *h, const Tensor *x, const Tensor *dy, const Conv *cv,
                                                   const Filter *dw, int algo, size_t *bytes) {
    return shapes(x, dw, cv, dy) ? BAD_PARAM : sizes(algo, bytes);
}
static int workspace(int algo, const void *ws, size_t bytes) {
    size_t need = algo == 1 ? (size_t)1 << 20 : 0;
    return algo < 0 || algo > 1 || bytes < need || (need > 0 && ws == NULL) ? BAD_PARAM : SUCCESS;
}
static float blend(float alpha, double sum, float beta, float old) {
    return (float)(alpha * sum + (beta == 0 ? 0 : beta * old));
}

/* For each output (n, k, p, q) and tap (r, s): the input row and column, or -1 outside the padded input. */
static int tap(int o, int t, int stride, int pad, int dil, int extent) {
    int i = o * stride - pad + t * dil;
    return i >= 0 && i < extent ? i : -1;
}

int cudnnConvolutionForward(void *h, const float *alpha, const Tensor *xd, const void *x, const Filter *wd,
                            const void *w, const Conv *cv, int algo, void *ws, size_t wsBytes, const float *beta,
                            const Tensor *yd, void *y) {
    if (shapes(xd, wd, cv, yd) || workspace(algo, ws, wsBytes)) return BAD_PARAM;
    if (config(xd, wd, cv, yd)) return NOT_SUPPORTED;
    int dt = xd->dt;
    for (int n = 0; n < yd->n; n++) for (int k = 0; k < yd->c; k++)
        for (int p = 0; p < yd->h; p++) for (int q = 0; q < yd->w; q++) {
            double s = 0;
            for (int r = 0; r < wd->r; r++) for (int t = 0; t < wd->s; t++) {
                int hi = tap(p, r, cv->u, cv->ph, cv->dh, xd->h), wi = tap(q, t, cv->v, cv->pw, cv->dw, xd->w);
                if (hi < 0 || wi < 0) continue;
                for (int c = 0; c < xd->c; c++)
                    s = accumulate(s, load(x, AT(xd, n, c, hi, wi), dt) * load(w, FAT(wd, k, r, t, c), dt), dt);
            }
            size_t o = AT(yd, n, k, p, q);
            store(y, o, dt, blend(*alpha, s, *beta, (float)load(y, o, dt)));
        }
    return SUCCESS;
}

int cudnnConvolutionBackwardData(void *h, const float *alpha, const Filter *wd, const void *w, const Tensor *dyd,
                                 const void *dy, const Conv *cv, int algo, void *ws, size_t wsBytes,
                                 const float *beta, const Tensor *dxd, void *dx) {
    if (shapes(dxd, wd, cv, dyd) || workspace(algo, ws, wsBytes)) return BAD_PARAM;
    if (config(dxd, wd, cv, dyd)) return NOT_SUPPORTED;
    int dt = dxd->dt;
    size_t count = (size_t)dxd->n * dxd->c * dxd->h * dxd->w;
    double *acc = calloc(count, sizeof(double)); /* (N, C, H, W) sums, scattered from every output */
    for (int n = 0; n < dyd->n; n++) for (int k = 0; k < dyd->c; k++)
        for (int p = 0; p < dyd->h; p++) for (int q = 0; q < dyd->w; q++)
            for (int r = 0; r < wd->r; r++) for (int t = 0; t < wd->s; t++) {
                int hi = tap(p, r, cv->u, cv->ph, cv->dh, dxd->h), wi = tap(q, t, cv->v, cv->pw, cv->dw, dxd->w);
                if (hi < 0 || wi < 0) continue;
                for (int c = 0; c < dxd->c; c++) {
                    double *a = &acc[(((size_t)n * dxd->c + c) * dxd->h + hi) * dxd->w + wi];
                    *a = accumulate(*a, load(dy, AT(dyd, n, k, p, q), dt) * load(w, FAT(wd, k, r, t, c), dt), dt);
                }
            }
    for (int n = 0; n < dxd->n; n++) for (int c = 0; c < dxd->c; c++)
        for (int hi = 0; hi < dxd->h; hi++) for (int wi = 0; wi < dxd->w; wi++) {
            size_t o = AT(dxd, n, c, hi, wi);
            store(dx, o, dt, blend(*alpha, acc[(((size_t)n * dxd->c + c) * dxd->h + hi) * dxd->w + wi], *beta,
                                   (float)load(dx, o, dt)));
        }
    free(acc);
    return SUCCESS;
}

int cudnnConvolutionBackwardFilter(void *h, const float *alpha, const Tensor *xd, const void *x, const Tensor *dyd,
                                   const void *dy, const Conv *cv, int algo, void *ws, size_t wsBytes,
                                   const float *beta, const Filter *dwd, void *dw) {
    if (shapes(xd, dwd, cv, dyd) || workspace(algo, ws, wsBytes)) return BAD_PARAM;
    if (config(xd, dwd, cv, dyd)) return NOT_SUPPORTED;
    int dt = xd->dt;
    for (int k = 0; k < dwd->k; k++) for (int r = 0; r < dwd->r; r++)
        for (int t = 0; t < dwd->s; t++) for (int c = 0; c < dwd->c; c++) {
            double s = 0;
            for (int n = 0; n < dyd->n; n++) for (int p = 0; p < dyd->h; p++) for (int q = 0; q < dyd->w; q++) {
                int hi = tap(p, r, cv->u, cv->ph, cv->dh, xd->h), wi = tap(q, t, cv->v, cv->pw, cv->dw, xd->w);
                if (hi >= 0 && wi >= 0)
                    s = accumulate(s, load(dy, AT(dyd, n, k, p, q), dt) * load(x, AT(xd, n, c, hi, wi), dt), dt);
            }
            size_t o = FAT(dwd, k, r, t, c);
            store(dw, o, dt, blend(*alpha, s, *beta, (float)load(dw, o, dt)));
        }
    return SUCCESS;
}

int cudnnConvolutionBackwardBias(void *h, const float *alpha, const Tensor *dyd, const float *dy, const float *beta,
                                 const Tensor *dbd, float *db) {
    if (dbd->n != 1 || dbd->c != dyd->c || dbd->h != 1 || dbd->w != 1) return BAD_PARAM;
    if (dyd->dt != DATA_FLOAT || dbd->dt != DATA_FLOAT) return NOT_SUPPORTED; /* the stand-in: f32 only */
    for (int c = 0; c < dyd->c; c++) {
        double s = 0;
        for (int n = 0; n < dyd->n; n++) for (int p = 0; p < dyd->h; p++) for (int q = 0; q < dyd->w; q++)
            s += dy[AT(dyd, n, c, p, q)];
        db[AT(dbd, 0, c, 0, 0)] = blend(*alpha, s, *beta, db[AT(dbd, 0, c, 0, 0)]);
    }
    return SUCCESS;
}

/* C = alpha A + beta C, A broadcast along its dimensions of size 1. */
int cudnnAddTensor(void *h, const float *alpha, const Tensor *ad, const float *a, const float *beta,
                   const Tensor *cd, float *c) {
    if ((ad->n != 1 && ad->n != cd->n) || (ad->c != 1 && ad->c != cd->c) || (ad->h != 1 && ad->h != cd->h)
        || (ad->w != 1 && ad->w != cd->w)) return BAD_PARAM;
    if (ad->dt != DATA_FLOAT || cd->dt != DATA_FLOAT) return NOT_SUPPORTED; /* the stand-in: f32 only */
    for (int n = 0; n < cd->n; n++) for (int k = 0; k < cd->c; k++)
        for (int p = 0; p < cd->h; p++) for (int q = 0; q < cd->w; q++) {
            float v = a[AT(ad, ad->n == 1 ? 0 : n, ad->c == 1 ? 0 : k, ad->h == 1 ? 0 : p, ad->w == 1 ? 0 : q)];
            float *o = &c[AT(cd, n, k, p, q)];
            *o = blend(*alpha, v, *beta, *o);
        }
    return SUCCESS;
}

/* Spatial batch norm over (N, H, W) per channel; the parameter descriptor is (1, C, 1, 1). */
static int bn_shapes(int mode, const Tensor *xd, const Tensor *pd) {
    if (xd->dt != DATA_FLOAT || pd->dt != DATA_FLOAT) return NOT_SUPPORTED; /* the stand-in: f32 only */
    return (mode == 1 || mode == 2) && pd->n == 1 && pd->c == xd->c && pd->h == 1 && pd->w == 1 ? SUCCESS
                                                                                                : BAD_PARAM;
}

int cudnnBatchNormalizationForwardTraining(void *h, int mode, const float *alpha, const float *beta,
                                           const Tensor *xd, const float *x, const Tensor *yd, float *y,
                                           const Tensor *pd, const float *scale, const float *bias, double factor,
                                           float *runMean, float *runVar, double eps, float *saveMean,
                                           float *saveInvStd) {
    if (bn_shapes(mode, xd, pd) || eps < 0) return BAD_PARAM;
    last_bn_mode = mode;
    last_factor = factor;
    last_eps = eps;
    double m = (double)xd->n * xd->h * xd->w;
    for (int c = 0; c < xd->c; c++) {
        double s = 0, ss = 0;
        for (int n = 0; n < xd->n; n++) for (int p = 0; p < xd->h; p++) for (int q = 0; q < xd->w; q++)
            s += x[AT(xd, n, c, p, q)];
        double mean = s / m;
        for (int n = 0; n < xd->n; n++) for (int p = 0; p < xd->h; p++) for (int q = 0; q < xd->w; q++) {
            double d = x[AT(xd, n, c, p, q)] - mean;
            ss += d * d;
        }
        double var = ss / m, inv = 1 / sqrt(var + eps);
        for (int n = 0; n < xd->n; n++) for (int p = 0; p < xd->h; p++) for (int q = 0; q < xd->w; q++) {
            float *o = &y[AT(yd, n, c, p, q)];
            *o = blend(*alpha, scale[c] * (x[AT(xd, n, c, p, q)] - mean) * inv + bias[c], *beta, *o);
        }
        runMean[c] = (float)((1 - factor) * runMean[c] + factor * mean);
        runVar[c] = (float)((1 - factor) * runVar[c] + factor * var * m / (m - 1));
        saveMean[c] = (float)mean;
        saveInvStd[c] = (float)inv;
    }
    return SUCCESS;
}

int cudnnBatchNormalizationBackward(void *h, int mode, const float *aData, const float *bData, const float *aParam,
                                    const float *bParam, const Tensor *xd, const float *x, const Tensor *dyd,
                                    const float *dy, const Tensor *dxd, float *dx, const Tensor *pd,
                                    const float *scale, float *dScale, float *dBias, double eps,
                                    const float *saveMean, const float *saveInvStd) {
    if (bn_shapes(mode, xd, pd) || saveMean == NULL || saveInvStd == NULL) return BAD_PARAM;
    last_bn_mode = mode;
    double m = (double)xd->n * xd->h * xd->w;
    for (int c = 0; c < xd->c; c++) {
        double sg = 0, sgx = 0, mean = saveMean[c], inv = saveInvStd[c];
        for (int n = 0; n < xd->n; n++) for (int p = 0; p < xd->h; p++) for (int q = 0; q < xd->w; q++) {
            double g = dy[AT(dyd, n, c, p, q)];
            sg += g;
            sgx += g * (x[AT(xd, n, c, p, q)] - mean) * inv;
        }
        for (int n = 0; n < xd->n; n++) for (int p = 0; p < xd->h; p++) for (int q = 0; q < xd->w; q++) {
            double xhat = (x[AT(xd, n, c, p, q)] - mean) * inv;
            double g = scale[c] * inv * (dy[AT(dyd, n, c, p, q)] - sg / m - xhat * sgx / m);
            float *o = &dx[AT(dxd, n, c, p, q)];
            *o = blend(*aData, g, *bData, *o);
        }
        dScale[c] = blend(*aParam, sgx, *bParam, dScale[c]);
        dBias[c] = blend(*aParam, sg, *bParam, dBias[c]);
    }
    return SUCCESS;
}

/* For the test. */
int fake_cudnn_last_math(void) { return last_math; }
/* The data types of the last convolution run or planned: i = 0 x, 1 w, 2 y, 3 the compute type. */
int fake_cudnn_last_conv(int i) { return last_conv[i]; }
int fake_cudnn_last_bn_mode(void) { return last_bn_mode; }
double fake_cudnn_last_factor(void) { return last_factor; }
