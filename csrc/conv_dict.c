/* Instantiates the filter-update kernels of conv_dict.template.c for float
 * and double.  Built with reassociation allowed and -fopenmp-simd (setup.py). */
#include <math.h>
#include <stddef.h>

#include "conv_dict.h"
#include "st_config.h"
#include "st_status.h"
#include "templating.h"

/* Whether the sizes or the block range [blk0, blk1) are out of range. */
static int conv_dict_bad_blocks(ptrdiff_t m, ptrdiff_t n_freq, ptrdiff_t n_blocks,
                                ptrdiff_t blk0, ptrdiff_t blk1)
{
    return m < 1 || n_freq < 1 ||
           n_blocks != (n_freq + ST_CONV_DICT_BLOCK - 1) / ST_CONV_DICT_BLOCK ||
           blk0 < 0 || blk1 > n_blocks || blk0 > blk1;
}

#define TYPE double
#include "conv_dict.template.c"
#undef TYPE

#define TYPE float
#include "conv_dict.template.c"
#undef TYPE
