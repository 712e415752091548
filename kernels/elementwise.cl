// elementwise.cl: bias addition and scaling, one pass over memory each.
//
//   add_bias:  y[r, c] += bias[c]       y: [rows, cols], bias: [cols]; n = rows * cols
//   scale:     x[i] *= alpha            x: [n] (gradient clipping)
//   multiply:  y[i] = a[i] * b[i]       a, b, y: [n] (dropout masks); y may be a
//
// Launch: 1-D, GROUP work items per group, a grid-stride loop over n, so the host caps the number
// of groups (a few per compute unit) and one launch covers any length. Memory-bound; consecutive
// work items touch consecutive elements.

__kernel void add_bias(const idx_t n, const int cols,
                       const __global float* bias, const idx_t offB,
                       __global float* y, const idx_t offY)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0))
        y[offY + i] += bias[offB + (int)(i % cols)];
}

__kernel void scale(const idx_t n, const float alpha, __global float* x, const idx_t offX)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0))
        x[offX + i] *= alpha;
}

__kernel void multiply(const idx_t n,
                       const __global float* a, const idx_t offA,
                       const __global float* b, const idx_t offB,
                       __global float* y, const idx_t offY)
{
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0))
        y[offY + i] = a[offA + i] * b[offB + i];
}
