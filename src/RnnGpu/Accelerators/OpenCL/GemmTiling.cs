namespace RnnGpu.Accelerators.OpenCL;

/// <summary>
/// The tile sizes of kernels/gemm.cl for one device, passed as -D defines: a work group computes a
/// Tsm x Tsn tile of C in K-steps of Tsk, each work item a Wptm x Wptn block (see the kernel's header).
/// </summary>
internal sealed record GemmTiling(int Tsm, int Tsn, int Tsk, int Wptm, int Wptn)
{
    public int LocalN => Tsn / Wptn;
    public int LocalM => Tsm / Wptm;
    public int GroupSize => LocalN * LocalM;

    public string Defines => $"-DTSM={Tsm} -DTSN={Tsn} -DTSK={Tsk} -DWPTM={Wptm} -DWPTN={Wptn}";

    /// <summary>
    /// 64 x 64 tiles of 4 x 4 per work item (256 work items, 8 KiB of local memory) where the device
    /// runs groups of 256; 32 x 32 (64 work items) where it allows 64; else 16 x 16 (16 work items).
    /// </summary>
    public static GemmTiling For(OpenCLDevice device) => device.MaxWorkGroupSize switch
    {
        >= 256 => new GemmTiling(64, 64, 16, 4, 4),
        >= 64 => new GemmTiling(32, 32, 16, 4, 4),
        _ => new GemmTiling(16, 16, 16, 4, 4),
    };
}
