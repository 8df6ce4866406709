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
from sparsetools.batch._io import (
    TEMP_PREFIX,
    ImageError,
    read_image,
    write_atomic,
    write_png_atomic,
)
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
              parameters=None, scheduler=None, dask_workers=None):
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
    scheduler : str, default=None
        Address of a Dask distributed scheduler (``tcp://host:port``): the
        chunks become tasks on its workers, which must see `in_dir` and
        `out_dir` at the same paths. Results are the same files as on one
        machine.
    dask_workers : int, default=None
        Start a local Dask cluster of this many worker processes instead.

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

    def collect(results):
        with lock:
            for rel, failure in results:
                (processed.append(rel) if failure is None else failures.append(failure))
            if bar is not None:
                bar.update(len(results))

    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
    task = (src, process, mode, max_pixels)
    try:
        if scheduler is not None or dask_workers is not None:
            _run_on_dask(chunks, task, collect, scheduler, dask_workers)
        else:
            with blas_threads(1):
                if n_jobs == 1:
                    for chunk in chunks:
                        collect(process_chunk(chunk, *task))
                else:
                    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                        for results in pool.map(lambda c: process_chunk(c, *task), chunks):
                            collect(results)
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
        "parameters": parameters or {}, "n_jobs": n_jobs,
        "dask": (scheduler if isinstance(scheduler, str) else
                 (f"LocalCluster({dask_workers})" if dask_workers else None)),
        "versions": _versions(),
    }
    _write_json_atomic(dst / REPORT_NAME, report)
    return report


def process_chunk(chunk, src, process, mode, max_pixels):
    """Read, process and write the files of one chunk; returns ``(relative
    path, failure or None)`` for each. Runs in a thread or on a Dask worker
    (which must see the same paths), BLAS held to one thread."""
    results = []
    with blas_threads(1):
        for rel, target in chunk:
            try:
                image, bits = read_image(Path(src) / rel, max_pixels=max_pixels, mode=mode)
                out = np.asarray(process(image), dtype=np.float64)
                if out.shape != image.shape or not np.all(np.isfinite(out)):
                    raise ImageError(f"processing returned shape {out.shape} (input "
                                     f"{image.shape}) or non-finite values")
                write_png_atomic(target, out, bits)
                results.append((rel, None))
            except ImageError as exc:
                results.append((rel, {"file": rel, "reason": str(exc)}))
            except Exception as exc:  # a bad image must not stop the run
                results.append((rel, {"file": rel, "reason": "processing failed: "
                                      f"{type(exc).__name__}: {exc}"}))
    return results


def _run_on_dask(chunks, task, collect, scheduler, dask_workers):
    """The chunks as tasks on a Dask cluster: the one at `scheduler`
    (``tcp://host:port``), or a local one of `dask_workers` processes."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("Dask is not installed: pip install 'sparsetools[dask]'") from None
    if scheduler is not None and dask_workers is not None:
        raise ValueError("give scheduler or dask_workers, not both.")
    cluster = None
    if dask_workers is not None:
        cluster = LocalCluster(n_workers=dask_workers, threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None)
        scheduler = cluster
    try:
        with Client(scheduler) as client:
            futures = [client.submit(process_chunk, chunk, *task, pure=False)
                       for chunk in chunks]
            for future in as_completed(futures):
                collect(future.result())
    finally:
        if cluster is not None:
            cluster.close()


def _write_json_atomic(path, obj):
    text = json.dumps(obj, indent=1, ensure_ascii=False)
    write_atomic(path, lambda f: f.write(text.encode("utf-8")), ".json")
