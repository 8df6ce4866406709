/* Compiler features shared by the kernels' translation units. */
#ifndef SPARSETOOLS_CONFIG_H
#define SPARSETOOLS_CONFIG_H

/* The hot kernels are compiled for several x86-64 levels and the best one is
 * picked at load time (GNU ifunc), so a portable build still uses AVX2 /
 * AVX-512 where the CPU has them.  Set ST_NO_CLONES to build one version. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(ST_NO_CLONES)
#define ST_HOT_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ST_HOT_CLONES
#endif

/* Helpers of the hot kernels are forced inline so that they are compiled
 * into each target clone rather than once for the baseline ISA. */
#if defined(__GNUC__)
#define ST_INLINE static inline __attribute__((always_inline))
#else
#define ST_INLINE static inline
#endif

#endif
