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
from sparsetools.convolutional import (ConvSparseCoder, StratifiedConvSparseCoder,
                                       learn_conv_dictionary, tikhonov_split)
from sparsetools.convolutional._stratified import (fit_routing, restore_routing,
                                                   routing_features)
from sparsetools.utils._validation import check_int

__all__ = ["learn_conv_folder", "load_conv_coder", "project_folder"]

_ESTIMATOR = "ConvSparseCoder"
_STRATIFIED = "StratifiedConvSparseCoder"


def learn_conv_folder(in_dir, model_path, *, filter_size=8, n_filters=64, alpha=0.2,
                      lowpass_reg=5.0, tile_size=64, max_tiles=2048, max_iter=200,
                      n_clusters=1, n_neighbors=5, feature_size=8,
                      color=False, recursive=False, extensions=IMAGE_EXTENSIONS,
                      max_pixels=DEFAULT_MAX_PIXELS, random_state=0, n_jobs=None):
    """Learn convolutional filters from the images of a folder and save them.

    Each image, one in memory at a time, is split into low-pass and high-pass
    parts (:func:`~sparsetools.convolutional.tikhonov_split`) and at most
    ``ceil(max_tiles / n_images)`` random ``tile_size`` tiles of its
    high-pass part are kept; :func:`~sparsetools.convolutional.learn_conv_dictionary`
    learns from those tiles. Images smaller than a tile and unreadable files
    are skipped and reported. Returns a report dict.

    With ``n_clusters > 1`` the model is a stratified one (paper 004, sec.
    3.5; :class:`~sparsetools.convolutional.StratifiedConvSparseCoder`): the
    whole images are clustered by their routing features (each image
    averaged down to ``feature_size x feature_size``, PCA, k-means), one
    set of `n_filters` filters is learned per cluster from the tiles of
    that cluster's images, and the model file keeps the training images'
    routing features and clusters, so that ``sparsetools project`` routes
    each new image by the vote of its `n_neighbors` nearest training images.
    """
    start = time.perf_counter()
    n_clusters = check_int(n_clusters, "n_clusters", min_val=1)
    check_int(n_neighbors, "n_neighbors", min_val=1)
    feature_size = check_int(feature_size, "feature_size", min_val=1)
    model_path = Path(model_path)
    src, files = training_images(in_dir, model_path, recursive, extensions)
    quota = math.ceil(max_tiles / len(files))
    rng = np.random.RandomState(random_state)
    tiles, owners, features, failures, used = [], [], [], [], 0
    for _, image in usable_images(src, files, failures, mode="RGB" if color else "L",
                                  max_pixels=max_pixels, min_shape=(tile_size, tile_size),
                                  what=f"a tile ({tile_size} px)"):
        h, w = image.shape[:2]
        high = tikhonov_split(image, lowpass_reg, color=color)[1]
        for _ in range(quota):
            y, x = rng.randint(h - tile_size + 1), rng.randint(w - tile_size + 1)
            tiles.append(high[y:y + tile_size, x:x + tile_size])
            owners.append(used)
        if n_clusters > 1:
            features.append(routing_features(
                image.reshape((1,) + image.shape[:2] + (-1,)), feature_size)[0])
        used += 1
    if not tiles:
        raise ValueError(f"none of the {len(files)} files of {str(in_dir)!r} could be used: "
                         + "; ".join(f"{f['file']}: {f['reason']}" for f in failures[:5]))
    if used < n_clusters:
        raise ValueError(f"n_clusters={n_clusters} needs at least as many usable images; "
                         f"{used} of the {len(files)} files of {str(in_dir)!r} could be used.")
    tiles, owners = np.stack(tiles[:max_tiles]), np.asarray(owners[:max_tiles])
    params = {"estimator": _ESTIMATOR if n_clusters == 1 else _STRATIFIED,
              "n_filters": n_filters, "alpha": alpha, "lowpass_reg": lowpass_reg,
              "color": bool(color), "max_iter": max_iter, "tile_size": tile_size,
              "random_state": random_state}
    extra = {}
    if n_clusters == 1:
        filters, info = learn_conv_dictionary(
            tiles, n_filters=n_filters, filter_size=filter_size, alpha=alpha,
            max_iter=max_iter, tile_size=tile_size, color=color,
            random_state=rng.randint(2 ** 31 - 1), n_jobs=n_jobs, return_info=True)
        arrays, objective = {"filters": filters}, [float(v) for v in info["objective"]]
    else:
        stl = StratifiedConvSparseCoder(n_clusters=n_clusters, n_neighbors=n_neighbors,
                                        feature_size=feature_size, random_state=random_state)
        labels = fit_routing(stl, np.stack(features))
        tile_labels = labels[owners]
        per_cluster, objective = [], []
        for c in range(n_clusters):
            if not np.any(tile_labels == c):
                raise ValueError(f"cluster {c} kept no tiles; lower n_clusters or raise "
                                 "max_tiles.")
            filters, info = learn_conv_dictionary(
                tiles[tile_labels == c], n_filters=n_filters, filter_size=filter_size,
                alpha=alpha, max_iter=max_iter, tile_size=tile_size, color=color,
                random_state=rng.randint(2 ** 31 - 1), n_jobs=n_jobs, return_info=True)
            per_cluster.append(filters)
            objective.append([float(v) for v in info["objective"]])
        filters = np.stack(per_cluster)
        arrays = {"filters": filters, "routing_features": stl.routing_features_,
                  "labels": labels}
        params.update(n_clusters=n_clusters, n_neighbors=n_neighbors,
                      feature_size=feature_size)
        extra = {"images_per_cluster": [int(v) for v in stl.cluster_sizes_],
                 "tiles_per_cluster": [int(np.sum(tile_labels == c))
                                       for c in range(n_clusters)]}
    params["filter_size"] = list(filters.shape[-3:-1] if color else filters.shape[-2:])
    save_model(model_path, arrays, params)
    return {"command": "learn", "input": str(src), "model": str(model_path.resolve()),
            "counts": {"found": len(files), "used": used, "failed": len(failures)},
            "failures": failures, "n_tiles": int(tiles.shape[0]), **extra,
            "objective": objective,
            "seconds": round(time.perf_counter() - start, 3), "parameters": params}


