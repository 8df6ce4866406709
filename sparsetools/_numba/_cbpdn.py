"""CBPDN by ADMM: the fused per-frequency solve and the fused spatial step.

The iteration is SPORCO's ``ConvBPDN`` (Wohlberg 2016) rewritten on the
variable ``V = a X + (1 - a) Y_prev + U_prev`` (``a`` the relaxation), so
that the scaled dual is ``U = V - Y`` and each iteration needs one inverse
FFT (of ``V``) and one forward FFT (of the sparse ``Y``):

* :func:`xstep` (frequency domain): solves ``(D^H D + rho I) x = D^H s +
  rho (y - u)`` at every frequency by the Sherman-Morrison formula (one
  channel) or its Woodbury form with a ``c x c`` Cholesky solve (``c``
  channels, one map per filter shared across them), and overwrites ``V``
  by ``V + a (X - Y)``;
* :func:`ystep` (space domain): soft-thresholds ``V`` into the new ``Y``
  and returns the squared norms that give ADMM's primal and dual
  residuals. The caller runs it on a few maps at a time, between the
  inverse FFT of those maps and the forward FFT of their new ``Y``, so the
  maps stay in cache.

A change of ``rho`` by a factor ``f`` rescales ``U`` by ``1 / f``; both
kernels apply it on the fly (``inv_rsf``) to the ``V`` they read, so no
pass is spent on it. The callers check shapes; nothing is checked here.
"""
import numba as nb
import numpy as np

__all__ = ["xstep", "ystep", "channel_gram"]

#: Frequencies processed together: the block of every map stays in cache
#: between the two passes of :func:`xstep`.
_BLOCK = 128
#: Reassociation lets LLVM vectorise the loops and their sums; no
#: assumption about NaN or infinity is made.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


def _sigs_xstep():
    out = []
    for r, c in ((nb.float32, nb.complex64), (nb.float64, nb.complex128)):
        out.append(nb.void(
            nb.types.Array(c, 3, "C", readonly=True),   # df (n_channels, n_filters, n_freq)
            nb.types.Array(c, 3, "C", readonly=True),   # gram (n_freq, n_channels, n_channels)
            nb.types.Array(c, 2, "C", readonly=True),   # sf (n_channels, n_freq)
            nb.types.Array(c, 2, "C", readonly=True),   # yf (n_filters, n_freq)
            nb.types.Array(c, 2, "C"),                  # vf (n_filters, n_freq), in/out
            nb.float64, nb.float64, nb.float64,         # rho, inv_rsf, relaxation
            nb.intp, nb.intp))                          # f0, f1
    return out


@nb.njit(_sigs_xstep(), cache=True, nogil=True, boundscheck=False, fastmath=_FAST)
def xstep(df, gram, sf, yf, vf, rho, inv_rsf, relax, f0, f1):
    """Frequencies ``[f0, f1)``: ``vf <- v + a (x - y)`` with ``x`` the ADMM
    x-update and ``v = y + (vf - y) inv_rsf``."""
    n_ch, n_filters, _ = df.shape
    dt = vf.dtype
    rho_c = dt.type(rho)
    irsf = dt.type(inv_rsf)
    a = dt.type(relax)
    two = dt.type(2.0)
    u = np.zeros((n_ch, _BLOCK), dtype=dt)
    q = np.zeros((n_ch, _BLOCK), dtype=dt)
    chol = np.zeros((n_ch, n_ch), dtype=dt)
    rhs = np.zeros(n_ch, dtype=dt)
    for b0 in range(f0, f1, _BLOCK):
        n = min(_BLOCK, f1 - b0)
        for c in range(n_ch):
            for j in range(n):
                u[c, j] = 0
        # u = D w, w = 2 y - v = y - u_prev
        for m in range(n_filters):
            for c in range(n_ch):
                for j in range(n):
                    f = b0 + j
                    y = yf[m, f]
                    w = two * y - (y + (vf[m, f] - y) * irsf)
                    u[c, j] += df[c, m, f] * w
        # q = (rho I + D D^H)^{-1} (s - u), the Woodbury form of the solve
        if n_ch == 1:
            for j in range(n):
                f = b0 + j
                q[0, j] = (sf[0, f] - u[0, j]) / (rho_c + gram[f, 0, 0])
        else:
            for j in range(n):
                f = b0 + j
                for c in range(n_ch):
                    rhs[c] = sf[c, f] - u[c, j]
                # Cholesky of the Hermitian positive-definite rho I + G
                for r in range(n_ch):
                    for k in range(r + 1):
                        acc = gram[f, r, k]
                        if r == k:
                            acc += rho_c
                        for p in range(k):
                            acc -= chol[r, p] * np.conj(chol[k, p])
                        if r == k:
                            chol[r, r] = np.sqrt(acc.real)
                        else:
                            chol[r, k] = acc / chol[k, k].real
                for r in range(n_ch):          # forward: L z = rhs
                    acc = rhs[r]
                    for p in range(r):
                        acc -= chol[r, p] * rhs[p]
                    rhs[r] = acc / chol[r, r].real
                for r in range(n_ch - 1, -1, -1):  # backward: L^H q = z
                    acc = rhs[r]
                    for p in range(r + 1, n_ch):
                        acc -= np.conj(chol[p, r]) * rhs[p]
                    rhs[r] = acc / chol[r, r].real
                for c in range(n_ch):
                    q[c, j] = rhs[c]
        # x = w + D^H q ; v <- v + a (x - y) = v + a (y - v + D^H q)
        for m in range(n_filters):
            for j in range(n):
                f = b0 + j
                y = yf[m, f]
                v = y + (vf[m, f] - y) * irsf
                dq = np.conj(df[0, m, f]) * q[0, j]
                for c in range(1, n_ch):
                    dq += np.conj(df[c, m, f]) * q[c, j]
                vf[m, f] = v + a * (y - v + dq)


