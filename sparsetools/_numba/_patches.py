"""Sum of overlapping patches into their images, the heart of patch averaging."""
import numba as nb

__all__ = ["add_patches"]

_SIGNATURES = [
    nb.void(nb.types.Array(t, 6, "C", readonly=True), nb.intp[::1], nb.intp[::1],
            nb.types.Array(t, 4, "C"))
    for t in (nb.float32, nb.float64)
]


@nb.njit(_SIGNATURES, cache=True, nogil=True, boundscheck=False)
def add_patches(patches, ys, xs, out):
    """out[i, ys[a] + dy, xs[b] + dx, ch] += patches[i, a, b, dy, dx, ch].

    patches : (n, len(ys), len(xs), ph, pw, c); out : (n, h, w, c). The
    callers check that every patch fits; nothing is checked here.
    """
    n, ny, nx, ph, pw, c = patches.shape
    for i in range(n):
        for a in range(ny):
            y0 = ys[a]
            for b in range(nx):
                x0 = xs[b]
                for dy in range(ph):
                    for dx in range(pw):
                        for ch in range(c):
                            out[i, y0 + dy, x0 + dx, ch] += patches[i, a, b, dy, dx, ch]
