"""How far a representation moves when its inputs are perturbed."""
import numpy as np

from sparsetools.utils._validation import check_option

__all__ = ["representation_distance"]

_SPREADS = ("reference", "pooled")


def representation_distance(A, B, *, spread="reference"):
    """Mean absolute change of paired activations, in units of their spread.

    The measure of Table 1 of Kim et al. [1]_: "the average difference
    between the neuron activations over the average standard deviation of
    the neuron activations". With ``A[i]`` the representation of input ``i``
    and ``B[i]`` that of its perturbed copy (``n`` pairs, ``m`` units)::

        delta = mean_{i, j} |A[i, j] - B[i, j]|  /  mean_j std_i(A[i, j])

    The numerator is the average, over inputs and units, of how much a unit's
    activation moves; the denominator is the average, over units, of how
    much a unit's activation varies from one input to another (population
    standard deviation, ``ddof=0``). It makes representations of different
    scales comparable: 0 means the perturbation changes nothing, 1 that it
    moves the activations as much as changing the input does on average.
    Multiplying both representations by a constant leaves it unchanged.

    The paper does not say whose spread it uses; by default it is that of
    the reference representation `A` (the clean inputs), so the distances of
    several perturbations of the same inputs share one denominator. With
    ``spread="pooled"`` it is the standard deviation over the rows of `A`
    and `B` together, which makes the measure symmetric in `A` and `B`.

    Parameters
    ----------
    A : array-like of shape (n_samples, ...)
        Reference representations, one row per input (e.g. codes of the
        clean inputs). Trailing dimensions (feature maps) are flattened.
    B : array-like of the same shape as `A`
        Representations of the perturbed inputs, row ``i`` paired with row
        ``i`` of `A`.
    spread : {"reference", "pooled"}, default="reference"
        Whose per-unit standard deviation is the denominator.

    Returns
    -------
    distance : float
        The distance, >= 0.

    Raises
    ------
    ValueError
        When the shapes differ, there are fewer than 2 rows, a value is NaN
        or infinite, or no unit varies across the inputs (the spread is 0).

    References
    ----------
    .. [1] J. Kim, Y. Watkins et al., "Classifiers based on deep sparse
       coding architectures are robust to deep learning transferable
       examples", 2018, section 4.3 and Table 1 (``papers/001``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.metrics import representation_distance
    >>> A = np.array([[0.0, 1.0], [2.0, 3.0]])   # each unit has std 1
    >>> representation_distance(A, A + 0.5)
    0.5
    >>> representation_distance(10 * A, 10 * (A + 0.5))
    0.5
    >>> representation_distance(A, A)
    0.0
    """
    spread = check_option(spread, "spread", _SPREADS)
    A, shape_a = _as_rows(A, "A")
    B, shape_b = _as_rows(B, "B")
    if shape_a != shape_b:
        raise ValueError(f"A and B must have the same shape (paired rows); got {shape_a} "
                         f"and {shape_b}.")
    change = float(np.mean(np.abs(A - B)))
    population = A if spread == "reference" else np.concatenate([A, B])
    scale = float(np.mean(np.std(population, axis=0)))
    if not scale > 0:
        who = "A does" if spread == "reference" else "A and B do"
        raise ValueError(f"{who} not vary across inputs (every unit's standard "
                         "deviation is zero): the distance is undefined.")
    return change / scale


def _as_rows(a, name):
    """(float64 array of shape (n_samples, n_units), finite; the original shape)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}.")
    if arr.ndim < 2:
        raise ValueError(f"{name} must have shape (n_samples, n_units, ...); got an "
                         f"array of shape {arr.shape}.")
    shape = arr.shape
    if shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 rows (inputs) for a standard deviation "
                         f"across inputs; got shape {shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} has no units (shape {shape}).")
    arr = arr.reshape(shape[0], -1).astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; every value must be finite.")
    return arr, shape
