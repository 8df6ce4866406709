"""Input validation shared by every public function and estimator.

One place for the dtype policy (float32 and float64 kept, everything else
becomes float64), for array checks whose messages name the parameter, and
for scalar hyper-parameter checks.
"""
import numbers

import numpy as np
import scipy.sparse as sp

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(*dtypes):
    """The floating dtype sparsetools computes in for inputs of these dtypes.

    float32 only when every input is float32; float64 otherwise (integers,
    booleans, float16, float64 and mixtures all give float64).
    """
    dts = [np.dtype(d) for d in dtypes]
    if dts and all(d == np.float32 for d in dts):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _as_numeric_array(a, name):
    if sp.issparse(a):
        raise TypeError(
            f"{name} must be a dense array; got a scipy sparse "
            f"{type(a).__name__}. Convert it with .toarray() first.")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype.kind in "USa":
        raise TypeError(f"{name} must hold numbers; got strings (dtype {arr.dtype}).")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real-valued; got complex dtype {arr.dtype}.")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must hold numbers; got dtype {arr.dtype} that cannot be "
                f"converted to float64 ({exc}).") from exc
    return arr


def check_array(a, name, *, ndim=2, dtype=None, shape_doc=None, allow_empty=False):
    """Validate an array argument and return it C-contiguous in a float dtype.

    Parameters
    ----------
    a : array-like
        The argument.
    name : str
        Its name, used in error messages.
    ndim : int, default=2
        Required number of dimensions.
    dtype : dtype or None, default=None
        Target dtype; None applies the dtype policy (:func:`float_dtype`).
    shape_doc : str or None
        Expected shape, for messages, e.g. ``"(n_samples, n_features)"``.
    allow_empty : bool, default=False
        Whether a zero-size array is accepted.

    Returns
    -------
    arr : ndarray
        C-contiguous, float32 or float64, finite. Read-only inputs are
        returned as they are when no copy is needed.
    """
    arr = _as_numeric_array(a, name)
    if arr.ndim != ndim:
        expected = shape_doc or f"a {ndim}-D array"
        hint = ""
        if ndim == 2 and arr.ndim == 1:
            hint = (" Reshape it with .reshape(1, -1) for a single sample or "
                    ".reshape(-1, 1) for a single feature.")
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {expected}; got an array "
            f"with {arr.ndim} dimension(s), shape {arr.shape}.{hint}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least "
                         "one row and one column.")
    target = np.dtype(dtype) if dtype is not None else float_dtype(arr.dtype)
    arr = np.ascontiguousarray(arr, dtype=target)
    if not all_finite(arr):
        raise ValueError(f"{name} contains NaN or infinity; every value must be finite.")
    return arr


def check_coding_inputs(X, dictionary):
    """Validate signals and a dictionary for coding; returns them in one dtype.

    Both become C-contiguous, finite, float32 if both are float32 and float64
    otherwise, and the width of `X` must match the atoms'.
    """
    X = check_array(X, "X", shape_doc="(n_samples, n_features)")
    D = check_array(dictionary, "dictionary", shape_doc="(n_components, n_features)")
    dtype = float_dtype(X.dtype, D.dtype)
    X = X.astype(dtype, copy=False)
    D = D.astype(dtype, copy=False)
    check_width(X, D)
    return X, D


def check_width(X, D):
    """ValueError naming X when its rows are not as wide as the atoms of D."""
    if X.shape[1] != D.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features per row but dictionary atoms have "
            f"{D.shape[1]}; X must have shape (n_samples, {D.shape[1]}).")


def all_finite(arr):
    """Whether every value of a float array is finite (True for an empty array)."""
    if arr.size == 0:
        return True
    # min/max propagate NaN and expose +-inf without a boolean temporary
    lo, hi = arr.min(), arr.max()
    return bool(np.isfinite(lo) and np.isfinite(hi))


def check_int(value, name, *, min_val=None, max_val=None, allow_none=False):
    """Validate an integer hyper-parameter; returns it as a Python int (or None)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int{' or None' if allow_none else ''}; "
                        f"got {value!r} of type {type(value).__name__}.")
    value = int(value)
    if min_val is not None and value < min_val:
        raise ValueError(_range_message(name, value, min_val, max_val))
    if max_val is not None and value > max_val:
        raise ValueError(_range_message(name, value, min_val, max_val))
    return value


def check_float(value, name, *, min_val=None, allow_none=False):
    """Validate a real hyper-parameter (finite, >= min_val); returns a float or None."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float{' or None' if allow_none else ''}; "
                        f"got {value!r} of type {type(value).__name__}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    if min_val is not None and value < min_val:
        raise ValueError(f"{name} must be >= {min_val}; got {value!r}.")
    return value


def check_bool(value, name):
    """Validate a boolean hyper-parameter (a bool or NumPy bool); returns a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool; got {value!r}.")
    return bool(value)


def check_option(value, name, options):
    """Validate a string option against its allowed values."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}.")
    return value


def _range_message(name, value, min_val, max_val):
    if min_val is not None and max_val is not None:
        rng = f"in the range [{min_val}, {max_val}]"
    elif min_val is not None:
        rng = f">= {min_val}"
    else:
        rng = f"<= {max_val}"
    return f"{name} must be an int {rng}; got {value}."
