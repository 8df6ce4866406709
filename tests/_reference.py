"""Plain NumPy reference implementations of OMP and ORMP, written for the tests.

They favour clarity over speed: every step recomputes the least-squares fit
on the current support from scratch (``numpy.linalg.lstsq``) and, for ORMP,
projects every candidate atom explicitly off the span of the support
(Gram-Schmidt against an orthonormal basis from a QR factorisation). The
dictionary holds one atom per row, as in :func:`sparsetools.orthogonal_mp`.

Both return the dense code ``a`` of one signal ``x`` (``x ~= a @ D``) and
follow the contract of :func:`sparsetools.orthogonal_mp`:

* at most ``k`` atoms;
* stop before adding an atom once ``||x - a @ D||^2 <= tol`` (when `tol` is
  given);
* stop when the residual is zero to working precision or when every
  remaining atom lies in the span of the selected ones;
* ties go to the first index (``numpy.argmax``).
"""
import numpy as np

__all__ = ["omp_reference", "ormp_reference"]

#: An atom is a candidate while the squared norm of its part orthogonal to
#: the support exceeds this fraction of its squared norm.
_DEPENDENT = 1e-9
#: The residual counts as zero once its squared norm is below this fraction
#: of the signal's squared norm.
_ZERO_RESIDUAL = 1e-24


def omp_reference(x, D, k, tol=None):
    """Classic OMP: add the atom most correlated with the residual, ``argmax |D r|``."""
    return _greedy(x, D, k, tol, rule="omp")


def ormp_reference(x, D, k, tol=None):
    """Order-recursive OMP: add the atom whose addition leaves the smallest residual.

    With ``p_j`` the part of atom ``d_j`` orthogonal to the support, the new
    residual norm is ``||r||^2 - <r, p_j>^2 / ||p_j||^2``, so the rule is
    ``argmax <r, p_j>^2 / ||p_j||^2``.
    """
    return _greedy(x, D, k, tol, rule="ormp")


def _greedy(x, D, k, tol, rule):
    x = np.asarray(x, dtype=np.float64)
    D = np.asarray(D, dtype=np.float64)
    n_components, n_features = D.shape
    code = np.zeros(n_components)
    support = []
    residual = x.copy()
    x_norm2 = float(x @ x)
    atom_norm2 = np.einsum("ij,ij->i", D, D)
    for _ in range(k):
        r_norm2 = float(residual @ residual)
        if tol is not None and r_norm2 <= tol:
            break
        if r_norm2 <= _ZERO_RESIDUAL * x_norm2:
            break
        # Orthonormal basis Q (rows) of the span of the support.
        if support:
            Q = np.linalg.qr(D[support].T)[0].T
            projected = D - (D @ Q.T) @ Q
        else:
            projected = D.copy()
        proj_norm2 = np.einsum("ij,ij->i", projected, projected)
        candidate = proj_norm2 > _DEPENDENT * atom_norm2
        candidate[support] = False
        if not candidate.any():
            break
        if rule == "omp":
            score = np.abs(D @ residual)
        else:
            score = np.zeros(n_components)
            score[candidate] = (projected[candidate] @ residual) ** 2 / proj_norm2[candidate]
        score[~candidate] = -np.inf
        j = int(np.argmax(score))
        if score[j] <= 0:
            break
        support.append(j)
        coef = np.linalg.lstsq(D[support].T, x, rcond=None)[0]
        residual = x - coef @ D[support]
    if support:
        code[support] = coef
    return code
