/* Instantiates the Batch-OMP kernel of batch_omp.template.c for float and double. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "batch_omp.h"
#include "st_status.h"
#include "templating.h"

/* The hot kernels are compiled for several x86-64 levels and the best one is
 * picked at load time (GNU ifunc), so a portable build still uses AVX2 / AVX-512
 * where the CPU has them.  Set ST_NO_CLONES to build a single version. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(ST_NO_CLONES)
#define ST_HOT_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ST_HOT_CLONES
#endif

/* Helpers of the hot kernels are forced inline so that they are compiled
 * into each target clone rather than once for the baseline ISA. */
#if defined(__GNUC__)
#define ST_INLINE static inline __attribute__((always_inline))
#else
#define ST_INLINE static inline
#endif

ptrdiff_t st_omp_workspace_size(ptrdiff_t n_atoms, ptrdiff_t max_k)
{
    /* nrm2 (n), W (max_k n), z (max_k) */
    return (1 + max_k) * n_atoms + max_k;
}

#define TYPE double
#define ITYPE int64_t
#define SQRT sqrt
#define EPSILON DBL_EPSILON
#include "batch_omp.template.c"
#undef TYPE
#undef ITYPE
#undef SQRT
#undef EPSILON

#define TYPE float
#define ITYPE int32_t
#define SQRT sqrtf
#define EPSILON FLT_EPSILON
#include "batch_omp.template.c"
#undef TYPE
#undef ITYPE
#undef SQRT
#undef EPSILON
