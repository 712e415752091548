// reduce.cl: reductions: column sums (bias gradients) and the squared norm (gradient clipping).
// Both are deterministic: the order of every sum depends only on the shapes, never on timing,
// so the same inputs give bit-identical results run after run (no atomics).
//
// column_sum: sum[c] = beta sum[c] + sum over r of x[r, c].     x: [rows, cols], sum: [cols]
//   Launch: local (16, GROUP / 16), global (ceil(cols / 16) * 16, GROUP / 16): a group owns 16
//   columns; its GROUP / 16 lanes stride down the rows (lane l takes rows l, l + lanes, ...), so each
//   row's 16 columns are read by neighbouring work items (coalesced), then the lanes' partial sums
//   are added in local memory in a fixed order. rows is large (time x batch) and cols small
//   (hidden), so the parallelism comes from the rows.
//
// squared_norm_partial: partial[g] = sum of x[i]^2 over the elements group g visits.  x: [n]
//   Launch: 1-D, GROUP work items per group, G groups (the host picks G from n alone); each work item
//   accumulates a grid-stride share, then a tree in local memory sums the group. The host reads the
//   G partials and adds them in double. With -DHAVE_FP64 (the device has doubles) the sums and the
//   partials are double, so gradients up to float's range never overflow the norm (1e20^2 does in
//   float); without it they are float.

#ifdef HAVE_FP64
typedef double norm_t;
#else
typedef float norm_t;
#endif

#define CS_COLS 16
#define CS_LANES (GROUP / CS_COLS)

__kernel void column_sum(const int rows, const int cols, const float beta,
                         const __global float* x, const idx_t offX,
                         __global float* sum, const idx_t offS)
{
    __local float part[CS_LANES][CS_COLS];
    const int lc = (int)get_local_id(0);
    const int lane = (int)get_local_id(1);
    const int c = (int)get_group_id(0) * CS_COLS + lc;
    float acc = 0.0f;
    if (c < cols)
        for (int r = lane; r < rows; r += CS_LANES)
            acc += x[offX + (idx_t)r * cols + c];
    part[lane][lc] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lane == 0 && c < cols) {
        float s = 0.0f;
        for (int l = 0; l < CS_LANES; l++) s += part[l][lc];
        sum[offS + c] = beta == 0.0f ? s : beta * sum[offS + c] + s;
    }
}

__kernel void squared_norm_partial(const idx_t n, const __global float* x, const idx_t offX,
                                   __global norm_t* partial, const idx_t offP)
{
    __local norm_t part[GROUP];
    const int lid = (int)get_local_id(0);
    norm_t acc = 0;
    for (idx_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const norm_t v = x[offX + i];
        acc += v * v;
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = GROUP / 2; width > 0; width /= 2) {
        if (lid < width) part[lid] += part[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[offP + get_group_id(0)] = part[0];
}