def _sigs_ystep():
    out = []
    for r in (nb.float32, nb.float64):
        arr = nb.types.Array(r, 1, "C")
        ro = nb.types.Array(r, 1, "C", readonly=True)
        out.append(nb.types.UniTuple(nb.float64, 5)(
            ro, arr, arr,                               # v, v_prev (in/out), y (in/out)
            nb.float64, nb.float64, nb.float64,         # threshold, inv_rsf, relaxation
            nb.boolean, nb.intp, nb.intp))              # positive, i0, i1
    return out


@nb.njit(_sigs_ystep(), cache=True, nogil=True, boundscheck=False, fastmath=_FAST)
def ystep(v, v_prev, y, threshold, inv_rsf, relax, positive, i0, i1):
    """Elements ``[i0, i1)``: ``y <- soft(v, threshold)`` (or its
    non-negative form) and the squared norms ``(|x|^2, |x - y|^2, |y|^2,
    |y_prev - y|^2, |v - y|^2)`` with ``x = (v - v_prev') / a + y_prev``
    the un-relaxed x-update and ``v_prev' = y_prev + (v_prev - y_prev)
    inv_rsf``; ``v_prev <- v`` for the next iteration. The norms are summed
    in float64."""
    dt = y.dtype
    t = dt.type(threshold)
    irsf = dt.type(inv_rsf)
    inv_a = dt.type(1.0 / relax)
    zero = dt.type(0.0)
    sx = 0.0
    sr = 0.0
    sy = 0.0
    ss = 0.0
    su = 0.0
    for i in range(i0, i1):
        vi = v[i]
        yo = y[i]
        vp = yo + (v_prev[i] - yo) * irsf
        v_prev[i] = vi
        x = (vi - vp) * inv_a + yo
        if positive:
            yn = max(vi - t, zero)
        else:
            mag = max(abs(vi) - t, zero)
            yn = mag if vi >= zero else -mag
        y[i] = yn
        xd = np.float64(x)
        yd = np.float64(yn)
        sx += xd * xd
        d = xd - yd
        sr += d * d
        sy += yd * yd
        d = np.float64(yo) - yd
        ss += d * d
        d = np.float64(vi) - yd
        su += d * d
    return sx, sr, sy, ss, su


def _sigs_gram():
    return [nb.void(nb.types.Array(c, 3, "C", readonly=True), nb.types.Array(c, 3, "C"))
            for c in (nb.complex64, nb.complex128)]


@nb.njit(_sigs_gram(), cache=True, nogil=True, boundscheck=False)
def channel_gram(df, out):
    """``out[f] = D_f D_f^H`` (``n_channels x n_channels``) for every frequency,
    ``D_f`` the ``(n_channels, n_filters)`` filter spectra at frequency ``f``."""
    n_ch, n_filters, n_freq = df.shape
    for f in range(n_freq):
        for r in range(n_ch):
            for k in range(n_ch):
                out[f, r, k] = 0
    for m in range(n_filters):
        for r in range(n_ch):
            for k in range(n_ch):
                for f in range(n_freq):
                    out[f, r, k] += df[r, m, f] * np.conj(df[k, m, f])
