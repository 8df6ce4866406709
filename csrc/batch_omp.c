/* Instantiates the Batch-OMP kernel of batch_omp.template.c for float and double. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "batch_omp.h"
#include "st_config.h"
#include "st_status.h"
#include "templating.h"

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
