"""The image-folder engine: every image of a folder through one function,
in parallel, safely, resumably, with a report."""
import json
import os
import platform
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from sparsetools.batch._files import (
    IMAGE_EXTENSIONS,
    UnsafePathError,
    check_folders,
    find_images,
    output_path,
)
from sparsetools.batch._io import TEMP_PREFIX, ImageError, read_image, write_png_atomic
from sparsetools.utils._threads import blas_threads

__all__ = ["run_batch", "REPORT_NAME", "DEFAULT_MAX_PIXELS"]

#: The run's JSON report, in the output folder.
REPORT_NAME = "sparsetools-report.json"
#: Largest image accepted by default (Pillow's own bomb limit).
DEFAULT_MAX_PIXELS = 89_478_485


def _versions():
    import PIL
    import scipy
    import sklearn

    import sparsetools

    return {"sparsetools": sparsetools.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "pillow": PIL.__version__}


def _remove_stale_temporaries(out_dir):
    """Delete the temporary files a killed run left in `out_dir` (only ours)."""
    removed = 0
    for root, _, files in os.walk(out_dir):
        for name in files:
            if name.startswith(TEMP_PREFIX):
                os.unlink(os.path.join(root, name))
                removed += 1
    return removed


def run_batch(in_dir, out_dir, process, *, mode=None, recursive=False,
              extensions=IMAGE_EXTENSIONS, n_jobs=1, chunk_size=8,
              max_pixels=DEFAULT_MAX_PIXELS, progress=False, command="process",
              parameters=None):
    """Apply `process` to every image of `in_dir`, writing PNGs into `out_dir`.

    Each image is read (see :mod:`sparsetools.batch._io` for the policy),
    converted to `mode`, passed to ``process(image) -> image`` (float in
    [0, 1], same shape), and written as ``OUT_DIR/<relative path>.png`` at its
    bit depth, through a temporary file and a rename. Images whose output
    already exists are not redone, so a run that was killed finishes the rest
    when started again; its temporary files are removed first. Files that
    cannot be read or processed are skipped and listed with the reason. BLAS
    is held to one thread; chunks of `chunk_size` files run on `n_jobs`
    threads.

    Parameters
    ----------
    in_dir, out_dir : path-like
        Input folder (never written) and output folder (created; not the
        input folder or inside it).
    process : callable
        ``process(image)`` for an ``(h, w)`` or ``(h, w, 3)`` float64 image.
    mode : {"L", "RGB"} or None, default=None
        Convert every image to gray or color first; None keeps each as read.
    recursive : bool, default=False
        Also walk subfolders; outputs mirror the tree.
    extensions : tuple of str
        File extensions to take (case-insensitive).
    n_jobs : int, default=1
        Threads over chunks of files.
    chunk_size : int, default=8
        Files per task.
    max_pixels : int
        Larger images are refused before decoding.
    progress : bool, default=False
        Show a tqdm progress bar with throughput.
    command, parameters : str, dict
        Recorded in the report.

    Returns
    -------
    report : dict
        Also written to ``OUT_DIR/sparsetools-report.json``: counts (found,
        processed, already done, failed), failures with reasons, seconds,
        images per second, parameters and versions.
    """
    start = time.perf_counter()
    src, dst = check_folders(in_dir, out_dir)
    dst.mkdir(parents=True, exist_ok=True)
    stale = _remove_stale_temporaries(dst)
    files = find_images(src, recursive=recursive, extensions=extensions)
    failures, todo, already, claimed = [], [], [], {}
    for rel in files:
        try:
            target = output_path(dst, rel, ".png")
        except UnsafePathError as exc:
            failures.append({"file": rel, "reason": str(exc)})
            continue
        key = str(target)
        if key in claimed:
            failures.append({"file": rel, "reason": f"its output {target.name!r} is also "
                             f"the output of {claimed[key]!r}"})
            continue
        claimed[key] = rel
        if target.exists():
            already.append(rel)
        else:
            todo.append((rel, target))
    lock = threading.Lock()
    processed = []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), unit="img", desc=command)

    def work(chunk):
        for rel, target in chunk:
            try:
                image, bits = read_image(src / rel, max_pixels=max_pixels, mode=mode)
                out = np.asarray(process(image), dtype=np.float64)
                if out.shape != image.shape or not np.all(np.isfinite(out)):
                    raise ImageError(f"processing returned shape {out.shape} (input "
                                     f"{image.shape}) or non-finite values")
                write_png_atomic(target, out, bits)
                result = None
            except ImageError as exc:
                result = {"file": rel, "reason": str(exc)}
            except Exception as exc:  # a bad image must not stop the run
                result = {"file": rel, "reason": f"processing failed: "
                          f"{type(exc).__name__}: {exc}"}
            with lock:
                (processed.append(rel) if result is None else failures.append(result))
                if bar is not None:
                    bar.update(1)

    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
    try:
        with blas_threads(1):
            if n_jobs == 1:
                for chunk in chunks:
                    work(chunk)
            else:
                with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                    list(pool.map(work, chunks))
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    report = {
        "command": command, "input": str(src), "output": str(dst),
        "counts": {"found": len(files), "processed": len(processed),
                   "already_done": len(already), "failed": len(failures),
                   "stale_temporaries_removed": stale},
        "failures": sorted(failures, key=lambda f: f["file"]),
        "seconds": round(seconds, 3),
        "images_per_s": round(len(processed) / seconds, 3) if seconds > 0 else None,
        "parameters": parameters or {}, "n_jobs": n_jobs, "versions": _versions(),
    }
    _write_json_atomic(dst / REPORT_NAME, report)
    return report


def _write_json_atomic(path, obj):
    tmp = Path(str(path) + ".tmp")
    tmp = tmp.with_name(TEMP_PREFIX + tmp.name)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
