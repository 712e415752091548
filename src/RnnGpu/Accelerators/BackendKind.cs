namespace RnnGpu.Accelerators;

public enum BackendKind
{
    Cpu,
    OpenCL,
    Cuda,
}
