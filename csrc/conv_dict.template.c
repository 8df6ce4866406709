/* The filter-update kernels, written once for TYPE in {float, double}; see
 * conv_dict.h.  Every loop over q runs over the ST_CONV_DICT_BLOCK
 * frequencies of a block, the vectorised axis; complex products are split in
 * two (real, imaginary) accumulators each so that consecutive FMAs do not wait
 * on one another.  "omp simd" (-fopenmp-simd) keeps the compiler from
 * unrolling those loops and vectorising the loop around them instead (with
 * gathers and spills: 2-3x slower). */

/* nf interleaved (re, im) values of src into the planes dr and di of one
 * block, zero-padded to ST_CONV_DICT_BLOCK. */
ST_INLINE void CAT(conv_dict_split_, TYPE)(const TYPE *src, ptrdiff_t nf, TYPE *dr, TYPE *di)
{
    ptrdiff_t q;

    for (q = 0; q < nf; ++q) {
        dr[q] = src[2 * q];
        di[q] = src[2 * q + 1];
    }
    for (; q < ST_CONV_DICT_BLOCK; ++q) {
        dr[q] = 0;
        di[q] = 0;
    }
}

/* e <- weight e + sum_j conj(x_j) y_j for each frequency q of a block: x and
 * y are de-interleaved (re, im) planes of kb = n_tiles * BLOCK values, e one
 * packed entry (BLOCK real parts, then BLOCK imaginary parts). */
ST_INLINE void CAT(conv_dict_conj_dot_, TYPE)(const TYPE *xr, const TYPE *xi, const TYPE *yr,
                                              const TYPE *yi, ptrdiff_t kb, TYPE weight,
                                              TYPE *e)
{
    TYPE pr[ST_CONV_DICT_BLOCK], qr[ST_CONV_DICT_BLOCK];
    TYPE pi[ST_CONV_DICT_BLOCK], qi[ST_CONV_DICT_BLOCK];
    ptrdiff_t j, q;

    #pragma omp simd
    for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
        pr[q] = 0;
        qr[q] = 0;
        pi[q] = 0;
        qi[q] = 0;
    }
    for (j = 0; j < kb; j += ST_CONV_DICT_BLOCK) {
        #pragma omp simd
        for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
            pr[q] += xr[j + q] * yr[j + q];
            qr[q] += xi[j + q] * yi[j + q];
            pi[q] += xr[j + q] * yi[j + q];
            qi[q] += xi[j + q] * yr[j + q];
        }
    }
    #pragma omp simd
    for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
        e[q] = weight * e[q] + (pr[q] + qr[q]);
        e[ST_CONV_DICT_BLOCK + q] = weight * e[ST_CONV_DICT_BLOCK + q] + (pi[q] - qi[q]);
    }
}

