"""Presets: the papers' robustness experiments, scaled to data that ships with
the dependencies, run by `run_preset` and ``sparsetools evaluate PRESET``."""
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


def run_preset(name, *, out=None, quick=False, random_state=0, log=print):
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

    Returns
    -------
    report : Report
        The table; ``meta`` says the preset, the seed, the run time and the
        versions.
    """
    from sparsetools import __version__
    from sparsetools.evaluation._plots import plot_accuracy
    from sparsetools.utils._validation import check_bool, check_option

    check_option(name, "name", tuple(PRESETS))
    quick = check_bool(quick, "quick")
    t0 = time.perf_counter()
    log(f"preset {name}{' (quick)' if quick else ''}: {PRESETS[name][1]}")
    import sklearn
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the models are tiny: one thread is several times faster
    try:
        report, figures = PRESETS[name][0](quick=quick, random_state=random_state, log=log)
    finally:
        torch.set_num_threads(threads)
    report.meta = {"preset": name, "quick": quick, "random_state": random_state,
                   "seconds": round(time.perf_counter() - t0, 2),
                   "versions": {"sparsetools": __version__, "torch": torch.__version__,
                                "scikit-learn": sklearn.__version__,
                                "numpy": np.__version__, "python": platform.python_version()},
                   "skipped": report.meta.get("skipped", {})}
    if out is not None:
        out = os.fspath(out)
        os.makedirs(out, exist_ok=True)
        report.to_json(os.path.join(out, "report.json"))
        report.to_csv(os.path.join(out, "report.csv"))
        plot_accuracy(report, os.path.join(out, "accuracy.png"), title=name)
        for filename, draw in figures.items():
            draw(os.path.join(out, filename))
        with open(os.path.join(out, "table.txt"), "w", encoding="utf-8") as fh:
            fh.write(report.table() + "\n")
        names = ["report.json", "report.csv", "table.txt", "accuracy.png"] + list(figures)
        log(f"wrote {', '.join(names)} into {out}")
    return report
