"""What the ``sparsetools learn`` and ``sparsetools denoise`` commands do, on
folders of images: orchestration of the public estimators and the engine."""
import math
import time
from pathlib import Path

import numpy as np

from sparsetools.batch._engine import DEFAULT_MAX_PIXELS, run_batch
from sparsetools.batch._files import IMAGE_EXTENSIONS, check_folders, find_images
from sparsetools.batch._io import ImageError, read_image
from sparsetools.batch._model import load_model, save_model
from sparsetools.image._denoiser import DictionaryDenoiser, _sample_patches

__all__ = ["learn_folder", "denoise_folder"]

_ESTIMATOR = "DictionaryDenoiser"


def learn_folder(in_dir, model_path, *, patch_size=8, n_components=256,
                 algorithm="online", sigma=None, max_patches=100_000, max_iter=10,
                 color=False, recursive=False, extensions=IMAGE_EXTENSIONS,
                 max_pixels=DEFAULT_MAX_PIXELS, random_state=0, n_jobs=None):
    """Learn a patch dictionary from the images of a folder and save it.

    At most ``ceil(max_patches / n_images)`` patches are drawn at random from
    each image, one image in memory at a time; unreadable files are skipped
    and reported. The model (``.npz`` + JSON parameters) goes to
    `model_path`, which may not be inside `in_dir`. Returns a report dict.
    """
    start = time.perf_counter()
    src = Path(in_dir).resolve()
    model_path = Path(model_path)
    check_folders(src, model_path.resolve().parent)
    files = find_images(src, recursive=recursive, extensions=extensions)
    if not files:
        raise ValueError(f"no images with extensions {extensions} in {str(in_dir)!r}.")
    ph, pw = (patch_size, patch_size) if np.isscalar(patch_size) else tuple(patch_size)
    quota = math.ceil(max_patches / len(files))
    rng = np.random.RandomState(random_state)
    mode = "RGB" if color else "L"
    chunks, failures = [], []
    for rel in files:
        try:
            image, _ = read_image(src / rel, max_pixels=max_pixels, mode=mode)
        except ImageError as exc:
            failures.append({"file": rel, "reason": str(exc)})
            continue
        if image.shape[0] < ph or image.shape[1] < pw:
            failures.append({"file": rel, "reason": f"smaller than the patch {(ph, pw)}"})
            continue
        images = image.reshape((1,) + image.shape[:2] + (-1,))
        chunks.append(_sample_patches(images, ph, pw, quota, rng))
    if not chunks:
        raise ValueError(f"none of the {len(files)} files of {str(in_dir)!r} could be used: "
                         + "; ".join(f"{f['file']}: {f['reason']}" for f in failures[:5]))
    P = np.concatenate(chunks)[:max_patches]
    params = {"estimator": _ESTIMATOR, "patch_size": [ph, pw], "n_components": n_components,
              "algorithm": algorithm, "sigma": sigma, "color": bool(color),
              "remove_mean": True, "max_iter": max_iter, "random_state": random_state}
    den = DictionaryDenoiser(patch_size=(ph, pw), n_components=n_components,
                             algorithm=algorithm, sigma=sigma, max_iter=max_iter,
                             color=color, random_state=random_state, n_jobs=n_jobs)
    den.fit_patches(P, 3 if color else 1)
    params["n_iter"] = den.n_iter_
    save_model(model_path, {"components": den.components_}, params)
    return {"command": "learn", "input": str(src), "model": str(model_path.resolve()),
            "counts": {"found": len(files), "used": len(chunks), "failed": len(failures)},
            "failures": failures, "n_patches": int(P.shape[0]),
            "objective": [float(e) for e in den.learner_.error_],
            "seconds": round(time.perf_counter() - start, 3), "parameters": params}


def load_denoiser(model_path, *, sigma=None, stride=1):
    """The DictionaryDenoiser saved by :func:`learn_folder`, with `sigma`
    (None: the model's) and `stride` for denoising."""
    arrays, params = load_model(model_path)
    if params.get("estimator") != _ESTIMATOR or "components" not in arrays:
        raise ValueError(f"{str(model_path)!r} is not a DictionaryDenoiser model.")
    den = DictionaryDenoiser(patch_size=tuple(params["patch_size"]),
                             n_components=int(params["n_components"]),
                             algorithm=params["algorithm"],
                             sigma=params["sigma"] if sigma is None else sigma,
                             color=bool(params["color"]),
                             remove_mean=bool(params["remove_mean"]), stride=stride)
    den._set_dictionary(arrays["components"], params.get("n_iter", 0))
    expected = int(np.prod(params["patch_size"])) * (3 if params["color"] else 1)
    if den.components_.shape[1] != expected:
        raise ValueError(f"{str(model_path)!r}: atoms of {den.components_.shape[1]} values "
                         f"do not match its parameters ({expected}).")
    return den


def denoise_folder(in_dir, out_dir, model_path, *, sigma=None, stride=1, n_jobs=1,
                   recursive=False, extensions=IMAGE_EXTENSIONS, chunk_size=8,
                   max_pixels=DEFAULT_MAX_PIXELS, progress=False, scheduler=None,
                   dask_workers=None):
    """Denoise every image of `in_dir` into `out_dir` with a saved model; see
    :func:`sparsetools.batch.run_batch` for the safety rules. Returns the report."""
    den = load_denoiser(model_path, sigma=sigma, stride=stride)
    parameters = {"model": str(Path(model_path).resolve()), "sigma": den.sigma,
                  "stride": stride, "patch_size": list(den.patch_size),
                  "color": den.color, "chunk_size": chunk_size}
    return run_batch(in_dir, out_dir, den.transform, mode="RGB" if den.color else "L",
                     recursive=recursive, extensions=extensions, n_jobs=n_jobs,
                     chunk_size=chunk_size, max_pixels=max_pixels, progress=progress,
                     command="denoise", parameters=parameters, scheduler=scheduler,
                     dask_workers=dask_workers)
