"""Torch twins of ConvSparseCoder and StratifiedConvSparseCoder."""
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from sparsetools.torch._images import ImageLayout, bpda_forward, check_backward

__all__ = ["ConvSparseCoderModule", "StratifiedConvSparseCoderModule"]

#: Relative residual ``||A z - b|| / ||b||`` at which conjugate gradients stop.
_CG_TOL = 1e-12
#: Relative residual above which a conjugate-gradient solve that ran out of
#: iterations warns.
_CG_WARN = 1e-8


def _tikhonov_low(x, reg, n_pad):
    """The low-pass part of NCHW images `x`, as :func:`tikhonov_split` computes
    it: mirror padding (numpy's "symmetric"), the closed-form Tikhonov filter
    in the Fourier domain, the crop. Linear in `x`."""
    n, c, h, w = x.shape
    iy = torch.as_tensor(np.pad(np.arange(h), n_pad, mode="symmetric"), device=x.device)
    ix = torch.as_tensor(np.pad(np.arange(w), n_pad, mode="symmetric"), device=x.device)
    padded = x.index_select(2, iy).index_select(3, ix)
    ph, pw = padded.shape[2:]
    wy = 4.0 * np.sin(np.pi * np.arange(ph) / ph) ** 2
    wx = 4.0 * np.sin(np.pi * np.arange(pw // 2 + 1) / pw) ** 2
    gain = torch.as_tensor(1.0 / (1.0 + reg * (wy[:, None] + wx[None, :])),
                           device=x.device).to(x.dtype)
    low = torch.fft.irfft2(torch.fft.rfft2(padded) * gain, s=(ph, pw))
    return low[:, :, n_pad:n_pad + h, n_pad:n_pad + w]


class _Convolutions:
    """Circular convolutions with the filters on a grid, in float64: the
    synthesis ``F z = sum_i f_i * z_i`` and its adjoint (correlations)."""

    def __init__(self, filters, grid):
        c, m, fh, fw = filters.shape
        padded = filters.new_zeros((c, m) + tuple(grid))
        padded[:, :, :fh, :fw] = filters
        self.spectra = torch.fft.rfft2(padded)                     # (c, m, H, W//2+1)
        self.grid = tuple(grid)

    def synth(self, z):
        """``(n, m, H, W)`` maps to ``(n, c, H, W)`` images."""
        sf = torch.einsum("cmhw,nmhw->nchw", self.spectra, torch.fft.rfft2(z))
        return torch.fft.irfft2(sf, s=self.grid)

    def adjoint(self, r):
        """``(n, c, H, W)`` images to ``(n, m, H, W)`` correlation maps."""
        zf = torch.einsum("cmhw,nchw->nmhw", self.spectra.conj(), torch.fft.rfft2(r))
        return torch.fft.irfft2(zf, s=self.grid)

    def normal(self, v, mask):
        """``F_S^T F_S v`` for maps `v` zero off the support `mask`."""
        return mask * self.adjoint(self.synth(mask * v))


def _dot(a, b):
    return (a * b).flatten(1).sum(1)


def _cg(conv, mask, rhs, x0):
    """Solve ``F_S^T F_S z = rhs`` per image by conjugate gradients, from x0."""
    shape = (-1,) + (1,) * (rhs.ndim - 1)
    x = x0 * mask
    r = rhs - conv.normal(x, mask)
    p = r.clone()
    rs = _dot(r, r)
    target = (_CG_TOL * torch.sqrt(_dot(rhs, rhs))) ** 2
    max_iter = 10 * int(mask.flatten(1).sum(1).max().item()) + 50
    for _ in range(max_iter):
        if bool((rs <= target).all()):
            break
        Ap = conv.normal(p, mask)
        pAp = _dot(p, Ap)
        step = torch.where(pAp > 0, rs / torch.where(pAp > 0, pAp, 1.0), 0.0)
        x = x + step.reshape(shape) * p
        r = r - step.reshape(shape) * Ap
        rs_new = _dot(r, r)
        p = r + torch.where(rs > 0, rs_new / torch.where(rs > 0, rs, 1.0), 0.0).reshape(shape) * p
        rs = rs_new
    worst = float(torch.sqrt(rs / torch.clamp(target / _CG_TOL ** 2, min=1e-300)).max())
    if worst > _CG_WARN:
        warnings.warn(f"conjugate gradients on the CBPDN support stopped after {max_iter} "
                      f"iterations at a relative residual of {worst:.3g}; the support's "
                      "system is ill-conditioned and the twin's codes may differ from the "
                      "estimator's.", ConvergenceWarning, stacklevel=4)
    return x


class _SupportSolve(torch.autograd.Function):
    """Codes ``z_S = (F_S^T F_S)^{-1} (F_S^T s - alpha sign_S)`` on a fixed support
    and signs (the lasso's optimality condition there), with the implicit
    backward ``ds = F_S (F_S^T F_S)^{-1} dz_S``."""

    @staticmethod
    def forward(ctx, s, conv, mask, signs, alpha, x0):
        rhs = mask * (conv.adjoint(s) - alpha * signs)
        ctx.conv, ctx.mask = conv, mask
        return _cg(conv, mask, rhs, x0)

    @staticmethod
    def backward(ctx, grad):
        w = _cg(ctx.conv, ctx.mask, ctx.mask * grad, torch.zeros_like(grad))
        return ctx.conv.synth(w), None, None, None, None, None


def _conv_exact(nchw, est, filters_t, images_np):
    """The twin's exact forward for the images `nchw` (their numpy layout
    `images_np`, ``(n, h, w, c)``), with the filters ``(c, m, fh, fw)``."""
    from sparsetools.convolutional._coder import project
    from sparsetools.convolutional._layout import padded_shape

    n, c, h, w = nchw.shape
    fh, fw = filters_t.shape[2:]
    grid = padded_shape((h, w), (fh, fw), est.boundary)
    filters_np = filters_t.cpu().numpy().transpose(1, 2, 3, 0)
    if not est.color:
        filters_np = filters_np[..., 0]
    _, codes = project(est, images_np, filters_np.astype(images_np.dtype))
    codes = torch.as_tensor(np.ascontiguousarray(codes.transpose(0, 3, 1, 2)),
                            dtype=torch.float64, device=nchw.device)
    low = _tikhonov_low(nchw, float(est.lowpass_reg), 16)
    high = (nchw - low).to(torch.float64)
    s = torch.nn.functional.pad(high, (0, grid[1] - w, 0, grid[0] - h))
    conv = _Convolutions(filters_t, grid)
    mask = (codes != 0).to(torch.float64)
    z = _SupportSolve.apply(s, conv, mask, torch.sign(codes), float(est.alpha), codes)
    rec = conv.synth(z)[:, :, :h, :w]
    return low + rec.to(nchw.dtype)


def _filters_tensor(filters):
    f = np.asarray(filters, dtype=np.float64)
    if f.ndim == 3:
        f = f[..., None]
    return torch.as_tensor(np.ascontiguousarray(f.transpose(3, 0, 1, 2)))


class ConvSparseCoderModule(torch.nn.Module):
    """Projections of images, as a fitted `ConvSparseCoder` computes them.

    Input and output: NCHW tensors ``(N, C, H, W)``, or, for a coder with
    `image_shape` (as in a ``Pipeline``), rows ``(N, h * w * c)`` of
    flattened channels-last images, as its `transform` takes them; the
    output has the layout and float dtype of the input.

    With ``backward="exact"``, the forward pass computes in torch:

    - the low-pass part ``L s`` (:func:`tikhonov_split`: mirror padding,
      the Tikhonov filter in the Fourier domain, crop), linear;
    - the codes of the high-pass part ``h = s - L s``: the support ``S``
      and signs ``sigma`` come from the estimator's CBPDN solver
      (:func:`conv_bpdn`, with its `transform_tol` and
      `transform_max_iter`), and the values from the lasso's optimality
      condition on that support, ``(F_S^T F_S) z_S = F_S^T h - alpha
      sigma``, ``F`` the circular convolution with the filters (on the
      padded grid with ``boundary="zero"``), solved in float64 by conjugate
      gradients with FFT-based products, warm-started at the solver's codes,
      to a relative residual of 1e-12;
    - the projection ``L s + F z`` (cropped with ``boundary="zero"``).

    Where the solver has converged, its codes are the optimum, whose
    support and signs give back the same values, so the output equals
    `transform`'s up to the solver's tolerance: the twin's values are the
    exact optimum on that support, the estimator's are ADMM iterates
    stopped at `transform_tol`, and the two differ by about that tolerance
    (on 8x8 digits: 1e-3 with the default 1e-3, 1e-8 with 1e-8 and a few
    thousand iterations; float32 ADMM stops improving near 5e-7). The
    support itself can differ where the solver has not converged or a
    coefficient sits at the threshold. The backward pass is exact for this
    map: the low-pass split and the synthesis by autograd, the codes by the
    implicit gradient ``dh = F_S (F_S^T F_S)^{-1} dz_S`` (another
    conjugate-gradient solve), which is the gradient of the CBPDN codes
    wherever a small change of the image keeps the support and signs.

    With ``backward="identity"`` (BPDA) the forward pass is the estimator's
    own ``transform`` and the backward pass returns the upstream gradient
    unchanged.

    Parameters
    ----------
    coder : ConvSparseCoder
        Fitted.
    backward : {"exact", "identity"}, default="exact"
        The backward pass.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import load_digits
    >>> from sparsetools.convolutional import ConvSparseCoder
    >>> from sparsetools.torch import to_torch
    >>> X = load_digits().data[:20] / 16.0
    >>> stl = ConvSparseCoder(n_filters=4, filter_size=3, alpha=0.1, max_iter=3,
    ...                       batch_size=4, transform_tol=1e-8, transform_max_iter=3000,
    ...                       image_shape=(8, 8), random_state=0).fit(X)
    >>> x = torch.tensor(X[:2], requires_grad=True)              # rows, as transform
    >>> out = to_torch(stl)(x)
    >>> bool(np.abs(out.detach().numpy() - stl.transform(X[:2])).max() < 1e-5)
    True
    >>> out.sum().backward(); x.grad.shape
    torch.Size([2, 64])
    """

    def __init__(self, coder, *, backward="exact"):
        super().__init__()
        from sklearn.utils.validation import check_is_fitted

        check_backward(backward, ("exact", "identity"), type(coder).__name__)
        check_is_fitted(coder, "filters_")
        self.coder = coder
        self.backward_mode = backward
        self.register_buffer("filters", _filters_tensor(coder.filters_))
        self.layout = ImageLayout(coder.image_shape, coder.color, self.filters.shape[0])

    def forward(self, x):
        """Projections of `x` (NCHW, or rows with `image_shape`), same layout."""
        nchw, rows = self.layout.to_nchw(x)
        if self.backward_mode == "identity":
            return self.layout.restore(bpda_forward(self.layout, self.coder, nchw), rows)
        images, _ = _images(self.coder, self.layout, nchw)
        return self.layout.restore(_conv_exact(nchw, self.coder, self.filters, images), rows)


def _images(est, layout, nchw):
    from sparsetools.image._layout import estimator_images

    images, restore = estimator_images(est, layout.numpy_input(nchw), reset=False)
    fh, fw = _filter_size(est)
    if fh > images.shape[1] or fw > images.shape[2]:
        raise ValueError(f"x has images of size {images.shape[1:3]}, smaller than the "
                         f"filters {(fh, fw)}.")
    return images, restore


def _filter_size(est):
    filters = est.filters_ if not isinstance(est.filters_, list) else est.filters_[0]
    return filters.shape[1], filters.shape[2]


class StratifiedConvSparseCoderModule(torch.nn.Module):
    """Projections of images, as a fitted `StratifiedConvSparseCoder` computes them.

    Each image is routed as the estimator routes it (its
    ``predict_cluster``: down-sampled features, PCA, nearest-neighbour
    vote), then projected by the twin of a `ConvSparseCoder` with that
    cluster's filters (see :class:`ConvSparseCoderModule` for the layouts,
    the forward pass and how it can differ from `transform`). The routing
    is piecewise constant: with ``backward="exact"`` no gradient flows
    through it (its true gradient, zero wherever the route does not
    change), and the gradient is the chosen cluster's exact one.
    ``backward="identity"`` is BPDA: the estimator's own ``transform``
    forward, the upstream gradient backward.

    Parameters
    ----------
    coder : StratifiedConvSparseCoder
        Fitted.
    backward : {"exact", "identity"}, default="exact"
        The backward pass.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import load_digits
    >>> from sparsetools.convolutional import StratifiedConvSparseCoder
    >>> from sparsetools.torch import to_torch
    >>> X = load_digits().data[:40] / 16.0
    >>> stl = StratifiedConvSparseCoder(n_clusters=2, n_filters=4, filter_size=3,
    ...                                 alpha=0.1, max_iter=3, batch_size=4,
    ...                                 transform_tol=1e-8, transform_max_iter=3000,
    ...                                 image_shape=(8, 8), random_state=0).fit(X)
    >>> out = to_torch(stl)(torch.as_tensor(X[:3]))
    >>> bool(np.abs(out.numpy() - stl.transform(X[:3])).max() < 1e-5)
    True
    """

    def __init__(self, coder, *, backward="exact"):
        super().__init__()
        from sklearn.utils.validation import check_is_fitted

        check_backward(backward, ("exact", "identity"), type(coder).__name__)
        check_is_fitted(coder, "filters_")
        self.coder = coder
        self.backward_mode = backward
        for i, f in enumerate(coder.filters_):
            self.register_buffer(f"filters{i}", _filters_tensor(f))
        self.n_clusters = len(coder.filters_)
        self.layout = ImageLayout(coder.image_shape, coder.color, self.filters0.shape[0])

    def forward(self, x):
        """Projections of `x` (NCHW, or rows with `image_shape`), same layout."""
        nchw, rows = self.layout.to_nchw(x)
        if self.backward_mode == "identity":
            return self.layout.restore(bpda_forward(self.layout, self.coder, nchw), rows)
        images, _ = _images(self.coder, self.layout, nchw)
        routes = self.coder.predict_cluster(self.layout.numpy_input(nchw))
        out = torch.zeros_like(nchw)
        for c in np.unique(routes):
            idx = np.flatnonzero(routes == c)
            idx_t = torch.as_tensor(idx, device=nchw.device)
            part = _conv_exact(nchw[idx_t], self.coder, getattr(self, f"filters{c}"),
                               images[idx])
            out = out.index_copy(0, idx_t, part)
        return self.layout.restore(out, rows)
