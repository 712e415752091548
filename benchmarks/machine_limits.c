// The two hardware limits that bound the CPU back end on one core, measured rather than taken from a data sheet
// (docs/benchmarks.md, "What one core can do"):
//   - FMA throughput: GFLOP/s of independent fused multiply-adds on 256-bit and on 512-bit vectors, the ceiling of
//     every GEMM and recurrence;
//   - cache read bandwidth: GB/s and µs per pass of summing a buffer that stays in the cache, at the sizes of W_hh
//     (256 KB at hidden 256; 1 MB at hidden 512), the floor of a batch-1 step, which reads all of W_hh once.
// Each figure is the best of 7 trials.
//
//   gcc -O3 -mavx512f -mavx512vl -mfma -o out/machine_limits benchmarks/machine_limits.c && taskset -c 0 out/machine_limits
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

int main(void)
{
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
