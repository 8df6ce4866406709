# Shared by the adapters of kernels that work on a precomputed Gram matrix:
# the helpers of csrc/gram_common.h and the chunk GEMM.  Included (not
# cimported) so each extension module stays self-contained.

from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, dsyrk, sgemm, ssyrk


cdef extern from "gram_common.h" nogil:
    double st_sqnorm_double(const double *x, Py_ssize_t n)
    float st_sqnorm_float(const float *x, Py_ssize_t n)
    void st_dependence_thresholds_double(const double *gram, Py_ssize_t n_atoms,
                                         double *thresh)
    void st_dependence_thresholds_float(const float *gram, Py_ssize_t n_atoms,
                                        float *thresh)


cdef inline void _gemm_corr(const floating *x, const floating *d,
                            floating *corr, int m, int n_atoms,
                            int n_features) noexcept nogil:
    """corr (m x n_atoms, row-major) = x (m x n_features) @ d.T."""
    cdef char transa = b'T'
    cdef char transb = b'N'
    cdef floating one = 1
    cdef floating zero = 0
    # Column-major view: corr^T (n_atoms x m) = d_cm^T (n_atoms x nf) x_cm (nf x m)
    if floating is double:
        dgemm(&transa, &transb, &n_atoms, &m, &n_features, &one,
              <double *> d, &n_features, <double *> x, &n_features, &zero,
              corr, &n_atoms)
    else:
        sgemm(&transa, &transb, &n_atoms, &m, &n_features, &one,
              <float *> d, &n_features, <float *> x, &n_features, &zero,
              corr, &n_atoms)
