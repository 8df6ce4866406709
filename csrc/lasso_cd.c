/* Instantiates the coordinate-descent lasso kernel of lasso_cd.template.c
 * for float and double. */
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "lasso_cd.h"
#include "st_config.h"
#include "st_status.h"
#include "templating.h"

ptrdiff_t st_lasso_cd_workspace_size(ptrdiff_t n_atoms)
{
    /* a, q (2 n) */
    return 2 * n_atoms;
}

#define TYPE double
#define SQRT sqrt
#define EPSILON DBL_EPSILON
#define TINY_VALUE DBL_MIN
#include "lasso_cd.template.c"
#undef TYPE
#undef SQRT
#undef EPSILON
#undef TINY_VALUE

#define TYPE float
#define SQRT sqrtf
#define EPSILON FLT_EPSILON
#define TINY_VALUE FLT_MIN
#include "lasso_cd.template.c"
#undef TYPE
#undef SQRT
#undef EPSILON
#undef TINY_VALUE