def load_conv_coder(model_path, *, alpha=None, max_iter=100):
    """The model saved by :func:`learn_conv_folder` as an estimator projecting
    with `alpha` (None: the model's) and a fixed `max_iter` ADMM iterations:
    a :class:`~sparsetools.convolutional.ConvSparseCoder`, or a
    :class:`~sparsetools.convolutional.StratifiedConvSparseCoder` for a
    model learned with ``n_clusters > 1``."""
    arrays, params = load_model(model_path)
    kind = params.get("estimator")
    if kind not in (_ESTIMATOR, _STRATIFIED) or "filters" not in arrays:
        raise ValueError(f"{str(model_path)!r} is not a ConvSparseCoder model "
                         "(`sparsetools learn --algorithm conv`).")
    filters = arrays["filters"]
    color = bool(params["color"])
    stratified = kind == _STRATIFIED
    ndim = (4 if color else 3) + stratified
    n_filters = int(params["n_filters"])
    if (filters.ndim != ndim or filters.shape[stratified] != n_filters
            or (stratified and filters.shape[0] != int(params["n_clusters"]))):
        raise ValueError(f"{str(model_path)!r}: filters of shape {filters.shape} do not match "
                         "its parameters.")
    common = dict(n_filters=n_filters, filter_size=tuple(params["filter_size"]),
                  alpha=float(params["alpha"] if alpha is None else alpha),
                  lowpass_reg=float(params["lowpass_reg"]), color=color,
                  transform_max_iter=max_iter, transform_tol=0.0)
    if not stratified:
        stl = ConvSparseCoder(**common)
        stl.filters_ = filters
        return stl
    if "routing_features" not in arrays or "labels" not in arrays:
        raise ValueError(f"{str(model_path)!r}: a stratified model needs its routing "
                         "features and labels.")
    stl = StratifiedConvSparseCoder(n_clusters=int(params["n_clusters"]),
                                    n_neighbors=int(params["n_neighbors"]),
                                    feature_size=int(params["feature_size"]),
                                    random_state=params["random_state"], **common)
    restore_routing(stl, arrays["routing_features"], arrays["labels"])
    stl.filters_ = list(filters)
    stl.n_iter_ = int(params["max_iter"])
    return stl


def project_folder(in_dir, out_dir, model_path, *, alpha=None, max_iter=100, n_jobs=1,
                   recursive=False, extensions=IMAGE_EXTENSIONS, chunk_size=8,
                   max_pixels=DEFAULT_MAX_PIXELS, progress=False, scheduler=None,
                   dask_workers=None):
    """Project every image of `in_dir` into `out_dir` with a saved
    convolutional model (low-pass part + CBPDN synthesis of the high-pass
    part, `max_iter` ADMM iterations; a stratified model routes each image
    to its cluster's filters first); see
    :func:`sparsetools.batch.run_batch` for the safety rules. Returns the report."""
    stl = load_conv_coder(model_path, alpha=alpha, max_iter=max_iter)
    parameters = {"model": str(Path(model_path).resolve()), "alpha": stl.alpha,
                  "max_iter": max_iter, "filter_size": list(stl.filter_size),
                  "n_filters": stl.n_filters, "color": stl.color, "chunk_size": chunk_size,
                  "n_clusters": len(stl.filters_) if isinstance(stl.filters_, list) else 1}
    return run_batch(in_dir, out_dir, stl.transform, mode="RGB" if stl.color else "L",
                     recursive=recursive, extensions=extensions, n_jobs=n_jobs,
                     chunk_size=chunk_size, max_pixels=max_pixels, progress=progress,
                     command="project", parameters=parameters, scheduler=scheduler,
                     dask_workers=dask_workers)