ST_HOT_CLONES
int CAT(st_conv_dict_accumulate_, TYPE)(const TYPE *zf, const TYPE *sf, TYPE *a, TYPE *b,
                                        ptrdiff_t n_tiles, ptrdiff_t m, ptrdiff_t n_ch,
                                        ptrdiff_t n_freq, ptrdiff_t n_blocks, TYPE weight,
                                        ptrdiff_t blk0, ptrdiff_t blk1, TYPE *work)
{
    const ptrdiff_t kb = n_tiles * ST_CONV_DICT_BLOCK;
    TYPE *zr = work, *zi = zr + m * kb, *sr = zi + m * kb, *si = sr + n_ch * kb;
    ptrdiff_t blk, i, j, r, k, c;

    if (conv_dict_bad_blocks(m, n_freq, n_blocks, blk0, blk1) || n_tiles < 0 || n_ch < 1 ||
        !(weight >= 0 && weight <= 1)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    for (blk = blk0; blk < blk1; ++blk) {
        const ptrdiff_t f0 = blk * ST_CONV_DICT_BLOCK;
        const ptrdiff_t nf = n_freq - f0 < ST_CONV_DICT_BLOCK ? n_freq - f0 : ST_CONV_DICT_BLOCK;
        TYPE *ab = a + blk * (m * (m + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
        TYPE *bb = b + blk * m * n_ch * 2 * ST_CONV_DICT_BLOCK;

        /* de-interleave the block: zr/zi (m, k, B), sr/si (c, k, B) */
        for (j = 0; j < n_tiles; ++j) {
            for (i = 0; i < m; ++i) {
                CAT(conv_dict_split_, TYPE)(zf + 2 * ((j * m + i) * n_freq + f0), nf,
                                            zr + i * kb + j * ST_CONV_DICT_BLOCK,
                                            zi + i * kb + j * ST_CONV_DICT_BLOCK);
            }
            for (c = 0; c < n_ch; ++c) {
                CAT(conv_dict_split_, TYPE)(sf + 2 * ((j * n_ch + c) * n_freq + f0), nf,
                                            sr + c * kb + j * ST_CONV_DICT_BLOCK,
                                            si + c * kb + j * ST_CONV_DICT_BLOCK);
            }
        }
        /* A[r, k] <- w A[r, k] + sum_j conj(Z[j, r]) Z[j, k], k <= r */
        for (r = 0; r < m; ++r) {
            const TYPE *xr = zr + r * kb, *xi = zi + r * kb;
            TYPE *row = ab + (r * (r + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
            for (k = 0; k <= r; ++k) {
                const TYPE *yr = zr + k * kb, *yi = zi + k * kb;
                CAT(conv_dict_conj_dot_, TYPE)(xr, xi, yr, yi, kb, weight,
                                               row + k * 2 * ST_CONV_DICT_BLOCK);
            }
        }
        /* b[i, c] <- w b[i, c] + sum_j conj(Z[j, i]) S[j, c] */
        for (i = 0; i < m; ++i) {
            const TYPE *xr = zr + i * kb, *xi = zi + i * kb;
            for (c = 0; c < n_ch; ++c) {
                const TYPE *yr = sr + c * kb, *yi = si + c * kb;
                CAT(conv_dict_conj_dot_, TYPE)(xr, xi, yr, yi, kb, weight,
                                               bb + (i * n_ch + c) * 2 * ST_CONV_DICT_BLOCK);
            }
        }
    }
    return ST_OK;
}

/* Row by row (Cholesky-Crout):  L[r, k] = (A[r, k] + sigma [r == k]
 * - sum_{p < k} L[r, p] conj(L[k, p])) / L[k, k]. */
ST_HOT_CLONES
int CAT(st_conv_dict_factor_, TYPE)(const TYPE *a, TYPE *l, ptrdiff_t m, ptrdiff_t n_blocks,
                                    TYPE sigma, ptrdiff_t blk0, ptrdiff_t blk1,
                                    ptrdiff_t *n_bad)
{
    const ptrdiff_t bsize = (m * (m + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
    ptrdiff_t blk, r, k, p, q, bad = 0;

    /* n_freq is not needed: padded frequencies have A = 0, a valid system */
    if (conv_dict_bad_blocks(m, n_blocks * ST_CONV_DICT_BLOCK, n_blocks, blk0, blk1) ||
        !(sigma > 0) || !(sigma < (TYPE)HUGE_VAL)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    for (blk = blk0; blk < blk1; ++blk) {
        const TYPE *ab = a + blk * bsize;
        TYPE *lb = l + blk * bsize;
        int lane_bad[ST_CONV_DICT_BLOCK] = {0};

        for (r = 0; r < m; ++r) {
            const TYPE *arow = ab + (r * (r + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
            TYPE *lrow = lb + (r * (r + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
            for (k = 0; k <= r; ++k) {
                const TYPE *krow = lb + (k * (k + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
                const TYPE *ae = arow + k * 2 * ST_CONV_DICT_BLOCK;
                TYPE *le = lrow + k * 2 * ST_CONV_DICT_BLOCK;
                TYPE pr[ST_CONV_DICT_BLOCK], qr[ST_CONV_DICT_BLOCK];
                TYPE pi[ST_CONV_DICT_BLOCK], qi[ST_CONV_DICT_BLOCK];
                #pragma omp simd
                for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                    pr[q] = ae[q];
                    pi[q] = ae[ST_CONV_DICT_BLOCK + q];
                    qr[q] = 0;
                    qi[q] = 0;
                }
                for (p = 0; p < k; ++p) {   /* -= L[r, p] conj(L[k, p]) */
                    const TYPE *x = lrow + p * 2 * ST_CONV_DICT_BLOCK;
                    const TYPE *y = krow + p * 2 * ST_CONV_DICT_BLOCK;
                    #pragma omp simd
                    for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                        const TYPE xr = x[q], xi = x[ST_CONV_DICT_BLOCK + q];
                        const TYPE yr = y[q], yi = y[ST_CONV_DICT_BLOCK + q];
                        pr[q] -= xr * yr;
                        qr[q] += xi * yi;
                        pi[q] -= xi * yr;
                        qi[q] -= xr * yi;
                    }
                }
                if (k == r) {
                    #pragma omp simd
                    for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                        const TYPE d = (pr[q] + sigma) - qr[q];
                        lane_bad[q] |= !(d > 0);
                        le[q] = (TYPE)1 / (TYPE)sqrt((double)d);
                        le[ST_CONV_DICT_BLOCK + q] = 0;
                    }
                } else {
                    const TYPE *inv = krow + k * 2 * ST_CONV_DICT_BLOCK;  /* 1 / L[k, k] */
                    #pragma omp simd
                    for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                        le[q] = (pr[q] - qr[q]) * inv[q];
                        le[ST_CONV_DICT_BLOCK + q] = (pi[q] - qi[q]) * inv[q];
                    }
                }
            }
        }
        #pragma omp simd
        for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
            bad += lane_bad[q];
        }
    }
    *n_bad = bad;
    return ST_OK;
}

ST_HOT_CLONES
int CAT(st_conv_dict_solve_, TYPE)(const TYPE *l, const TYPE *b, const TYPE *rhs, TYPE *x,
                                   ptrdiff_t m, ptrdiff_t n_ch, ptrdiff_t n_freq,
                                   ptrdiff_t n_blocks, TYPE sigma, ptrdiff_t blk0,
                                   ptrdiff_t blk1, TYPE *work)
{
    const ptrdiff_t bsize = (m * (m + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
    const ptrdiff_t step = n_ch * 2 * ST_CONV_DICT_BLOCK;   /* between rows of y */
    ptrdiff_t blk, i, r, p, c, q;

    if (conv_dict_bad_blocks(m, n_freq, n_blocks, blk0, blk1) || n_ch < 1 ||
        !(sigma > 0) || !(sigma < (TYPE)HUGE_VAL)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    for (blk = blk0; blk < blk1; ++blk) {
        const ptrdiff_t f0 = blk * ST_CONV_DICT_BLOCK;
        const ptrdiff_t nf = n_freq - f0 < ST_CONV_DICT_BLOCK ? n_freq - f0 : ST_CONV_DICT_BLOCK;
        const TYPE *lb = l + blk * bsize;
        const TYPE *bb = b + blk * m * step;

        /* y = b + sigma rhs, (m, c, 2, B) */
        for (i = 0; i < m * n_ch; ++i) {
            const TYPE *src = rhs + 2 * (i * n_freq + f0);
            const TYPE *be = bb + i * 2 * ST_CONV_DICT_BLOCK;
            TYPE *y = work + i * 2 * ST_CONV_DICT_BLOCK;
            for (q = 0; q < nf; ++q) {
                y[q] = be[q] + sigma * src[2 * q];
                y[ST_CONV_DICT_BLOCK + q] = be[ST_CONV_DICT_BLOCK + q] + sigma * src[2 * q + 1];
            }
            for (; q < ST_CONV_DICT_BLOCK; ++q) {
                y[q] = 0;
                y[ST_CONV_DICT_BLOCK + q] = 0;
            }
        }
        for (c = 0; c < n_ch; ++c) {
            TYPE *y = work + c * 2 * ST_CONV_DICT_BLOCK;
            for (r = 0; r < m; ++r) {       /* forward: L z = y */
                const TYPE *lrow = lb + (r * (r + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
                TYPE *yr = y + r * step;
                TYPE pr[ST_CONV_DICT_BLOCK], qr[ST_CONV_DICT_BLOCK];
                TYPE pi[ST_CONV_DICT_BLOCK], qi[ST_CONV_DICT_BLOCK];
                #pragma omp simd
                for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                    pr[q] = yr[q];
                    pi[q] = yr[ST_CONV_DICT_BLOCK + q];
                    qr[q] = 0;
                    qi[q] = 0;
                }
                for (p = 0; p < r; ++p) {   /* -= L[r, p] z[p] */
                    const TYPE *le = lrow + p * 2 * ST_CONV_DICT_BLOCK;
                    const TYPE *z = y + p * step;
                    #pragma omp simd
                    for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                        const TYPE lr = le[q], li = le[ST_CONV_DICT_BLOCK + q];
                        const TYPE zr = z[q], zi = z[ST_CONV_DICT_BLOCK + q];
                        pr[q] -= lr * zr;
                        qr[q] -= li * zi;
                        pi[q] -= lr * zi;
                        qi[q] -= li * zr;
                    }
                }
                #pragma omp simd
                for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                    const TYPE inv = lrow[r * 2 * ST_CONV_DICT_BLOCK + q];
                    yr[q] = (pr[q] - qr[q]) * inv;
                    yr[ST_CONV_DICT_BLOCK + q] = (pi[q] + qi[q]) * inv;
                }
            }
            for (r = m - 1; r >= 0; --r) {  /* backward: L^H x = z, by columns */
                const TYPE *lrow = lb + (r * (r + 1) / 2) * 2 * ST_CONV_DICT_BLOCK;
                TYPE *xe = y + r * step;
                #pragma omp simd
                for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                    const TYPE inv = lrow[r * 2 * ST_CONV_DICT_BLOCK + q];
                    xe[q] *= inv;
                    xe[ST_CONV_DICT_BLOCK + q] *= inv;
                }
                for (p = 0; p < r; ++p) {   /* z[p] -= conj(L[r, p]) x[r] */
                    const TYPE *le = lrow + p * 2 * ST_CONV_DICT_BLOCK;
                    TYPE *z = y + p * step;
                    #pragma omp simd
                    for (q = 0; q < ST_CONV_DICT_BLOCK; ++q) {
                        const TYPE lr = le[q], li = le[ST_CONV_DICT_BLOCK + q];
                        const TYPE xr = xe[q], xi = xe[ST_CONV_DICT_BLOCK + q];
                        z[q] -= lr * xr + li * xi;
                        z[ST_CONV_DICT_BLOCK + q] -= lr * xi - li * xr;
                    }
                }
            }
        }
        for (i = 0; i < m * n_ch; ++i) {
            const TYPE *y = work + i * 2 * ST_CONV_DICT_BLOCK;
            TYPE *dst = x + 2 * (i * n_freq + f0);
            for (q = 0; q < nf; ++q) {
                dst[2 * q] = y[q];
                dst[2 * q + 1] = y[ST_CONV_DICT_BLOCK + q];
            }
        }
    }
    return ST_OK;
}
