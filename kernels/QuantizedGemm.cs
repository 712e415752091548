using ILGPU;
using ILGPU.Runtime;

namespace RnnGpu.Kernels;

/// <summary>
/// The shape of one quantized product: C [M, N] (row stride Ldc) = act(A W[:, Column .. Column + K]^T + Beta C + bias), A [M, K]
/// float32 (row stride Lda), W [N, Ldw] quantized row-major: int8 (Int8 = 1; W[n, k] = int8[n, k] Scales[n]) or bfloat16
/// (Int8 = 0; W[n, k] = the float32 whose top half is bf16[n, k]). HasBias = 1 adds bias [N].
/// </summary>
public struct QuantizedGemmArgs
{
    public int M, N, K, Lda, Ldw, Column, Ldc, Act, Int8, HasBias;
    public float Beta;
}

/// <summary>
/// A product with quantized weights (<see cref="QuantizedGemmArgs"/>): the input projection, the recurrent step and the head of
/// a quantized model. The weights are read as stored (a quarter or half of float32's bytes, which is the point: a recurrent
/// step at small batch is bound by reading W_hh) and widened to float32 as they enter shared memory, so the products and
/// sums are float32 (dequantized in registers; the activations stay float32). An int8 product is scaled by its output row's
/// scale once, after the sum over K. beta 0 overwrites C without reading it.
///
/// Launch and tiling are <see cref="Gemm"/>'s, for A not transposed and W transposed: groups of (GX, GY) threads own tiles
/// of 4 GY rows by 4 GX columns of C, walking K in slabs of <see cref="Gemm.Tsk"/>; consecutive threads load consecutive
/// addresses (k fastest) of A and of W, each element once, zero outside the matrices.
/// </summary>
public static class QuantizedGemm
{
    private const int Tsk = Gemm.Tsk, Wpt = 4;

    public static KernelConfig Config(in QuantizedGemmArgs args, int groupX, int groupY)
    {
        int tsm = Wpt * groupY, tsn = Wpt * groupX;
        return new KernelConfig(
            new Index3D((args.N + tsn - 1) / tsn, (args.M + tsm - 1) / tsm, 1),
            new Index3D(groupX, groupY, 1),
            SharedMemoryConfig.RequestDynamic<float>(Tsk * (tsm + tsn)));
    }

    /// <summary>int8 [N, Ldw] and Scales [N] for int8 weights, bf16 [N, Ldw] for bfloat16 ones; the other views are unused.</summary>
    public static void Kernel(ArrayView<float> a, ArrayView<sbyte> int8, ArrayView<ushort> bf16, ArrayView<float> scales, ArrayView<float> bias,
        ArrayView<float> c, QuantizedGemmArgs g)
    {
        int gx = Group.DimX, gy = Group.DimY, tx = Group.IdxX, ty = Group.IdxY;
        int tsm = Wpt * gy, tsn = Wpt * gx, threads = gx * gy, tid = ty * gx + tx;
        int n0 = Grid.IdxX * tsn, m0 = Grid.IdxY * tsm;
        var shared = SharedMemory.GetDynamic<float>();
        var aTile = shared.SubView(0, Tsk * tsm);          // aTile[k tsm + m] = A(m0 + m, k0 + k)
        var wTile = shared.SubView(Tsk * tsm, Tsk * tsn);  // wTile[k tsn + n] = W(n0 + n, Column + k0 + k), widened
        var acc = new Block4x4();

        for (int k0 = 0; k0 < g.K; k0 += Tsk)
        {
            for (int l = tid; l < Tsk * tsm; l += threads)
            {
                int kk = l % Tsk, mm = l / Tsk, gm = m0 + mm, gk = k0 + kk;
                aTile[kk * tsm + mm] = gm < g.M && gk < g.K ? a[(long)gm * g.Lda + gk] : 0f;
            }
            for (int l = tid; l < Tsk * tsn; l += threads)
            {
                int kk = l % Tsk, nn = l / Tsk, gn = n0 + nn, gk = k0 + kk;
                float w = 0f;
                if (gn < g.N && gk < g.K)
                {
                    long i = (long)gn * g.Ldw + g.Column + gk;
                    w = g.Int8 != 0 ? int8[i] : Interop.IntAsFloat((uint)bf16[i] << 16);
                }
                wTile[kk * tsn + nn] = w;
            }
            Group.Barrier();
            for (int k = 0; k < Tsk; k++)
            {
                int ra = k * tsm + ty, rb = k * tsn + tx;
                acc.Add(aTile[ra], aTile[ra + gy], aTile[ra + 2 * gy], aTile[ra + 3 * gy],
                        wTile[rb], wTile[rb + gx], wTile[rb + 2 * gx], wTile[rb + 3 * gx]);
            }
            Group.Barrier();
        }

        int row = m0 + ty, col = n0 + tx;
        Store(c, scales, bias, g, row, col, gx, acc.R00, acc.R01, acc.R02, acc.R03);
        Store(c, scales, bias, g, row + gy, col, gx, acc.R10, acc.R11, acc.R12, acc.R13);
        Store(c, scales, bias, g, row + 2 * gy, col, gx, acc.R20, acc.R21, acc.R22, acc.R23);
        Store(c, scales, bias, g, row + 3 * gy, col, gx, acc.R30, acc.R31, acc.R32, acc.R33);
    }

    /// <summary>One row of a thread's block: columns col, col + gx, col + 2 gx, col + 3 gx.</summary>
    private static void Store(ArrayView<float> c, ArrayView<float> scales, ArrayView<float> bias, in QuantizedGemmArgs g, int row, int col, int gx,
        float v0, float v1, float v2, float v3)
    {
        if (row >= g.M) return;
        long r = (long)row * g.Ldc;
        StoreOne(c, scales, bias, r, g, col, v0);
        StoreOne(c, scales, bias, r, g, col + gx, v1);
        StoreOne(c, scales, bias, r, g, col + 2 * gx, v2);
        StoreOne(c, scales, bias, r, g, col + 3 * gx, v3);
    }

    private static void StoreOne(ArrayView<float> c, ArrayView<float> scales, ArrayView<float> bias, long rowStart, in QuantizedGemmArgs g, int col,
        float product)
    {
        if (col >= g.N) return;
        long i = rowStart + col;
        float v = g.Int8 != 0 ? product * scales[col] : product;
        if (g.Beta != 0f) v += g.Beta * c[i];
        if (g.HasBias != 0) v += bias[col];
        c[i] = DeviceMath.Activate(g.Act, v);
    }
}
