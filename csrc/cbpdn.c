/* Instantiates the CBPDN steps of cbpdn.template.c for float and double.
 * Built with reassociation allowed (setup.py), so that the loops and their
 * partial sums vectorise; no assumption about NaN or infinity is made. */
#include <math.h>
#include <stddef.h>

#include "cbpdn.h"
#include "st_config.h"
#include "st_status.h"
#include "templating.h"

#define TYPE double
#include "cbpdn.template.c"
#undef TYPE

#define TYPE float
#include "cbpdn.template.c"
#undef TYPE
