"""The torch twin of SparseCoder: codes whose gradient is exact on their support."""
import numpy as np
import torch

__all__ = ["SparseCoderModule"]

_SUPPORTED = ("omp", "ormp", "lasso_lars", "lasso_cd", "fista", "threshold")


class SparseCoderModule(torch.nn.Module):
    """Codes of rows ``(N, n_features)`` as a fitted `SparseCoder` computes them.

    The forward pass runs the estimator (its compiled coder) to find each
    row's support, then recomputes the coefficients on it in torch:

    - OMP / ORMP: ``a_S = (D_S D_S^T)^{-1} D_S x``, the least-squares
      solution on the support (what OMP returns);
    - lasso (``lasso_lars``, ``lasso_cd``, ``fista``): ``a_S = (D_S
      D_S^T)^{-1} (D_S x - alpha s_S)`` with ``s_S`` the signs, the
      optimality condition of the lasso on its support and signs;
    - threshold: the soft threshold of ``D x`` (differentiable as it is).

    So the values equal the estimator's (to the solver's tolerance) and the
    backward pass is the exact gradient wherever the support and signs do
    not change, which is almost everywhere for the greedy and lasso coders.

    Parameters
    ----------
    coder : SparseCoder
        Fitted (or fittable without data: its dictionary is fixed).
    """

    def __init__(self, coder):
        super().__init__()
        if coder.algorithm not in _SUPPORTED:
            raise ValueError(f"algorithm {coder.algorithm!r} has no torch twin; supported: "
                             f"{_SUPPORTED}.")
        self.coder = coder
        D = np.asarray(coder._dictionary(), dtype=np.float64)
        self.register_buffer("D", torch.as_tensor(D))
        self.algorithm = coder.algorithm
        self.alpha = 1.0 if coder.alpha is None else float(coder.alpha)
        self.positive = bool(coder.positive)

    def forward(self, x):
        """Codes ``(N, n_components)`` of ``x`` ``(N, n_features)``."""
        if x.ndim != 2 or x.shape[1] != self.D.shape[1]:
            raise ValueError(f"x must have shape (N, {self.D.shape[1]}); got "
                             f"{tuple(x.shape)}.")
        D = self.D.to(x.dtype)
        corr = x @ D.T
        if self.algorithm == "threshold":
            shrunk = torch.clamp(corr.abs() - self.alpha, min=0.0) * torch.sign(corr)
            return torch.clamp(shrunk, min=0.0) if self.positive else shrunk
        dtype = np.float32 if x.dtype == torch.float32 else np.float64
        codes = self.coder.transform(x.detach().cpu().numpy().astype(dtype))
        out = torch.zeros_like(corr)
        rows = []
        for i, row in enumerate(codes):
            support = np.flatnonzero(row)
            if support.size == 0:
                rows.append(out[i])
                continue
            S = torch.as_tensor(support, device=x.device)
            DS = D[S]
            rhs = corr[i, S]
            if self.algorithm not in ("omp", "ormp"):
                rhs = rhs - self.alpha * torch.as_tensor(np.sign(row[support]), dtype=x.dtype,
                                                         device=x.device)
            coef = torch.linalg.solve(DS @ DS.T, rhs)
            rows.append(torch.zeros_like(out[i]).index_put((S,), coef))
        return torch.stack(rows)
