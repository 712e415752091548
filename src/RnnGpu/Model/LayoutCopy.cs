using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RnnGpu.Accelerators.Cpu;

namespace RnnGpu.Model;

/// <summary>
/// Batch-first [B, T, F] to a <see cref="StepLayout"/>'s packed [Rows, F] and back, as a CPU team job: members take
/// ranges of steps and copy their rows (zeroing the padded steps of an unpacked output). A memory-bound pass that at
/// batch 64 x 100 steps x 256 features costs about a tenth of the forward pass on one core, so two cores halve it.
/// </summary>
internal sealed unsafe class LayoutCopy : ITeamWork
{
    private const long TeamFloats = 1 << 18;   // below this one core copies it faster than a hand-off
    private const long StreamFloats = 1 << 18; // an output this large (1 MB) is written past the caches

    [ThreadStatic] private static LayoutCopy? _cached;

    private StepLayout? _layout;
    private float* _batchFirst, _packed;
    private int _features;
    private bool _pack, _streaming;

    /// <summary>Packs (<paramref name="pack"/>) or unpacks between batchFirst [B, T, F] and packed [Rows, F].</summary>
    public static void Run(StepLayout layout, float* batchFirst, float* packed, int features, bool pack, int threads)
    {
        var job = _cached ?? new LayoutCopy();
        _cached = null;
        try
        {
            (job._layout, job._features, job._pack) = (layout, features, pack);
            job._streaming = !pack && Avx512F.IsSupported && (long)layout.Rows * features >= StreamFloats && features >= 64;
            job._batchFirst = batchFirst;
            job._packed = packed;
            if ((long)layout.Batch * layout.Time * features < TeamFloats) job.Run(0, 1);
            else CpuTeam.Run(job, threads, (double)layout.Rows * features);
        }
        finally
        {
            job._layout = null;
            job._batchFirst = job._packed = null;
            _cached = job;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(int member, int members)
    {
        var layout = _layout!;
        int time = layout.Time, f = _features;
        int t0 = (int)((long)time * member / members), t1 = (int)((long)time * (member + 1) / members);
        long bytes = (long)f * sizeof(float);
        for (int t = t0; t < t1; t++)
        {
            int rows = layout.BatchSizes[t];
            for (int i = 0; i < layout.Batch; i++)
            {
                float* user = _batchFirst + ((long)layout.Order[i] * time + t) * f;
                if (i >= rows)
                {
                    if (!_pack) new Span<float>(user, f).Clear();   // a padded step of the output
                    continue;
                }
                float* row = _packed + (long)(layout.Offsets[t] + i) * f;
                if (_pack) Buffer.MemoryCopy(user, row, bytes, bytes);
                else if (_streaming) CopyStreaming(row, user, f);
                else Buffer.MemoryCopy(row, user, bytes, bytes);
            }
        }
        if (_streaming) Sse.StoreFence();   // the streaming stores are done before the job is
    }

    /// <summary>
    /// dst[0..n) = src[0..n) with non-temporal stores where dst is on a 64-byte boundary: a large output is not read
    /// back soon, so writing it past the caches saves reading each line in first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyStreaming(float* src, float* dst, int n)
    {
        int j = 0;
        for (; j < n && ((nint)(dst + j) & 63) != 0; j++) dst[j] = src[j];
        for (; j + 16 <= n; j += 16) Avx512F.StoreAlignedNonTemporal(dst + j, Vector512.Load(src + j));
        for (; j < n; j++) dst[j] = src[j];
    }
}
