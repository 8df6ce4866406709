/* The CBPDN steps, written once for TYPE in {float, double}; see cbpdn.h. */

/* Block [b0, b0 + n) of the x-step, one channel: u = D w, q = (s - u) /
 * (rho + |D|^2), v <- v' + a (y - v' + conj(D) q). */
ST_INLINE void CAT(cbpdn_xblock1_, TYPE)(const TYPE *df, const TYPE *gram, const TYPE *sf,
                                          const TYPE *yf, TYPE *vf, ptrdiff_t n_filters,
                                          ptrdiff_t n_freq, TYPE rho, TYPE irsf, TYPE a,
                                          ptrdiff_t b0, ptrdiff_t n)
{
    TYPE ur[ST_CBPDN_BLOCK], ui[ST_CBPDN_BLOCK];
    ptrdiff_t m, j;

    for (j = 0; j < n; ++j) {
        ur[j] = 0;
        ui[j] = 0;
    }
    for (m = 0; m < n_filters; ++m) {      /* u = D w, w = 2 y - v' */
        const TYPE *d = df + 2 * (m * n_freq + b0);
        const TYPE *y = yf + 2 * (m * n_freq + b0);
        const TYPE *v = vf + 2 * (m * n_freq + b0);
        for (j = 0; j < n; ++j) {
            const TYPE yr = y[2 * j], yi = y[2 * j + 1];
            const TYPE wr = yr - (v[2 * j] - yr) * irsf;
            const TYPE wi = yi - (v[2 * j + 1] - yi) * irsf;
            const TYPE dr = d[2 * j], di = d[2 * j + 1];
            ur[j] += dr * wr - di * wi;
            ui[j] += dr * wi + di * wr;
        }
    }
    for (j = 0; j < n; ++j) {               /* q = (s - u) / (rho + D D^H) */
        const ptrdiff_t f = b0 + j;
        const TYPE inv = (TYPE)1 / (rho + gram[2 * f]);
        ur[j] = (sf[2 * f] - ur[j]) * inv;
        ui[j] = (sf[2 * f + 1] - ui[j]) * inv;
    }
    for (m = 0; m < n_filters; ++m) {      /* v <- v' + a (y - v' + D^H q) */
        const TYPE *d = df + 2 * (m * n_freq + b0);
        const TYPE *y = yf + 2 * (m * n_freq + b0);
        TYPE *v = vf + 2 * (m * n_freq + b0);
        for (j = 0; j < n; ++j) {
            const TYPE yr = y[2 * j], yi = y[2 * j + 1];
            const TYPE vr = yr + (v[2 * j] - yr) * irsf;
            const TYPE vi = yi + (v[2 * j + 1] - yi) * irsf;
            const TYPE dr = d[2 * j], di = d[2 * j + 1];
            const TYPE dqr = dr * ur[j] + di * ui[j];
            const TYPE dqi = dr * ui[j] - di * ur[j];
            v[2 * j] = vr + a * (yr - vr + dqr);
            v[2 * j + 1] = vi + a * (yi - vi + dqi);
        }
    }
}

/* Block [b0, b0 + n) of the x-step, c channels: the Woodbury form, with the
 * c x c Hermitian system rho I + D_f D_f^H solved by Cholesky per frequency.
 * work: u (re, im planes of c x BLOCK), then L (re, im of c x c), then the
 * right-hand side (re, im of c). */
