/* Instantiates the LARS-homotopy kernel of lars.template.c for float and
 * double. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "lars.h"
#include "st_config.h"
#include "st_status.h"
#include "templating.h"

/* An atom joins only if its squared distance to the active span is above
 * this many times eps (||d_j|| + sum_t |b_t| ||d_t||)^2, the rounding error
 * of that distance (see lars_dependent_ in lars.template.c). */
#define ST_LARS_DEPENDENCE 3

ptrdiff_t st_lars_workspace_size(ptrdiff_t n_atoms, ptrdiff_t max_active)
{
    /* e, d, nrm2, tmp (4 n), W (max_active n), LT (max_active^2), z, v, sgn,
     * u0, u, sqg (6 max_active) */
    return (4 + max_active) * n_atoms + max_active * max_active +
           6 * max_active;
}

#define TYPE double
#define ITYPE int64_t
#define SQRT sqrt
#define HUGE_VALUE DBL_MAX
#define TINY_VALUE DBL_MIN
#define EPS_VALUE DBL_EPSILON
#include "lars.template.c"
#undef TYPE
#undef ITYPE
#undef SQRT
#undef HUGE_VALUE
#undef TINY_VALUE
#undef EPS_VALUE

#define TYPE float
#define ITYPE int32_t
#define SQRT sqrtf
#define HUGE_VALUE FLT_MAX
#define TINY_VALUE FLT_MIN
#define EPS_VALUE FLT_EPSILON
#include "lars.template.c"
#undef TYPE
#undef ITYPE
#undef SQRT
#undef HUGE_VALUE
#undef TINY_VALUE
#undef EPS_VALUE
