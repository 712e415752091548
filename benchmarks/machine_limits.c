// The two hardware limits that bound the CPU back end on one core, measured rather than taken from a data sheet
// (docs/benchmarks.md, "What one core can do"):
//   - FMA throughput: GFLOP/s of independent fused multiply-adds on 256-bit and on 512-bit vectors, the ceiling of
//     every GEMM and recurrence;
//   - cache read bandwidth: GB/s and µs per pass of summing a buffer that stays in the cache, at the sizes of W_hh
//     (256 KB at hidden 256; 1 MB at hidden 512), the floor of a batch-1 step, which reads all of W_hh once;
//   - with --pair: the round trip of a cache line between cores 0 and 1 (one thread on each sets a flag the other
//     waits for), the price of each hand-off between two members of the CPU team.
// Each figure is the best of 7 trials (the round trip: the mean of 200,000, as its spread is the point).
//
//   gcc -O3 -mavx512f -mavx512vl -mfma -pthread -o out/machine_limits benchmarks/machine_limits.c
//   taskset -c 0 out/machine_limits     # one core's limits
//   out/machine_limits --pair           # the core-to-core round trip (needs cores 0 and 1)
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// 16 independent accumulators, unrolled so that they stay in registers: more than an FMA's latency times the pipes,
// so the loop runs at throughput.
#define FMA_LOOP(VEC, SET1, FMADD, STORE, LANES)                                                        \
    {                                                                                                   \
        VEC acc[16];                                                                                    \
        for (int i = 0; i < 16; i++) acc[i] = SET1(1.0f + i * 1e-3f);                                   \
        VEC a = SET1(0.999999f), b = SET1(1e-7f);                                                       \
        double begin = now();                                                                           \
        for (long n = 0; n < iters; n++)                                                                \
            _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++) acc[i] = FMADD(acc[i], a, b);         \
        seconds = now() - begin;                                                                        \
        float sink[LANES];                                                                              \
        for (int i = 1; i < 16; i++) acc[0] = FMADD(acc[0], a, acc[i]);                                 \
        STORE(sink, acc[0]);                                                                            \
        if (sink[0] == 12345.f) puts("");                                                               \
        flops = 2.0 * LANES * 16 * iters;                                                               \
    }

static double fma_gflops(int wide)
{
    const long iters = 20 * 1000 * 1000;
    double best = 0;
    for (int trial = 0; trial < 7; trial++)
    {
        double seconds, flops;
        if (wide) FMA_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 16)
        else FMA_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, 8)
        if (flops / seconds / 1e9 > best) best = flops / seconds / 1e9;
    }
    return best;
}

// Sums `bytes` of floats `passes` times with 512-bit loads into 8 accumulators; returns the best µs per pass.
static double read_us(size_t bytes, int passes)
{
    size_t n = bytes / sizeof(float);
    float* data = aligned_alloc(64, bytes);
    for (size_t i = 0; i < n; i++) data[i] = (float)(i % 7) * 1e-3f;
    double best = 1e30;
    float total = 0;
    for (int trial = 0; trial < 7; trial++)
    {
        __m512 acc[8];
        for (int k = 0; k < 8; k++) acc[k] = _mm512_setzero_ps();
        double begin = now();
        for (int p = 0; p < passes; p++)
            for (size_t i = 0; i < n; i += 128)
#pragma GCC unroll 8
                for (int k = 0; k < 8; k++) acc[k] = _mm512_add_ps(acc[k], _mm512_load_ps(data + i + 16 * k));
        double us = (now() - begin) * 1e6 / passes;
        for (int k = 1; k < 8; k++) acc[0] = _mm512_add_ps(acc[0], acc[k]);
        total += _mm512_reduce_add_ps(acc[0]);
        if (us < best) best = us;
    }
    if (total == 12345.f) puts("");
    free(data);
    return best;
}

static _Alignas(64) atomic_long ping;
static _Alignas(64) atomic_long pong;
#define ROUND_TRIPS 200000

static int pin(int core)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void* answer(void* unused)
{
    (void)unused;
    pin(1);
    for (long i = 1; i <= ROUND_TRIPS; i++)
    {
        while (atomic_load_explicit(&ping, memory_order_acquire) != i) __builtin_ia32_pause();
        atomic_store_explicit(&pong, i, memory_order_release);
    }
    return NULL;
}

// Mean ns for core 0 to set a flag and see core 1's answer; negative when the two cores cannot be had.
static double round_trip_ns(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed)) return -1;
    if (pin(0) != 0) return -1;
    pthread_t other;
    if (pthread_create(&other, NULL, answer, NULL) != 0) return -1;
    double begin = now();
    for (long i = 1; i <= ROUND_TRIPS; i++)
    {
        atomic_store_explicit(&ping, i, memory_order_release);
        while (atomic_load_explicit(&pong, memory_order_acquire) != i) __builtin_ia32_pause();
    }
    double ns = (now() - begin) * 1e9 / ROUND_TRIPS;
    pthread_join(other, NULL);
    return ns;
}

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "--pair") == 0)
    {
        double ns = round_trip_ns();
        if (ns < 0)
        {
            fputs("machine_limits: --pair needs cores 0 and 1 (run it without taskset)\n", stderr);
            return 1;
        }
        printf("{\"core_round_trip_ns\": %.1f}\n", ns);
        return 0;
    }
    printf("{\"fma_gflops_256bit\": %.1f, \"fma_gflops_512bit\": %.1f", fma_gflops(0), fma_gflops(1));
    const size_t sizes[] = {256 << 10, 1 << 20};
    for (int s = 0; s < 2; s++)
    {
        double us = read_us(sizes[s], 2000);
        printf(", \"read_%zuKB_us\": %.3f, \"read_%zuKB_GBps\": %.1f", sizes[s] >> 10, us, sizes[s] >> 10, sizes[s] / us / 1e3);
    }
    puts("}");
    return 0;
}
