"""The torch twin of DictionaryDenoiser: patch projections on the OMP supports."""
import numpy as np
import torch
import torch.nn.functional as F

from sparsetools.torch._images import ImageLayout, bpda_forward, check_backward

__all__ = ["DictionaryDenoiserModule"]

#: Patches whose supports are found by one call of the coder.
_CHUNK = 8192


class DictionaryDenoiserModule(torch.nn.Module):
    """Denoised images, as a fitted `DictionaryDenoiser` computes them.

    Input and output: NCHW tensors ``(N, C, H, W)``, or, for a denoiser
    with `image_shape` (as in a ``Pipeline``), rows ``(N, h * w * c)`` of
    flattened channels-last images, as its `transform` takes them; the
    output has the layout and float dtype of the input.

    With ``backward="exact"`` the forward pass runs the estimator's OMP on
    every patch (the same patches, means removed, and the same coding plan
    as `transform`) to find each patch's support ``S``, then recomputes in
    torch what `transform` computes from it: the patches (``unfold`` on the
    estimator's grid of positions, the last row and column touching the
    borders), their means per channel, the reconstruction of each centred
    patch ``p`` by OMP's least-squares solution on its support, ``D_S^T
    (D_S D_S^T)^{-1} D_S p``, the means added back, and the average of the
    overlapping patches (``fold`` divided by the coverage). The values equal
    `transform`'s to rounding, and the backward pass is the exact gradient
    wherever no patch's support changes (almost everywhere: the map is then
    linear, a projection per patch).

    With ``backward="identity"`` (BPDA) the forward pass is the estimator's
    own ``transform`` and the backward pass returns the upstream gradient
    unchanged.

    Parameters
    ----------
    denoiser : DictionaryDenoiser
        Fitted.
    backward : {"exact", "identity"}, default="exact"
        The backward pass.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skimage import data
    >>> from sparsetools import DictionaryDenoiser
    >>> from sparsetools.torch import to_torch
    >>> img = data.camera()[100:132, 100:132] / 255.0
    >>> den = DictionaryDenoiser(patch_size=4, stride=2, n_components=16, sigma=0.05,
    ...                          max_iter=1, random_state=0).fit(img)
    >>> x = torch.tensor(img[None, None], requires_grad=True)  # NCHW
    >>> out = to_torch(den)(x)
    >>> out.shape
    torch.Size([1, 1, 32, 32])
    >>> bool(np.abs(out.detach().numpy()[0, 0] - den.transform(img)).max() < 1e-10)
    True
    >>> out.sum().backward()
    >>> x_id = torch.tensor(img[None, None], requires_grad=True)
    >>> to_torch(den, backward="identity")(x_id).sum().backward()
    >>> bool(torch.all(x_id.grad == 1))
    True
    """

    def __init__(self, denoiser, *, backward="exact"):
        super().__init__()
        from sklearn.utils.validation import check_is_fitted

        from sparsetools.image._patches import _check_stride, _pair

        check_backward(backward, ("exact", "identity"), "DictionaryDenoiser")
        check_is_fitted(denoiser)
        self.denoiser = denoiser
        self.backward_mode = backward
        self.ph, self.pw = _pair(denoiser.patch_size, "patch_size")
        self.stride = _check_stride(denoiser.stride, self.ph, self.pw)
        D = np.asarray(denoiser.components_, dtype=np.float64)
        n_atoms, n_values = D.shape
        self.channels = n_values // (self.ph * self.pw)
        self.layout = ImageLayout(denoiser.image_shape, denoiser.color, self.channels)
        self.remove_mean = bool(denoiser.remove_mean)
        # atoms in unfold's order: channel, then pixels row by row
        self.register_buffer("D", torch.as_tensor(D))
        unfolded = D.reshape(n_atoms, self.ph, self.pw, self.channels).transpose(0, 3, 1, 2)
        self.register_buffer("D_unfold", torch.as_tensor(
            np.ascontiguousarray(unfolded.reshape(n_atoms, n_values))))

    def forward(self, x):
        """Denoised images of `x` (NCHW, or rows with `image_shape`), same layout."""
        nchw, rows = self.layout.to_nchw(x)
        if self.backward_mode == "identity":
            return self.layout.restore(bpda_forward(self.layout, self.denoiser, nchw), rows)
        return self.layout.restore(self._exact(nchw), rows)

    def _supports(self, nchw):
        """The OMP codes of every patch `transform` codes, (n * ny * nx, n_atoms),
        images first, then patch rows, then columns."""
        from numpy.lib.stride_tricks import sliding_window_view

        from sparsetools.coding._dispatch import run_coder
        from sparsetools.image._denoise import patch_coding_plan, remove_patch_means
        from sparsetools.image._layout import estimator_images
        from sparsetools.image._patches import _positions

        est = self.denoiser
        images, _ = estimator_images(est, self.layout.numpy_input(nchw), reset=False)
        n, h, w, c = images.shape
        if self.ph > h or self.pw > w:
            raise ValueError(f"x has images of size {(h, w)}, smaller than the patch_size "
                             f"{(self.ph, self.pw)}.")
        D = est.components_.astype(images.dtype, copy=False)
        plan, _ = patch_coding_plan(D.shape[0], D.shape[1], sigma=est.sigma, tol=est.tol,
                                    n_nonzero_coefs=est.n_nonzero_coefs,
                                    n_means=c if self.remove_mean else 0, n_jobs=est.n_jobs)
        ys, xs = _positions(h, self.ph, self.stride[0]), _positions(w, self.pw, self.stride[1])
        windows = sliding_window_view(images, (self.ph, self.pw, c), axis=(1, 2, 3))
        P = windows[:, :, :, 0][:, ys][:, :, xs].reshape(-1, self.ph * self.pw * c)
        codes = []
        for start in range(0, P.shape[0], _CHUNK):
            chunk = np.ascontiguousarray(P[start:start + _CHUNK])
            if self.remove_mean:
                remove_patch_means(chunk, c)
            codes.append(run_coder(plan, chunk, D))
        return np.concatenate(codes), ys, xs

    def _exact(self, x):
        from sparsetools.image._patches import _coverage

        codes, ys, xs = self._supports(x)
        n, c, h, w = x.shape
        ph, pw = self.ph, self.pw
        ny_full, nx_full = h - ph + 1, w - pw + 1
        where = torch.as_tensor((ys[:, None] * nx_full + xs[None, :]).ravel(), device=x.device)
        cols = F.unfold(x, (ph, pw))[:, :, where]                 # (n, c*ph*pw, m)
        m = cols.shape[2]
        patches = cols.permute(0, 2, 1).reshape(n * m, c, ph * pw)
        if self.remove_mean:
            means = patches.mean(dim=2, keepdim=True)
            patches = patches - means
        patches = patches.reshape(n * m, c * ph * pw)
        recon = _project_on_supports(patches, codes, self.D_unfold.to(x.dtype))
        if self.remove_mean:
            recon = (recon.reshape(n * m, c, ph * pw) + means).reshape(n * m, c * ph * pw)
        recon = recon.reshape(n, m, c * ph * pw).permute(0, 2, 1)
        full = recon.new_zeros((n, c * ph * pw, ny_full * nx_full)).index_copy(2, where, recon)
        sums = F.fold(full, (h, w), (ph, pw))
        counts = np.multiply.outer(_coverage(ys, ph, h), _coverage(xs, pw, w))
        return sums / torch.as_tensor(counts, dtype=x.dtype, device=x.device)


def _project_on_supports(patches, codes, D):
    """``D_S^T (D_S D_S^T)^{-1} D_S p`` for each row ``p`` of `patches`, ``S``
    the non-zeros of its row of `codes`; rows grouped by support size so the
    solves are batched."""
    out = torch.zeros_like(patches)
    nnz = np.count_nonzero(codes, axis=1)
    for k in np.unique(nnz):
        if k == 0:
            continue
        rows = np.flatnonzero(nnz == k)
        support = np.nonzero(codes[rows])[1].reshape(len(rows), k)
        rows_t = torch.as_tensor(rows, device=patches.device)
        DS = D[torch.as_tensor(support, device=patches.device)]          # (r, k, n)
        p = patches[rows_t]
        coef = torch.linalg.solve(DS @ DS.transpose(1, 2), (DS @ p[:, :, None]))
        out = out.index_copy(0, rows_t, (DS.transpose(1, 2) @ coef)[:, :, 0])
    return out
