/* Status codes returned by every sparsetools C kernel.
 *
 * The Cython adapters turn a non-zero code into a Python exception in one
 * place (sparsetools/_lib/_status.pxi); kernels never print or abort.
 */
#ifndef SPARSETOOLS_STATUS_H
#define SPARSETOOLS_STATUS_H

#define ST_OK 0
#define ST_ERR_BAD_ARGUMENT 1  /* a size or option out of its range */

#endif
