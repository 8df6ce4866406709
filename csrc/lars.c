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

ptrdiff_t st_lars_workspace_size(ptrdiff_t n_atoms, ptrdiff_t max_active)
{
    /* e, d, nrm2, tmp (4 n), W (max_active n), LT (max_active^2), z, v, sgn,
     * u0, u (5 max_active) */
    return (4 + max_active) * n_atoms + max_active * max_active +
           5 * max_active;
}

#define TYPE double
#define ITYPE int64_t
#define SQRT sqrt
#define HUGE_VALUE DBL_MAX
#define TINY_VALUE DBL_MIN
#include "lars.template.c"
#undef TYPE
#undef ITYPE
#undef SQRT
#undef HUGE_VALUE
#undef TINY_VALUE

#define TYPE float
#define ITYPE int32_t
#define SQRT sqrtf
#define HUGE_VALUE FLT_MAX
#define TINY_VALUE FLT_MIN
#include "lars.template.c"
#undef TYPE
#undef ITYPE
#undef SQRT
#undef HUGE_VALUE
#undef TINY_VALUE
