"""Presets: the papers' robustness experiments, scaled to data that ships with
the dependencies (or to local copies of MNIST / CIFAR-10), run by `run_preset`
and ``sparsetools evaluate PRESET [--data PATH]``."""
import os
import platform
import time

import numpy as np

from sparsetools.evaluation import _preset_ddl, _preset_dsc, _preset_stl, _preset_topt

__all__ = ["PRESETS", "run_preset"]

#: name -> (function, one-line summary) of each preset.
PRESETS = {
    "ddl-digits": (_preset_ddl.ddl_digits, _preset_ddl.SUMMARY),
    "dsc-faces": (_preset_dsc.dsc_faces, _preset_dsc.SUMMARY),
    "topt-digits": (_preset_topt.topt_digits, _preset_topt.SUMMARY),
    "stl-images": (_preset_stl.stl_digits, _preset_stl.SUMMARY),
}


def run_preset(name, *, out=None, quick=False, random_state=0, log=print, data=None):
    """Run a preset: evaluate its pipelines, write its table and plots.

    Parameters
    ----------
    name : str
        A key of `PRESETS`.
    out : str or path-like, default=None
        Folder for ``report.json``, ``report.csv`` and the PNG plots
        (``accuracy.png`` and the preset's own); created if missing. None
        writes nothing.
    quick : bool, default=False
        A smoke run: a handful of test images, fewer epochs, iterations and
        epsilons. Its numbers mean little.
    random_state : int, default=0
        Seed of the data split, the models, the noise and the attacks.
    log : callable, default=print
        Receives progress lines.
    data : str, path-like or None, default=None
        A local folder of MNIST or CIFAR-10 to run the preset on instead of
        its bundled data; nothing is downloaded. What it holds is detected:
        MNIST-format IDX files (read by
        :func:`~sparsetools.datasets.load_mnist`; Fashion-MNIST too) or
        CIFAR-10 python batches (:func:`~sparsetools.datasets.load_cifar10`).
        A fixed number of images is drawn, seeded by `random_state`, from
        its training files and from its test files:

        - ``ddl-digits``: MNIST, 5000 training and 200 test images (300
          and 20 with `quick`);
        - ``topt-digits``: MNIST, 2000 and 200 (300 and 20);
        - ``stl-images``: MNIST, 2000 and 100 (300 and 10), or CIFAR-10 in
          color (32x32x3), 5000 and 100 (300 and 10);
        - ``dsc-faces`` takes no `data` (ValueError): its data is
          scikit-image's LFW subset.

        A folder of the wrong kind for the preset, or of neither, raises
        ValueError.

    Returns
    -------
    report : Report
        The table; ``meta`` says the preset, the data it ran on
        (``meta["data"]``: name, source, folder and files, image shape,
        numbers of images), the seed, the run time and the versions.

    Examples
    --------
    A smoke run (some seconds) on the bundled digits:

    >>> from sparsetools.evaluation import run_preset
    >>> report = run_preset("topt-digits", quick=True, log=lambda line: None)
    >>> report.meta["data"]["name"], report.meta["data"]["n_test"]
    ('scikit-learn digits', 40)
    """
    from sparsetools import __version__
    from sparsetools.evaluation._plots import plot_accuracy
    from sparsetools.utils._validation import check_bool, check_option

    check_option(name, "name", tuple(PRESETS))
    quick = check_bool(quick, "quick")
    if data is not None:
        try:
            data = os.fspath(data)
        except TypeError:
            raise TypeError(f"data must be None or a path to a folder; got "
                            f"{type(data).__name__}.") from None
    t0 = time.perf_counter()
    log(f"preset {name}{' (quick)' if quick else ''}: {PRESETS[name][1]}")
    import sklearn
    import torch

    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the models are tiny: one thread is several times faster
    try:
        # and so is one BLAS thread: MLPClassifier on 300 MNIST images took 0.7 s
        # against 14 s with two threads on a busy two-core machine
        with threadpool_limits(limits=1, user_api="blas"):
            report, figures = PRESETS[name][0](quick=quick, random_state=random_state,
                                               log=log, data=data)
    finally:
        torch.set_num_threads(threads)
    preset_meta = dict(report.meta)
    report.meta = {"preset": name, "data": preset_meta.get("data"), "quick": quick,
                   "random_state": random_state,
                   "seconds": round(time.perf_counter() - t0, 2),
                   "versions": {"sparsetools": __version__, "torch": torch.__version__,
                                "scikit-learn": sklearn.__version__,
                                "numpy": np.__version__, "python": platform.python_version()},
                   "skipped": preset_meta.get("skipped", {})}
    if "relative_l2" in preset_meta:  # stl-images: its epsilons are relative L2 sizes
        report.meta["relative_l2"] = preset_meta["relative_l2"]
    if out is not None:
        out = os.fspath(out)
        os.makedirs(out, exist_ok=True)
        report.to_json(os.path.join(out, "report.json"))
        report.to_csv(os.path.join(out, "report.csv"))
        source = _data_line(report.meta["data"])
        plot_accuracy(report, os.path.join(out, "accuracy.png"),
                      title=f"{name} on {report.meta['data']['name']}"
                      if report.meta["data"] else name)
        for filename, draw in figures.items():
            draw(os.path.join(out, filename))
        with open(os.path.join(out, "table.txt"), "w", encoding="utf-8") as fh:
            fh.write((f"# {name}: {source}\n" if source else "") + report.table() + "\n")
        names = ["report.json", "report.csv", "table.txt", "accuracy.png"] + list(figures)
        log(f"wrote {', '.join(names)} into {out}")
    return report


def _data_line(meta):
    """One line saying what data a report came from (empty without meta)."""
    if not meta:
        return ""
    side = "x".join(map(str, meta["image_shape"]))
    where = f" in {meta['path']}" if meta.get("path") else ""
    return (f"{meta['name']} ({meta['source']}{where}), {meta['n_train']} training and "
            f"{meta['n_test']} test images of {side}")
