using ILGPU;
using ILGPU.Runtime;

namespace RnnGpu.Kernels;

/// <summary>
/// The shape of one GEMM launch: C = act(alpha op(A) op(B) + beta C), row-major float32, strided batches.
/// op(A): [M, K], op(B): [K, N], C: [M, N]; A is stored [K, M] when TransA, B is stored [N, K] when TransB; Lda, Ldb,
/// Ldc are the row strides as stored; batch z starts at z * StrideX in each operand's view.
/// </summary>
public struct GemmArgs
{
    public int TransA, TransB, M, N, K, Act, Lda, Ldb, Ldc;
    public float Alpha, Beta;
    public long StrideA, StrideB, StrideC;
}

/// <summary>
/// C = act(alpha op(A) op(B) + beta C) (<see cref="GemmArgs"/>). beta == 0 overwrites C without reading it (a NaN in
/// C does not leak, as in BLAS). Each output is read and written by the same thread, so C may be the pre-activation
/// updated in place: the recurrent step h = act(pre + hPrev W_hh^T) is this kernel with C = h = pre, beta 1, TransB.
///
/// Launch (<see cref="Config"/>): groups of (GX, GY) threads, each group owning a tile of TSM = 4 GY rows by TSN = 4 GX
/// columns of C; grid (ceil(N / TSN), ceil(M / TSM), batches). The group size is the device's choice (16 x 16 on a
/// GPU; 4 x 4 on ILGPU's default CPU device, whose groups hold at most 16 threads), so the tile is too, and the
/// shared memory is dynamic: TSK x (TSM + TSN) floats.
///
/// Tiling (after Nugteren's myGEMM): the group walks K in slabs of TSK, copying a TSK x TSM slab of op(A) and a
/// TSK x TSN slab of op(B) into shared memory, each element loaded once and zero outside the matrix (awkward sizes
/// need no special path), consecutive threads reading consecutive addresses of the stored layout. Then each thread
/// computes a 4 x 4 block of outputs in registers: per k, 8 shared loads for 16 multiply-adds. A thread's outputs
/// are rows ty + i GY and columns tx + j GX, so neighbouring threads read neighbouring shared addresses and write
/// neighbouring columns of C.
/// </summary>
public static class Gemm
{
    public const int Tsk = 16;
    private const int Wpt = 4;

    public static KernelConfig Config(in GemmArgs args, int groupX, int groupY, int batches)
    {
        int tsm = Wpt * groupY, tsn = Wpt * groupX;
        return new KernelConfig(
            new Index3D((args.N + tsn - 1) / tsn, (args.M + tsm - 1) / tsm, batches),
            new Index3D(groupX, groupY, 1),
            SharedMemoryConfig.RequestDynamic<float>(Tsk * (tsm + tsn)));
    }

    public static void Kernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs g)
    {
        int gx = Group.DimX, gy = Group.DimY, tx = Group.IdxX, ty = Group.IdxY;
        int tsm = Wpt * gy, tsn = Wpt * gx, threads = gx * gy, tid = ty * gx + tx;
        int n0 = Grid.IdxX * tsn, m0 = Grid.IdxY * tsm;
        long z = Grid.IdxZ;
        long baseA = z * g.StrideA, baseB = z * g.StrideB, baseC = z * g.StrideC;
        var shared = SharedMemory.GetDynamic<float>();
        var aTile = shared.SubView(0, Tsk * tsm);          // aTile[k tsm + m] = op(A)(m0 + m, k0 + k)
        var bTile = shared.SubView(Tsk * tsm, Tsk * tsn);  // bTile[k tsn + n] = op(B)(k0 + k, n0 + n)
        var acc = new Block4x4();

        for (int k0 = 0; k0 < g.K; k0 += Tsk)
        {
            for (int l = tid; l < Tsk * tsm; l += threads)
            {
                // Stored [K, M]: walk m fastest; stored [M, K]: walk k fastest.
                int kk = g.TransA != 0 ? l / tsm : l % Tsk;
                int mm = g.TransA != 0 ? l % tsm : l / Tsk;
                int gm = m0 + mm, gk = k0 + kk;
                float v = 0f;
                if (gm < g.M && gk < g.K)
                    v = g.TransA != 0 ? a[baseA + (long)gk * g.Lda + gm] : a[baseA + (long)gm * g.Lda + gk];
                aTile[kk * tsm + mm] = v;
            }
            for (int l = tid; l < Tsk * tsn; l += threads)
            {
                // Stored [N, K]: walk k fastest; stored [K, N]: walk n fastest.
                int kk = g.TransB != 0 ? l % Tsk : l / tsn;
                int nn = g.TransB != 0 ? l / Tsk : l % tsn;
                int gn = n0 + nn, gk = k0 + kk;
                float v = 0f;
                if (gn < g.N && gk < g.K)
                    v = g.TransB != 0 ? b[baseB + (long)gn * g.Ldb + gk] : b[baseB + (long)gk * g.Ldb + gn];
                bTile[kk * tsn + nn] = v;
            }
            Group.Barrier();
            for (int k = 0; k < Tsk; k++)
            {
                int ra = k * tsm + ty, rb = k * tsn + tx;
                acc.Add(aTile[ra], aTile[ra + gy], aTile[ra + 2 * gy], aTile[ra + 3 * gy],
                        bTile[rb], bTile[rb + gx], bTile[rb + 2 * gx], bTile[rb + 3 * gx]);
            }
            Group.Barrier();
        }

        int row = m0 + ty, col = n0 + tx;
        Store(c, baseC, g, row, col, gx, acc.R00, acc.R01, acc.R02, acc.R03);
        Store(c, baseC, g, row + gy, col, gx, acc.R10, acc.R11, acc.R12, acc.R13);
        Store(c, baseC, g, row + 2 * gy, col, gx, acc.R20, acc.R21, acc.R22, acc.R23);
        Store(c, baseC, g, row + 3 * gy, col, gx, acc.R30, acc.R31, acc.R32, acc.R33);
    }

    /// <summary>One row of a thread's block: columns col, col + gx, col + 2 gx, col + 3 gx.</summary>
    private static void Store(ArrayView<float> c, long baseC, in GemmArgs g, int row, int col, int gx, float v0, float v1, float v2, float v3)
    {
        if (row >= g.M) return;
        long r = baseC + (long)row * g.Ldc;
        StoreOne(c, r, g, col, v0);
        StoreOne(c, r, g, col + gx, v1);
        StoreOne(c, r, g, col + 2 * gx, v2);
        StoreOne(c, r, g, col + 3 * gx, v3);
    }

    private static void StoreOne(ArrayView<float> c, long rowStart, in GemmArgs g, int col, float product)
    {
        if (col >= g.N) return;
        long i = rowStart + col;
        float v = g.Alpha * product;
        if (g.Beta != 0f) v += g.Beta * c[i];
        c[i] = DeviceMath.Activate(g.Act, v);
    }
}
