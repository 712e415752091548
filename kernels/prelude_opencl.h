// prelude_opencl.h: prepended to every kernel file when the OpenCL back end builds it.
//
// The kernel files are written in a portable subset of OpenCL C 1.2 that prelude_cuda.h maps onto
// CUDA C++ for NVRTC: scalar float arithmetic only (no vector types), __local arrays declared in the
// kernel body (never __local pointer arguments), float literals with f, integer ids cast to int,
// 64-bit offsets as idx_t, and tile sizes as -D defines chosen by the host. OpenCL C needs only the
// names that CUDA spells differently.

typedef long idx_t;

// The host defines HAVE_FP64 when the device has doubles (cl_khr_fp64); only the squared norm uses them.
#ifdef HAVE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
