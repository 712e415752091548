namespace RnnGpu.Accelerators.OpenCL.Native;

/// <summary>The values of the cl.h constants the back end passes (OpenCL 1.2 headers).</summary>
internal static class OpenCLConstants
{
    // cl_device_type
    public const ulong CL_DEVICE_TYPE_CPU = 1 << 1;
    public const ulong CL_DEVICE_TYPE_GPU = 1 << 2;
    public const ulong CL_DEVICE_TYPE_ACCELERATOR = 1 << 3;
    public const ulong CL_DEVICE_TYPE_ALL = 0xFFFFFFFF;

    // cl_platform_info
    public const uint CL_PLATFORM_VERSION = 0x0901;
    public const uint CL_PLATFORM_NAME = 0x0902;
    public const uint CL_PLATFORM_VENDOR = 0x0903;

    // cl_device_info
    public const uint CL_DEVICE_TYPE = 0x1000;
    public const uint CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    public const uint CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    public const uint CL_DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
    public const uint CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    public const uint CL_DEVICE_LOCAL_MEM_SIZE = 0x1023;
    public const uint CL_DEVICE_AVAILABLE = 0x1027;
    public const uint CL_DEVICE_COMPILER_AVAILABLE = 0x1028;
    public const uint CL_DEVICE_NAME = 0x102B;
    public const uint CL_DEVICE_VENDOR = 0x102C;
    public const uint CL_DRIVER_VERSION = 0x102D;
    public const uint CL_DEVICE_VERSION = 0x102F;
    public const uint CL_DEVICE_EXTENSIONS = 0x1030;

    // cl_context_properties
    public const nint CL_CONTEXT_PLATFORM = 0x1084;

    // cl_mem_flags
    public const ulong CL_MEM_READ_WRITE = 1 << 0;

    // cl_program_info and cl_program_build_info
    public const uint CL_PROGRAM_NUM_DEVICES = 0x1162;
    public const uint CL_PROGRAM_BINARY_SIZES = 0x1165;
    public const uint CL_PROGRAM_BINARIES = 0x1166;
    public const uint CL_PROGRAM_BUILD_LOG = 0x1183;

    // cl_kernel_work_group_info
    public const uint CL_KERNEL_WORK_GROUP_SIZE = 0x11B0;
}
