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


# --------------------------------------------------------------------------
# Lasso
# --------------------------------------------------------------------------
#
# The Lasso code of one signal ``x`` on a dictionary ``D`` (atoms as rows)
# minimises ``0.5 * ||x - a @ D||^2 + alpha * ||a||_1`` (SPAMS's ``lambda1``
# convention), optionally subject to ``a >= 0``. Its optimality (KKT)
# conditions, with the correlation ``c = D @ (x - a @ D)``:
#
# * ``c_j = alpha * sign(a_j)`` where ``a_j != 0``;
# * ``|c_j| <= alpha`` where ``a_j == 0`` (``c_j <= alpha`` when positive).

__all__ += ["lasso_objective", "lasso_duality_gap", "lasso_kkt_violation",
            "lasso_reference"]


def lasso_objective(X, D, codes, alpha):
    """Per row, ``0.5 * ||x - a @ D||^2 + alpha * ||a||_1``, computed in float64.

    `alpha` is a scalar or one value per row.
    """
    X, D, codes = (np.asarray(A, dtype=np.float64) for A in (X, D, codes))
    residual = X - codes @ D
    return 0.5 * np.sum(residual ** 2, axis=-1) + alpha * np.sum(np.abs(codes), axis=-1)


def lasso_duality_gap(x, D, code, alpha, positive=False):
    """Duality gap of the code ``code`` of one signal (float64, >= 0 up to rounding).

    The dual of the Lasso is ``max_nu 0.5 ||x||^2 - 0.5 ||x - nu||^2`` subject
    to ``|D nu| <= alpha`` (``D nu <= alpha`` when positive); the dual point
    is the residual scaled into the feasible set.
    """
    x, D, code = (np.asarray(A, dtype=np.float64) for A in (x, D, code))
    residual = x - code @ D
    c = D @ residual
    c_max = float(np.max(c)) if positive else float(np.max(np.abs(c)))
    scale = 1.0 if c_max <= alpha else alpha / c_max
    nu = scale * residual
    primal = 0.5 * float(residual @ residual) + alpha * float(np.sum(np.abs(code)))
    dual = 0.5 * float(x @ x) - 0.5 * float((x - nu) @ (x - nu))
    return primal - dual


def lasso_kkt_violation(X, D, codes, alpha, positive=False):
    """Per row, the largest violation of the Lasso optimality conditions.

    Computed in float64 and relative to ``||x|| * max_j ||d_j||``, the
    largest correlation a signal can have with an atom (1 for unit-norm
    signals and atoms); zero rows give zero. Negative coefficients count as
    violations by their magnitude (scaled the same way) when `positive`.
    `alpha` is a scalar or one value per row.
    """
    X, D, codes = (np.atleast_2d(np.asarray(A, dtype=np.float64)) for A in (X, D, codes))
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.ndim == 1:
        alpha = alpha[:, None]
    C = (X - codes @ D) @ D.T
    on = codes != 0
    target = alpha * np.sign(codes)
    if positive:
        off_violation = np.maximum(C - alpha, 0.0)
    else:
        off_violation = np.maximum(np.abs(C) - alpha, 0.0)
    violation = np.where(on, np.abs(C - target), off_violation)
    if positive:
        violation = np.maximum(violation, np.maximum(-codes, 0.0))
    scale = np.linalg.norm(X, axis=1) * np.max(np.linalg.norm(D, axis=1))
    scale = np.where(scale > 0, scale, 1.0)
    return np.max(violation, axis=1) / scale


def lasso_reference(x, D, alpha, positive=False, *, rtol=1e-14, max_sweeps=200_000):
    """Lasso code of one signal by cyclic coordinate descent on the Gram matrix.

    Sweeps until the duality gap is at most ``rtol * 0.5 * ||x||^2`` (the
    objective of the zero code). Whenever the gap is below ``1e-4`` of that,
    the code is also "polished": the KKT equations on the current support
    and signs, ``G_SS a_S = (D x)_S - alpha * sign(a_S)``, are solved
    directly (minimum-norm least squares, so duplicated atoms share their
    coefficient) and the result kept when it has the same signs and meets
    every optimality condition, which makes the coefficients exact to
    rounding (see :func:`_polish`). Tiny problems only: it loops over
    coordinates in Python.
    """
    x = np.asarray(x, dtype=np.float64)
    D = np.asarray(D, dtype=np.float64)
    n_components = D.shape[0]
    G = D @ D.T
    corr = D @ x
    code = np.zeros(n_components)
    energy = 0.5 * float(x @ x)
    if energy == 0.0:
        return code
    for _ in range(max_sweeps):
        for j in range(n_components):
            if G[j, j] == 0.0:
                continue
            z = corr[j] - G[j] @ code + G[j, j] * code[j]
            if positive:
                code[j] = max(z - alpha, 0.0) / G[j, j]
            else:
                code[j] = np.sign(z) * max(abs(z) - alpha, 0.0) / G[j, j]
        gap = lasso_duality_gap(x, D, code, alpha, positive)
        if gap <= 1e-4 * energy:
            polished = _polish(x, D, G, corr, code, alpha, positive)
            if polished is not None:
                return polished
        if gap <= rtol * energy:
            return code
    raise RuntimeError(f"lasso_reference did not converge: duality gap {gap:.3e}")


def _polish(x, D, G, corr, code, alpha, positive):
    """The exact solution on the support of `code`, or None when it is not optimal.

    When the support holds more atoms than its rank (more atoms than
    features), coordinate descent drifts slowly along the null space towards
    the face where one coefficient vanishes: the supports without one of the
    atoms are tried too.
    """
    support = np.flatnonzero(code)
    candidates = [support]
    if support.size and np.linalg.matrix_rank(G[np.ix_(support, support)]) < support.size:
        candidates += [np.delete(support, i) for i in range(support.size)]
    for subset in candidates:
        polished = np.zeros_like(code)
        if subset.size:
            signs = np.sign(code[subset])
            coef = np.linalg.lstsq(G[np.ix_(subset, subset)],
                                   corr[subset] - alpha * signs, rcond=None)[0]
            if np.any(np.sign(coef) != signs):
                continue
            polished[subset] = coef
        if lasso_kkt_violation(x, D, polished, alpha, positive)[0] <= 1e-12:
            return polished
    return None
