/* Top-T selection and activation, written once for TYPE in {float, double};
 * see topt.h.  thresh_scale is beta * eps. */

ST_HOT_CLONES
int CAT(st_topt_, TYPE)(const TYPE *corr, ptrdiff_t n_patches, ptrdiff_t n_atoms,
                        ptrdiff_t n_top, const TYPE *l1, TYPE thresh_scale,
                        ptrdiff_t *idx, TYPE *val, ptrdiff_t *count, ptrdiff_t *work)
{
    ptrdiff_t p, l, t, s;

    if (n_patches < 0 || n_atoms <= 0 || n_top < 1 || n_top > n_atoms) {
        return ST_ERR_BAD_ARGUMENT;
    }
    for (p = 0; p < n_patches; ++p) {
        const TYPE *x = corr + p * n_atoms;
        ptrdiff_t *sel = work;   /* kept atoms, by decreasing |x|, then index */
        ptrdiff_t n_sel = 0, n_out = 0;
        for (l = 0; l < n_atoms; ++l) {
            const TYPE m = x[l] < 0 ? -x[l] : x[l];
            /* insertion into the sorted list of the n_top largest; an atom
             * ties with a kept one of lower index and goes after it */
            if (n_sel == n_top) {
                const TYPE last = x[sel[n_sel - 1]] < 0 ? -x[sel[n_sel - 1]]
                                                         : x[sel[n_sel - 1]];
                if (!(m > last)) {
                    continue;
                }
                --n_sel;
            }
            t = n_sel;
            while (t > 0) {
                const TYPE prev = x[sel[t - 1]] < 0 ? -x[sel[t - 1]] : x[sel[t - 1]];
                if (!(m > prev)) {
                    break;
                }
                sel[t] = sel[t - 1];
                --t;
            }
            sel[t] = l;
            ++n_sel;
        }
        /* activation, written in increasing atom order */
        for (t = 0; t < n_sel; ++t) {
            for (s = t + 1; s < n_sel; ++s) {
                if (sel[s] < sel[t]) {
                    const ptrdiff_t tmp = sel[s];
                    sel[s] = sel[t];
                    sel[t] = tmp;
                }
            }
            {
                const ptrdiff_t a = sel[t];
                const TYPE m = x[a] < 0 ? -x[a] : x[a];
                if (m > 0 && m >= thresh_scale * l1[a]) {
                    idx[p * n_top + n_out] = a;
                    val[p * n_top + n_out] = x[a] > 0 ? l1[a] : -l1[a];
                    ++n_out;
                }
            }
        }
        count[p] = n_out;
    }
    return ST_OK;
}
