"""Model files: ``.npz`` arrays plus JSON parameters, never pickles."""
import json

import numpy as np

from sparsetools.batch._io import write_atomic

__all__ = ["save_model", "load_model", "MODEL_FORMAT"]

#: Written into every model file; load_model refuses other formats.
MODEL_FORMAT = "sparsetools-model-1"


def save_model(path, arrays, params):
    """Write `arrays` (name -> ndarray of numbers) and `params` (a JSON-able
    dict) to the ``.npz`` file `path`, through a temporary file and a rename."""
    payload = {name: np.asarray(a) for name, a in arrays.items()}
    for name, a in payload.items():
        if a.dtype.kind not in "biufU":
            raise TypeError(f"model array {name!r} must hold numbers or text; got "
                            f"{a.dtype}.")
    payload["params"] = np.array(json.dumps(params, sort_keys=True))
    payload["format"] = np.array(MODEL_FORMAT)
    write_atomic(path, lambda f: np.savez_compressed(f, **payload), ".npz")


def load_model(path):
    """(arrays, params) from a file written by :func:`save_model`, loaded with
    ``allow_pickle=False``; ValueError for anything else."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{str(path)!r} is not a sparsetools model file: {exc}") from None
    fmt = arrays.pop("format", None)
    if fmt is None or fmt.shape != () or str(fmt) != MODEL_FORMAT:
        raise ValueError(f"{str(path)!r} is not a sparsetools model file "
                         f"(format {None if fmt is None else str(fmt)!r}).")
    try:
        params = json.loads(str(arrays.pop("params")))
    except (KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"{str(path)!r} has no readable parameters: {exc}") from None
    return arrays, params
