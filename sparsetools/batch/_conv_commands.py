"""What ``sparsetools learn --algorithm conv`` and ``sparsetools project`` do:
convolutional filters from a folder, and projections of a folder with them."""
import math
import time
from pathlib import Path

import numpy as np

from sparsetools.batch._commands import training_images, usable_images
from sparsetools.batch._engine import DEFAULT_MAX_PIXELS, run_batch
from sparsetools.batch._files import IMAGE_EXTENSIONS
from sparsetools.batch._model import load_model, save_model
from sparsetools.convolutional import ConvSparseCoder, learn_conv_dictionary, tikhonov_split

__all__ = ["learn_conv_folder", "load_conv_coder", "project_folder"]

_ESTIMATOR = "ConvSparseCoder"


def learn_conv_folder(in_dir, model_path, *, filter_size=8, n_filters=64, alpha=0.2,
                      lowpass_reg=5.0, tile_size=64, max_tiles=2048, max_iter=200,
                      color=False, recursive=False, extensions=IMAGE_EXTENSIONS,
                      max_pixels=DEFAULT_MAX_PIXELS, random_state=0, n_jobs=None):
    """Learn convolutional filters from the images of a folder and save them.

    Each image, one in memory at a time, is split into low-pass and high-pass
    parts (:func:`~sparsetools.convolutional.tikhonov_split`) and at most
    ``ceil(max_tiles / n_images)`` random ``tile_size`` tiles of its
    high-pass part are kept; :func:`~sparsetools.convolutional.learn_conv_dictionary`
    learns from those tiles. Images smaller than a tile and unreadable files
    are skipped and reported. Returns a report dict.
    """
    start = time.perf_counter()
    model_path = Path(model_path)
    src, files = training_images(in_dir, model_path, recursive, extensions)
    quota = math.ceil(max_tiles / len(files))
    rng = np.random.RandomState(random_state)
    tiles, failures, used = [], [], 0
    for _, image in usable_images(src, files, failures, mode="RGB" if color else "L",
                                  max_pixels=max_pixels, min_shape=(tile_size, tile_size),
                                  what=f"a tile ({tile_size} px)"):
        h, w = image.shape[:2]
        high = tikhonov_split(image, lowpass_reg, color=color)[1]
        for _ in range(quota):
            y, x = rng.randint(h - tile_size + 1), rng.randint(w - tile_size + 1)
            tiles.append(high[y:y + tile_size, x:x + tile_size])
        used += 1
    if not tiles:
        raise ValueError(f"none of the {len(files)} files of {str(in_dir)!r} could be used: "
                         + "; ".join(f"{f['file']}: {f['reason']}" for f in failures[:5]))
    tiles = np.stack(tiles[:max_tiles])
    filters, info = learn_conv_dictionary(
        tiles, n_filters=n_filters, filter_size=filter_size, alpha=alpha, max_iter=max_iter,
        tile_size=tile_size, color=color, random_state=rng.randint(2 ** 31 - 1),
        n_jobs=n_jobs, return_info=True)
    params = {"estimator": _ESTIMATOR, "n_filters": n_filters,
              "filter_size": list(filters.shape[1:3]), "alpha": alpha,
              "lowpass_reg": lowpass_reg, "color": bool(color), "max_iter": max_iter,
              "tile_size": tile_size, "random_state": random_state}
    save_model(model_path, {"filters": filters}, params)
    return {"command": "learn", "input": str(src), "model": str(model_path.resolve()),
            "counts": {"found": len(files), "used": used, "failed": len(failures)},
            "failures": failures, "n_tiles": int(tiles.shape[0]),
            "objective": [float(v) for v in info["objective"]],
            "seconds": round(time.perf_counter() - start, 3), "parameters": params}


def load_conv_coder(model_path, *, alpha=None, max_iter=100):
    """The ConvSparseCoder saved by :func:`learn_conv_folder`, projecting with
    `alpha` (None: the model's) and a fixed `max_iter` ADMM iterations."""
    arrays, params = load_model(model_path)
    if params.get("estimator") != _ESTIMATOR or "filters" not in arrays:
        raise ValueError(f"{str(model_path)!r} is not a ConvSparseCoder model "
                         "(`sparsetools learn --algorithm conv`).")
    filters = arrays["filters"]
    color = bool(params["color"])
    if filters.ndim != (4 if color else 3) or filters.shape[0] != int(params["n_filters"]):
        raise ValueError(f"{str(model_path)!r}: filters of shape {filters.shape} do not match "
                         "its parameters.")
    stl = ConvSparseCoder(n_filters=int(params["n_filters"]),
                          filter_size=tuple(params["filter_size"]),
                          alpha=float(params["alpha"] if alpha is None else alpha),
                          lowpass_reg=float(params["lowpass_reg"]), color=color,
                          transform_max_iter=max_iter, transform_tol=0.0)
    stl.filters_ = filters
    return stl


def project_folder(in_dir, out_dir, model_path, *, alpha=None, max_iter=100, n_jobs=1,
                   recursive=False, extensions=IMAGE_EXTENSIONS, chunk_size=8,
                   max_pixels=DEFAULT_MAX_PIXELS, progress=False, scheduler=None,
                   dask_workers=None):
    """Project every image of `in_dir` into `out_dir` with a saved
    convolutional model (low-pass part + CBPDN synthesis of the high-pass
    part, `max_iter` ADMM iterations); see
    :func:`sparsetools.batch.run_batch` for the safety rules. Returns the report."""
    stl = load_conv_coder(model_path, alpha=alpha, max_iter=max_iter)
    parameters = {"model": str(Path(model_path).resolve()), "alpha": stl.alpha,
                  "max_iter": max_iter, "filter_size": list(stl.filter_size),
                  "n_filters": stl.n_filters, "color": stl.color, "chunk_size": chunk_size}
    return run_batch(in_dir, out_dir, stl.transform, mode="RGB" if stl.color else "L",
                     recursive=recursive, extensions=extensions, n_jobs=n_jobs,
                     chunk_size=chunk_size, max_pixels=max_pixels, progress=progress,
                     command="project", parameters=parameters, scheduler=scheduler,
                     dask_workers=dask_workers)
