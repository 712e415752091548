// prelude_cuda.h: prepended to every kernel file when the CUDA back end compiles it with NVRTC.
//
// Maps the portable OpenCL C subset of kernels/*.cl onto CUDA C++ (the approach of CLBlast's CUDA
// back end): address-space qualifiers, work-item functions, the barrier, and the float math names.
// Math names are function-like macros to the float versions, so that exp(x) on a float never
// becomes the double exp. NVRTC's own headers are processed before this text, so the macros do not
// reach into them. Keep this in step with what the kernels use: every name a kernel calls that CUDA
// spells differently must be here.

typedef long long idx_t;

// Every CUDA device has doubles: the squared norm accumulates in double (see reduce.cl).
#define HAVE_FP64 1

// Address spaces and kernel entry points. extern "C" keeps the names unmangled for cuModuleGetFunction.
#define __kernel extern "C" __global__
#define __global
#define __local __shared__
#define __constant
#define __private
#define restrict __restrict__

// Work-item functions. The host launches blocks of the OpenCL local size and a grid of
// global size / local size blocks, so these agree with OpenCL's (no global offsets are used).
__device__ __forceinline__ unsigned int get_local_id(int d) { return d == 0 ? threadIdx.x : d == 1 ? threadIdx.y : threadIdx.z; }
__device__ __forceinline__ unsigned int get_group_id(int d) { return d == 0 ? blockIdx.x : d == 1 ? blockIdx.y : blockIdx.z; }
__device__ __forceinline__ unsigned int get_local_size(int d) { return d == 0 ? blockDim.x : d == 1 ? blockDim.y : blockDim.z; }
__device__ __forceinline__ unsigned int get_num_groups(int d) { return d == 0 ? gridDim.x : d == 1 ? gridDim.y : gridDim.z; }
__device__ __forceinline__ unsigned int get_global_id(int d) { return get_group_id(d) * get_local_size(d) + get_local_id(d); }
__device__ __forceinline__ unsigned int get_global_size(int d) { return get_num_groups(d) * get_local_size(d); }

// Barriers: every barrier in the kernels orders __local memory within a work group.
#define CLK_LOCAL_MEM_FENCE 1
#define CLK_GLOBAL_MEM_FENCE 2
#define barrier(flags) __syncthreads()

// Float math: OpenCL C overloads these names on float; CUDA's float versions carry an f.
#define exp(x) expf(x)
#define log(x) logf(x)
#define log1p(x) log1pf(x)
#define tanh(x) tanhf(x)
#define sqrt(x) sqrtf(x)
#define fabs(x) fabsf(x)
#define floor(x) floorf(x)
#define fmax(a, b) fmaxf(a, b)
#define fmin(a, b) fminf(a, b)
#define native_exp(x) __expf(x)
#define native_log(x) __logf(x)
#define native_sqrt(x) sqrtf(x)
#define native_recip(x) __frcp_rn(x)
#define native_divide(a, b) __fdividef(a, b)
