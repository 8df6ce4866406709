"""What the ``sparsetools learn`` and ``sparsetools denoise`` commands do, on
folders of images: orchestration of the public estimators and the engine."""
import math
import time
from pathlib import Path

import numpy as np

from sparsetools.batch._engine import DEFAULT_MAX_PIXELS, run_batch
from sparsetools.batch._files import IMAGE_EXTENSIONS, check_output_file, find_images
from sparsetools.batch._io import ImageError, read_image
from sparsetools.batch._model import load_model, save_model
from sparsetools.image._denoiser import DictionaryDenoiser, _sample_patches

__all__ = ["learn_folder", "denoise_folder", "encode_folder", "load_codes"]

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
    model_path = Path(model_path)
    src, files = training_images(in_dir, model_path, recursive, extensions)
    ph, pw = (patch_size, patch_size) if np.isscalar(patch_size) else tuple(patch_size)
    quota = math.ceil(max_patches / len(files))
    rng = np.random.RandomState(random_state)
    chunks, failures = [], []
    for _, image in usable_images(src, files, failures, mode="RGB" if color else "L",
                                  max_pixels=max_pixels, min_shape=(ph, pw),
                                  what=f"the patch {(ph, pw)}"):
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


def training_images(in_dir, model_path, recursive, extensions):
    """The input folder (checked not to hold `model_path`) and its images,
    for the learning commands; ValueError when there is none."""
    src = check_output_file(in_dir, model_path)
    files = find_images(src, recursive=recursive, extensions=extensions)
    if not files:
        raise ValueError(f"no images with extensions {extensions} in {str(in_dir)!r}.")
    return src, files


def usable_images(src, files, failures, *, mode, max_pixels, min_shape, what):
    """``(relative path, image)`` for each file of `files` that reads and is
    at least `min_shape` (h, w); the others are appended to `failures` with
    their reason (``smaller than <what>`` for the small ones). One image in
    memory at a time."""
    for rel in files:
        try:
            image, _ = read_image(src / rel, max_pixels=max_pixels, mode=mode)
        except ImageError as exc:
            failures.append({"file": rel, "reason": str(exc)})
            continue
        if image.shape[0] < min_shape[0] or image.shape[1] < min_shape[1]:
            failures.append({"file": rel, "reason": f"smaller than {what}"})
            continue
        yield rel, image


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


def encode_folder(in_dir, out_file, model_path, *, sigma=None, stride=None, n_jobs=1,
                  recursive=False, extensions=IMAGE_EXTENSIONS,
                  max_pixels=DEFAULT_MAX_PIXELS):
    """Sparse codes of the patches of every image of `in_dir`, into one
    compressed ``.npz`` (written through a temporary file and a rename).

    Patches are taken on a grid of `stride` (default: the patch size, so
    they tile each image, the last row and column touching the borders),
    their means removed per channel, and coded by OMP over the model's atoms
    (to the noise level with `sigma`, the model's by default). The file holds
    the codes of all patches as one CSR matrix (``data``, ``indices``,
    ``indptr``), each patch's means, and per image its relative path, shape
    and first patch row; :func:`load_codes` reads it back. Unreadable files
    are skipped and listed. Returns a report dict.
    """
    from sparsetools.coding._dispatch import run_coder
    from sparsetools.image._denoise import patch_coding_plan, remove_patch_means
    from sparsetools.image._patches import extract_patches

    start = time.perf_counter()
    den = load_denoiser(model_path, sigma=sigma)
    out_file = Path(out_file)
    src = check_output_file(in_dir, out_file)
    ph, pw = den.patch_size
    stride = (ph, pw) if stride is None else stride
    c = 3 if den.color else 1
    D = den.components_
    plan, _ = patch_coding_plan(D.shape[0], D.shape[1], sigma=den.sigma,
                                n_means=c, n_jobs=n_jobs)
    files = find_images(src, recursive=recursive, extensions=extensions)
    data, indices, indptr, means, names, shapes, offsets = [], [], [0], [], [], [], [0]
    failures = []
    for rel, image in usable_images(src, files, failures, mode="RGB" if den.color else "L",
                                    max_pixels=max_pixels, min_shape=(ph, pw),
                                    what=f"the patch {(ph, pw)}"):
        P = extract_patches(image, (ph, pw), stride=stride, color=den.color)
        P = np.ascontiguousarray(P.reshape(len(P), -1))
        means.append(remove_patch_means(P, c).reshape(len(P), c))
        codes = run_coder(plan, P, D)
        rows, cols = np.nonzero(codes)
        counts = np.bincount(rows, minlength=len(P))
        indptr.extend((indptr[-1] + np.cumsum(counts)).tolist())
        indices.append(cols.astype(np.int32))
        data.append(codes[rows, cols])
        names.append(rel)
        shapes.append(image.shape + ((1,) if image.ndim == 2 else ()))
        offsets.append(offsets[-1] + len(P))
    if not names:
        raise ValueError(f"no usable image in {str(in_dir)!r}.")
    arrays = {"data": np.concatenate(data), "indices": np.concatenate(indices),
              "indptr": np.asarray(indptr, dtype=np.int64),
              "means": np.concatenate(means), "shapes": np.asarray(shapes, dtype=np.int64),
              "offsets": np.asarray(offsets, dtype=np.int64),
              "files": np.asarray(names, dtype=str), "components": D}
    params = {"estimator": "codes", "model": str(Path(model_path).resolve()),
              "patch_size": [ph, pw], "stride": list(np.broadcast_to(stride, 2).tolist()),
              "color": bool(den.color), "sigma": den.sigma}
    save_model(out_file, arrays, params)
    return {"command": "encode", "input": str(src), "output": str(out_file.resolve()),
            "counts": {"found": len(files), "encoded": len(names),
                       "failed": len(failures)},
            "failures": failures, "n_patches": int(offsets[-1]),
            "nonzeros": int(arrays["data"].size),
            "seconds": round(time.perf_counter() - start, 3), "parameters": params}


def load_codes(path):
    """The codes file of :func:`encode_folder`: a dict with ``codes`` (a
    scipy CSR matrix, one row per patch), ``means`` (n_patches, c),
    ``components``, ``files``, ``shapes``, ``offsets`` and ``params``."""
    import scipy.sparse as sp

    arrays, params = load_model(path)
    if params.get("estimator") != "codes":
        raise ValueError(f"{str(path)!r} is not a codes file of `sparsetools encode`.")
    D = arrays["components"]
    codes = sp.csr_array((arrays["data"], arrays["indices"], arrays["indptr"]),
                         shape=(len(arrays["indptr"]) - 1, D.shape[0]))
    return {"codes": codes, "means": arrays["means"], "components": D,
            "files": [str(f) for f in arrays["files"]], "shapes": arrays["shapes"],
            "offsets": arrays["offsets"], "params": params}