ST_INLINE void CAT(cbpdn_xblockc_, TYPE)(const TYPE *df, const TYPE *gram, const TYPE *sf,
                                          const TYPE *yf, TYPE *vf, ptrdiff_t n_ch,
                                          ptrdiff_t n_filters, ptrdiff_t n_freq, TYPE rho,
                                          TYPE irsf, TYPE a, ptrdiff_t b0, ptrdiff_t n,
                                          TYPE *work)
{
    TYPE *ur = work, *ui = work + n_ch * ST_CBPDN_BLOCK;
    TYPE *lr = ui + n_ch * ST_CBPDN_BLOCK, *li = lr + n_ch * n_ch;
    TYPE *zr = li + n_ch * n_ch, *zi = zr + n_ch;
    ptrdiff_t m, c, j, r, k, p;

    for (j = 0; j < n_ch * ST_CBPDN_BLOCK; ++j) {
        ur[j] = 0;
        ui[j] = 0;
    }
    for (m = 0; m < n_filters; ++m) {
        const TYPE *y = yf + 2 * (m * n_freq + b0);
        const TYPE *v = vf + 2 * (m * n_freq + b0);
        for (c = 0; c < n_ch; ++c) {
            const TYPE *d = df + 2 * ((c * n_filters + m) * n_freq + b0);
            TYPE *uc_r = ur + c * ST_CBPDN_BLOCK, *uc_i = ui + c * ST_CBPDN_BLOCK;
            for (j = 0; j < n; ++j) {
                const TYPE yr = y[2 * j], yi = y[2 * j + 1];
                const TYPE wr = yr - (v[2 * j] - yr) * irsf;
                const TYPE wi = yi - (v[2 * j + 1] - yi) * irsf;
                const TYPE dr = d[2 * j], di = d[2 * j + 1];
                uc_r[j] += dr * wr - di * wi;
                uc_i[j] += dr * wi + di * wr;
            }
        }
    }
    for (j = 0; j < n; ++j) {
        const ptrdiff_t f = b0 + j;
        const TYPE *g = gram + 2 * f * n_ch * n_ch;
        for (c = 0; c < n_ch; ++c) {
            zr[c] = sf[2 * (c * n_freq + f)] - ur[c * ST_CBPDN_BLOCK + j];
            zi[c] = sf[2 * (c * n_freq + f) + 1] - ui[c * ST_CBPDN_BLOCK + j];
        }
        /* Cholesky L L^H of the Hermitian positive-definite rho I + G */
        for (r = 0; r < n_ch; ++r) {
            for (k = 0; k <= r; ++k) {
                TYPE sr = g[2 * (r * n_ch + k)], si = g[2 * (r * n_ch + k) + 1];
                if (r == k) {
                    sr += rho;
                }
                for (p = 0; p < k; ++p) {   /* -= L[r,p] conj(L[k,p]) */
                    const TYPE ar = lr[r * n_ch + p], ai = li[r * n_ch + p];
                    const TYPE br = lr[k * n_ch + p], bi = li[k * n_ch + p];
                    sr -= ar * br + ai * bi;
                    si -= ai * br - ar * bi;
                }
                if (r == k) {
                    lr[r * n_ch + r] = (TYPE)sqrt((double)sr);
                    li[r * n_ch + r] = 0;
                } else {
                    lr[r * n_ch + k] = sr / lr[k * n_ch + k];
                    li[r * n_ch + k] = si / lr[k * n_ch + k];
                }
            }
        }
        for (r = 0; r < n_ch; ++r) {        /* forward: L z = rhs */
            TYPE sr = zr[r], si = zi[r];
            for (p = 0; p < r; ++p) {
                const TYPE ar = lr[r * n_ch + p], ai = li[r * n_ch + p];
                sr -= ar * zr[p] - ai * zi[p];
                si -= ar * zi[p] + ai * zr[p];
            }
            zr[r] = sr / lr[r * n_ch + r];
            zi[r] = si / lr[r * n_ch + r];
        }
        for (r = n_ch - 1; r >= 0; --r) {   /* backward: L^H q = z */
            TYPE sr = zr[r], si = zi[r];
            for (p = r + 1; p < n_ch; ++p) {   /* -= conj(L[p,r]) q[p] */
                const TYPE ar = lr[p * n_ch + r], ai = li[p * n_ch + r];
                sr -= ar * zr[p] + ai * zi[p];
                si -= ar * zi[p] - ai * zr[p];
            }
            zr[r] = sr / lr[r * n_ch + r];
            zi[r] = si / lr[r * n_ch + r];
        }
        for (c = 0; c < n_ch; ++c) {
            ur[c * ST_CBPDN_BLOCK + j] = zr[c];
            ui[c * ST_CBPDN_BLOCK + j] = zi[c];
        }
    }
    for (m = 0; m < n_filters; ++m) {
        const TYPE *y = yf + 2 * (m * n_freq + b0);
        TYPE *v = vf + 2 * (m * n_freq + b0);
        for (j = 0; j < n; ++j) {
            const TYPE yr = y[2 * j], yi = y[2 * j + 1];
            const TYPE vr = yr + (v[2 * j] - yr) * irsf;
            const TYPE vi = yi + (v[2 * j + 1] - yi) * irsf;
            TYPE dqr = 0, dqi = 0;
            for (c = 0; c < n_ch; ++c) {
                const TYPE *d = df + 2 * ((c * n_filters + m) * n_freq + b0);
                const TYPE dr = d[2 * j], di = d[2 * j + 1];
                const TYPE qr = ur[c * ST_CBPDN_BLOCK + j], qi = ui[c * ST_CBPDN_BLOCK + j];
                dqr += dr * qr + di * qi;
                dqi += dr * qi - di * qr;
            }
            v[2 * j] = vr + a * (yr - vr + dqr);
            v[2 * j + 1] = vi + a * (yi - vi + dqi);
        }
    }
}

