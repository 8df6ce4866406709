/* Instantiates the top-T activation kernel of topt.template.c for float and
 * double. */
#include <stddef.h>

#include "st_config.h"
#include "st_status.h"
#include "templating.h"
#include "topt.h"

#define TYPE double
#include "topt.template.c"
#undef TYPE

#define TYPE float
#include "topt.template.c"
#undef TYPE
