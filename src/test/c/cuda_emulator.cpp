/*
 * Our CUDA kernels on the CPU, for tests on machines without a GPU: each block's threads are OS threads,
 * __syncthreads and the warp shuffles are barriers over them, shared memory is the kernel's function
 * statics (blocks run one after another), atomics take a lock. Slow and only as faithful as that, but it
 * runs every kernel's arithmetic and indexing. CudaKernelsEmulatedTest links it into the stand-in
 * libcuda (fake_libcuda.c), whose cuLaunchKernel then calls emu_launch.
 *
 * Built by the test: g++ -std=c++17 -pthread -I<dir of kernel_table.inc> -Inative, with this file
 * including every native/*.cu listed in kernel_table.inc (K(name) lines, generated from CudaKernel).
 */
#include <math.h>
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

using std::max;
using std::min;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static  // one block at a time: a function static is that block's shared memory

struct dim3e {
    unsigned x, y, z;
};
static thread_local dim3e threadIdx, blockIdx;
static dim3e blockDim, gridDim;

// A reusable barrier whose party shrinks when a thread exits (exited threads do not hold a barrier up).
class Barrier {
  public:
    explicit Barrier(int parties) : parties_(parties) {}
    void wait() {
        std::unique_lock<std::mutex> lock(m_);
        long gen = generation_;
        if (++waiting_ >= parties_) {
            release();
        } else {
            cv_.wait(lock, [&] { return generation_ != gen; });
        }
    }
    void drop() {
        std::lock_guard<std::mutex> lock(m_);
        if (--parties_ > 0 && waiting_ >= parties_) release();
    }

  private:
    void release() {
        waiting_ = 0;
        generation_++;
        cv_.notify_all();
    }
    std::mutex m_;
    std::condition_variable cv_;
    int parties_, waiting_ = 0;
    long generation_ = 0;
};

struct Warp {
    Barrier barrier{32};
    uint64_t lanes[32];
};
static Barrier* block_barrier;
static std::vector<Warp>* warps;
static thread_local int lane_id, warp_id;
static std::mutex atomics;

static void __syncthreads() { block_barrier->wait(); }

template <typename T>
static T __shfl_xor_sync(unsigned, T v, int offset) {
    Warp& w = (*warps)[warp_id];
    std::memcpy(&w.lanes[lane_id], &v, sizeof(T));
    w.barrier.wait();
    T r;
    std::memcpy(&r, &w.lanes[lane_id ^ offset], sizeof(T));
    w.barrier.wait();
    return r;
}

template <typename T>
static T atomicAdd(T* p, T v) {
    std::lock_guard<std::mutex> lock(atomics);
    T old = *p;
    *p = old + v;
    return old;
}

static unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
    std::lock_guard<std::mutex> lock(atomics);
    unsigned long long old = *p;
    if (v < old) *p = v;
    return old;
}

#include "kernel_sources.inc"  // #include "native/....cu" lines

// Calls f with its arguments read from a cuLaunchKernel parameter array.
template <typename... A, std::size_t... I>
static void call(void (*f)(A...), void** params, std::index_sequence<I...>) {
    f(*static_cast<A*>(params[I])...);
}
template <typename... A>
static void call(void (*f)(A...), void** params) {
    call(f, params, std::index_sequence_for<A...>{});
}

struct Entry {
    const char* name;
    void (*run)(void**);
};
#define K(name) {#name, [](void** p) { call(name, p); }},
static const Entry table[] = {
#include "kernel_table.inc"
};

// Runs kernel `name` over the grid; returns 0, or 500 (CUDA_ERROR_NOT_FOUND) for an unknown name.
extern "C" int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                          unsigned bz, void** params) {
    const Entry* e = nullptr;
    for (const Entry& t : table) {
        if (std::strcmp(t.name, name) == 0) e = &t;
    }
    if (e == nullptr) return 500;
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    int threads = (int)(bx * by * bz);
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                Barrier barrier(threads);
                std::vector<Warp> block_warps((threads + 31) / 32);
                block_barrier = &barrier;
                warps = &block_warps;
                std::vector<std::thread> pool;
                for (int t = 0; t < threads; t++) {
                    pool.emplace_back([=, &barrier, &block_warps] {
                        blockIdx = {x, y, z};
                        threadIdx = {(unsigned)(t % bx), (unsigned)(t / bx % by), (unsigned)(t / (bx * by))};
                        lane_id = t & 31;
                        warp_id = t >> 5;
                        e->run(params);
                        block_warps[warp_id].barrier.drop();
                        barrier.drop();
                    });
                }
                for (std::thread& th : pool) th.join();
            }
    return 0;
}
