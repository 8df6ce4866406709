"""The torch twin of TopTFrontend, with BPDA backward passes (paper 003, A.4-A.5)."""
import numpy as np
import torch
import torch.nn.functional as F

from sparsetools.image._patches import _check_stride, _pair, _positions

__all__ = ["TopTFrontendModule", "to_torch"]

_BACKWARDS = ("exact", "identity", "smooth")


class TopTFrontendModule(torch.nn.Module):
    """Top-T sign codes of NCHW image batches, as `TopTFrontend.transform`.

    The forward pass is the estimator's: correlations of every patch (a
    cross-correlation with the atoms, on the estimator's grid of positions,
    the last row and column touching the borders), the `n_top` largest
    magnitudes per position kept, then ``sign(c) * ||d_l||_1`` where ``|c|
    >= beta * epsilon * ||d_l||_1``; the output is ``(N, m * m * L)``,
    position by position then atom. Ties among equal magnitudes are broken
    by ``torch.topk``, which need not pick the lower atom index as the C
    kernel does.

    The backward pass is chosen by `backward`:

    - ``"exact"``: the true gradient, zero almost everywhere (the output is
      piecewise constant);
    - ``"identity"``: BPDA [2]_, the output's gradient passed to the
      correlations of the kept coefficients as if the activation were the
      identity;
    - ``"smooth"``: the gradient of ``||d_l||_1 * s(c / ||d_l||_1)`` on the
      kept coefficients, with ``s(u) = (tanh(k (u - t)) + tanh(k (u + t))) /
      2``, ``t = beta * epsilon`` and ``k`` = `steepness`: a smooth step from
      -1 to 1 with a dead zone at ``+-t``, as in Fig. 3 of [1]_ (which shows
      the curves, not the formula).

    With `top_u` (U >= T), the surrogate gradients flow through the U
    largest coefficients instead of the T kept ones [1]_ (A.5).

    Parameters
    ----------
    atoms : array-like of shape (n_components, ph * pw * c)
        The front end's atoms (pixels row by row, then channels).
    patch_size, stride : int or (int, int)
        As in `TopTFrontend`.
    n_top : int
        T.
    beta, epsilon : float
        The activation's threshold ``beta * epsilon * ||d_l||_1``.
    backward : {"exact", "identity", "smooth"}, default="exact"
        The backward pass.
    steepness : float, default=4.0
        ``k`` of the smooth backward pass.
    top_u : int, default=None
        U for the surrogate gradients; None means T.

    References
    ----------
    .. [1] S. Gopalakrishnan et al., "Combating adversarial attacks using
       sparse representations", 2018 (``papers/003``).
    .. [2] A. Athalye, N. Carlini and D. Wagner, "Obfuscated gradients give a
       false sense of security", ICML 2018.
    """

    def __init__(self, atoms, patch_size, stride, n_top, beta, epsilon, *,
                 backward="exact", steepness=4.0, top_u=None):
        super().__init__()
        atoms = np.asarray(atoms)
        self.ph, self.pw = _pair(patch_size, "patch_size")
        self.stride = _check_stride(stride, self.ph, self.pw)
        n_atoms, n_values = atoms.shape
        if n_values % (self.ph * self.pw) != 0:
            raise ValueError(f"atoms have {n_values} values, not a multiple of the patch "
                             f"size {(self.ph, self.pw)}.")
        self.channels = n_values // (self.ph * self.pw)
        if backward not in _BACKWARDS:
            raise ValueError(f"backward must be one of {_BACKWARDS}; got {backward!r}.")
        if not 1 <= n_top <= n_atoms:
            raise ValueError(f"n_top must be in [1, {n_atoms}]; got {n_top}.")
        if top_u is not None and not n_top <= top_u <= n_atoms:
            raise ValueError(f"top_u must be in [n_top, {n_atoms}]; got {top_u}.")
        weight = atoms.reshape(n_atoms, self.ph, self.pw, self.channels).transpose(0, 3, 1, 2)
        self.register_buffer("weight", torch.as_tensor(np.ascontiguousarray(weight)))
        self.register_buffer("l1", torch.as_tensor(np.abs(atoms).sum(axis=1)))
        self.n_top, self.beta, self.epsilon = int(n_top), float(beta), float(epsilon)
        self.backward_mode, self.steepness = backward, float(steepness)
        self.top_u = None if top_u is None else int(top_u)

    def forward(self, x):
        """Codes ``(N, m * m * L)`` of images ``x`` of shape ``(N, C, H, W)``."""
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"x must have shape (N, {self.channels}, H, W); got "
                             f"{tuple(x.shape)}.")
        h, w = x.shape[2], x.shape[3]
        ys = torch.as_tensor(_positions(h, self.ph, self.stride[0]), device=x.device)
        xs = torch.as_tensor(_positions(w, self.pw, self.stride[1]), device=x.device)
        weight, l1 = self.weight.to(x.dtype), self.l1.to(x.dtype)
        corr = F.conv2d(x, weight)[:, :, ys][:, :, :, xs].permute(0, 2, 3, 1)
        mag = corr.abs()
        kept = _top_mask(mag, self.n_top)
        threshold = self.beta * self.epsilon * l1
        active = kept & (mag >= threshold) & (mag > 0)
        hard = torch.where(active, torch.sign(corr) * l1, torch.zeros_like(corr))
        if self.backward_mode == "exact":
            out = hard
        else:
            through = kept if self.top_u is None else _top_mask(mag, self.top_u)
            if self.backward_mode == "identity":
                surrogate = corr
            else:
                t, k = self.beta * self.epsilon, self.steepness
                u = corr / l1
                surrogate = l1 * 0.5 * (torch.tanh(k * (u - t)) + torch.tanh(k * (u + t)))
            surrogate = torch.where(through, surrogate, torch.zeros_like(surrogate))
            out = hard.detach() + surrogate - surrogate.detach()
        return out.reshape(x.shape[0], -1)


def _top_mask(mag, n):
    """Boolean mask of the n largest entries along the last axis."""
    idx = torch.topk(mag, n, dim=-1).indices
    return torch.zeros_like(mag, dtype=torch.bool).scatter(-1, idx, True)


# to_torch lives in _twins (it dispatches to every twin); re-exported here for
# the modules that import it from this one.
from sparsetools.torch._twins import to_torch  # noqa: E402
