namespace RnnGpu.Kernels;

/// <summary>A thread's 4 x 4 block of accumulators, in registers (ILGPU has no local arrays that stay in them).</summary>
internal struct Block4x4
{
    public float R00, R01, R02, R03, R10, R11, R12, R13, R20, R21, R22, R23, R30, R31, R32, R33;

    public void Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        R00 += a0 * b0; R01 += a0 * b1; R02 += a0 * b2; R03 += a0 * b3;
        R10 += a1 * b0; R11 += a1 * b1; R12 += a1 * b2; R13 += a1 * b3;
        R20 += a2 * b0; R21 += a2 * b1; R22 += a2 * b2; R23 += a2 * b3;
        R30 += a3 * b0; R31 += a3 * b1; R32 += a3 * b2; R33 += a3 * b3;
    }
}
