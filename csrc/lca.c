/* Instantiates the LCA kernel of lca.template.c for float and double. */
#include <math.h>
#include <stddef.h>

#include "lca.h"
#include "st_config.h"
#include "st_status.h"
#include "templating.h"

ptrdiff_t st_lca_workspace_size(ptrdiff_t n_atoms)
{
    /* q, dl, r, u, a, v, w, s (8 n) */
    return 8 * n_atoms;
}

ptrdiff_t st_lca_index_workspace_size(ptrdiff_t n_atoms)
{
    /* the active list */
    return n_atoms;
}

#define TYPE double
#define SQRT sqrt
#include "lca.template.c"
#undef TYPE
#undef SQRT

#define TYPE float
#define SQRT sqrtf
#include "lca.template.c"
#undef TYPE
#undef SQRT
