using ILGPU;
using ILGPU.Runtime;

namespace RnnGpu.Kernels;

/// <summary>
/// Reductions: column sums (bias gradients) and the squared norm (gradient clipping). Both are deterministic: the
/// order of every sum depends only on the shapes and the launch geometry, never on timing (no atomics), so the same
/// inputs give bit-identical results run after run.
///
/// ColumnSum: sum[c] = beta sum[c] + Σ_r x[r, c].    x: [rows, cols], sum: [cols]
///   Launch (<see cref="ColumnSumConfig"/>): groups of (GX, GY); a group owns GX columns and its GY lanes stride down
///   the rows (lane l takes rows l, l + GY, ...), so each row's GX columns are read by neighbouring threads; lane 0
///   then adds the lanes' partials from shared memory in lane order. rows is large (time x batch) and cols small
///   (hidden): the parallelism comes from the rows.
/// SquaredNormPartial: partial[g] = Σ x[i]² over the elements group g visits.   x: [n], partial: [groups]
///   Launch: 1-D, a power-of-two group size G, any number of groups; each thread accumulates a grid-stride share,
///   then a tree in shared memory sums the group. The host adds the partials in double. The sums are double (so a
///   gradient of 1e20 does not overflow the norm), or float on a device without fp64 (<see cref="SquaredNormPartialFloat"/>).
/// </summary>
public static class Reductions
{
    public static KernelConfig ColumnSumConfig(int cols, int groupX, int groupY) =>
        new(new Index3D((cols + groupX - 1) / groupX, 1, 1), new Index3D(groupX, groupY, 1), SharedMemoryConfig.RequestDynamic<float>(groupX * groupY));

    public static void ColumnSum(ArrayView<float> x, ArrayView<float> sum, int rows, int cols, float beta)
    {
        int gx = Group.DimX, gy = Group.DimY, lc = Group.IdxX, lane = Group.IdxY;
        int c = Grid.IdxX * gx + lc;
        var part = SharedMemory.GetDynamic<float>();
        float acc = 0f;
        if (c < cols)
            for (int r = lane; r < rows; r += gy) acc += x[(long)r * cols + c];
        part[lane * gx + lc] = acc;
        Group.Barrier();
        if (lane == 0 && c < cols)
        {
            float s = 0f;
            for (int l = 0; l < gy; l++) s += part[l * gx + lc];
            sum[c] = beta == 0f ? s : beta * sum[c] + s;
        }
    }

    public static KernelConfig SquaredNormConfig<T>(int groups, int group) where T : unmanaged =>
        new(new Index3D(groups, 1, 1), new Index3D(group, 1, 1), SharedMemoryConfig.RequestDynamic<T>(group));

    public static void SquaredNormPartial(ArrayView<float> x, ArrayView<double> partial, long n) => SquaredNormPartial<double, DoubleSum>(x, partial, n);

    public static void SquaredNormPartialFloat(ArrayView<float> x, ArrayView<float> partial, long n) => SquaredNormPartial<float, FloatSum>(x, partial, n);

    private static void SquaredNormPartial<T, TSum>(ArrayView<float> x, ArrayView<T> partial, long n) where T : unmanaged where TSum : INormSum<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int lid = Group.IdxX;
        T acc = default;
        for (long i = Grid.GlobalLinearIndex; i < n; i += (long)Grid.DimX * Group.DimX) acc = TSum.AddSquare(acc, x[i]);
        part[lid] = acc;
        Group.Barrier();
        for (int width = Group.DimX / 2; width > 0; width /= 2)
        {
            if (lid < width) part[lid] = TSum.Add(part[lid], part[lid + width]);
            Group.Barrier();
        }
        if (lid == 0) partial[Grid.IdxX] = part[0];
    }

    /// <summary>The squared norm's arithmetic in the accumulator's type.</summary>
    private interface INormSum<T>
    {
        static abstract T AddSquare(T sum, float v);
        static abstract T Add(T a, T b);
    }

    private struct DoubleSum : INormSum<double>
    {
        public static double AddSquare(double sum, float v) => sum + (double)v * v;
        public static double Add(double a, double b) => a + b;
    }

    private struct FloatSum : INormSum<float>
    {
        public static float AddSquare(float sum, float v) => sum + v * v;
        public static float Add(float a, float b) => a + b;
    }
}