ST_HOT_CLONES
int CAT(st_cbpdn_xstep_, TYPE)(const TYPE *df, const TYPE *gram, const TYPE *sf,
                               const TYPE *yf, TYPE *vf, ptrdiff_t n_ch,
                               ptrdiff_t n_filters, ptrdiff_t n_freq, TYPE rho,
                               TYPE inv_rsf, TYPE relax, ptrdiff_t f0, ptrdiff_t f1,
                               TYPE *work)
{
    ptrdiff_t b0;

    if (n_ch < 1 || n_filters < 1 || f0 < 0 || f1 > n_freq || f0 > f1 || !(rho > 0)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    for (b0 = f0; b0 < f1; b0 += ST_CBPDN_BLOCK) {
        const ptrdiff_t n = f1 - b0 < ST_CBPDN_BLOCK ? f1 - b0 : ST_CBPDN_BLOCK;
        if (n_ch == 1) {
            CAT(cbpdn_xblock1_, TYPE)(df, gram, sf, yf, vf, n_filters, n_freq, rho,
                                      inv_rsf, relax, b0, n);
        } else {
            CAT(cbpdn_xblockc_, TYPE)(df, gram, sf, yf, vf, n_ch, n_filters, n_freq, rho,
                                      inv_rsf, relax, b0, n, work);
        }
    }
    return ST_OK;
}

/* Norms of one chunk of at most ST_CBPDN_SUM values are summed in TYPE (so
 * that the loop vectorises), the chunks' sums in double. */
#define ST_CBPDN_SUM 1024

ST_HOT_CLONES
int CAT(st_cbpdn_ystep_, TYPE)(const TYPE *v, TYPE *v_prev, TYPE *y, ptrdiff_t n,
                               TYPE threshold, TYPE inv_rsf, TYPE relax, int positive,
                               double *out)
{
    const TYPE inv_a = (TYPE)1 / relax, zero = 0;
    double sx = 0, sr = 0, sy = 0, ss = 0, su = 0;
    ptrdiff_t b0, i;

    if (n < 0 || !(relax > 0)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    for (b0 = 0; b0 < n; b0 += ST_CBPDN_SUM) {
        const ptrdiff_t b1 = n - b0 < ST_CBPDN_SUM ? n : b0 + ST_CBPDN_SUM;
        TYPE px = 0, pr = 0, py = 0, ps = 0, pu = 0;
        for (i = b0; i < b1; ++i) {
            const TYPE vi = v[i], yo = y[i];
            const TYPE vp = yo + (v_prev[i] - yo) * inv_rsf;
            const TYPE x = (vi - vp) * inv_a + yo;
            /* plain selects (not fmax, no nesting) so that the loop vectorises */
            const TYPE a0 = (vi < zero ? -vi : vi) - threshold;
            const TYPE a1 = vi - threshold;
            const TYPE mag = a0 > zero ? a0 : zero;
            const TYPE soft = vi >= zero ? mag : -mag;
            const TYPE pos = a1 > zero ? a1 : zero;
            const TYPE yn = positive ? pos : soft;
            const TYPE d1 = x - yn, d2 = yo - yn, d3 = vi - yn;
            v_prev[i] = vi;
            y[i] = yn;
            px += x * x;
            pr += d1 * d1;
            py += yn * yn;
            ps += d2 * d2;
            pu += d3 * d3;
        }
        sx += px;
        sr += pr;
        sy += py;
        ss += ps;
        su += pu;
    }
    out[0] = sx;
    out[1] = sr;
    out[2] = sy;
    out[3] = ss;
    out[4] = su;
    return ST_OK;
}
#undef ST_CBPDN_SUM
