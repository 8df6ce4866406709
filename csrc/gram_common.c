/* Instantiates the shared helpers of gram_common.template.c. */
#include <float.h>
#include <stddef.h>

#include "gram_common.h"
#include "templating.h"

#define TYPE double
#define EPSILON DBL_EPSILON
#include "gram_common.template.c"
#undef TYPE
#undef EPSILON

#define TYPE float
#define EPSILON FLT_EPSILON
#include "gram_common.template.c"
#undef TYPE
#undef EPSILON
