"""Shared data, result collection and the summary tables of the benchmarks.

Run with ``pytest benchmarks/`` (see ``benchmarks/README.md``). The data and
the dictionary are built once per session; every benchmark appends its timing
to a session list, and `pytest_terminal_summary` prints, per suite (OMP,
lasso), signals/second and the sparsetools/peer ratios from that same run.
"""
import json
import os
import platform
import warnings

import numpy as np
import pytest

RESULTS = pytest.StashKey[list]()

#: Per suite: the title of its table, what its cells are, its implementations
#: with their labels, and the (sparsetools, peer) pairs whose throughput
#: ratio is reported.
SUITES = {
    "omp": {
        "title": "sparsetools OMP/ORMP vs peers",
        "cell": "k",
        "impls": {
            "st_ormp": "sparsetools ormp",
            "spams": "SPAMS omp (ORMP)",
            "st_omp": "sparsetools omp",
            "sklearn": "sklearn orthogonal_mp_gram",
        },
        "ratios": (("st_ormp", "spams"), ("st_omp", "sklearn"), ("st_ormp", "sklearn")),
    },
    "lasso": {
        "title": "sparsetools lasso vs peers",
        "cell": "alpha",
        "impls": {
            "st_lars": "sparsetools lasso lars",
            "st_cd": "sparsetools lasso cd",
            "st_fista": "sparsetools lasso fista",
            "spams": "SPAMS lasso mode=2 (LARS)",
            "sk_cd": "sklearn sparse_encode lasso_cd",
            "sk_lars": "sklearn sparse_encode lasso_lars",
        },
        "ratios": (("st_lars", "spams"), ("st_lars", "sk_cd"), ("st_cd", "sk_cd"),
                   ("st_lars", "sk_lars")),
    },
    "dl": {
        "title": "sparsetools online dictionary learning vs peers (samples visited)",
        "cell": "steps",
        "impls": {
            "st_online": "sparsetools DictionaryLearner online, lasso",
            "spams": "SPAMS trainDL mode=2",
            "sklearn": "sklearn MiniBatchDictionaryLearning cd",
        },
        "ratios": (("st_online", "spams"), ("st_online", "sklearn")),
    },
    "lca": {
        "title": "sparsetools LCA vs a NumPy LCA and SPAMS",
        "cell": "threshold",
        "impls": {
            "numpy_euler": "NumPy LCA, Euler dt/tau=0.05, 200 steps",
            "st_euler": "sparsetools lca euler, same step and steps",
            "st_nesterov": "sparsetools lca nesterov, tol=0.1",
            "spams": "SPAMS lasso mode=2 (LARS)",
        },
        "ratios": (("st_euler", "numpy_euler"), ("st_nesterov", "numpy_euler"),
                   ("st_nesterov", "spams")),
    },
}


def pytest_addoption(parser):
    group = parser.getgroup("sparsetools", "sparsetools benchmarks")
    group.addoption("--report", metavar="PATH", default=None,
                    help="also write the summary tables to PATH as JSON")


def pytest_configure(config):
    config.stash[RESULTS] = []


@pytest.fixture(scope="session")
def bench_results(pytestconfig):
    """Session list that each benchmark appends its timing record to.

    A record has the keys ``suite`` (a key of `SUITES`), ``cell`` (the value
    of the suite's cell parameter), ``impl``, ``dtype``, ``threads``,
    ``n_signals``, ``min_s``, ``median_s`` and ``rounds``.
    """
    return pytestconfig.stash[RESULTS]


@pytest.fixture(scope="session")
def patches():
    """100,000 real 8x8 patches (unit norm, mean removed), by dtype.

    Returns
    -------
    patches : dict of {"float32", "float64"} to ndarray of shape (100000, 64)
        C-contiguous float64 patches and their float32 copy.
    """
    from sparsetools.datasets import load_patches

    X = load_patches(100_000, random_state=0)
    return {"float64": X, "float32": X.astype(np.float32)}


@pytest.fixture(scope="session")
def dictionary():
    """256 unit-norm atoms of 64 dims learned on other patches, by dtype.

    One epoch of :class:`sklearn.decomposition.MiniBatchDictionaryLearning`
    over 20,000 patches drawn with another seed (about 10-20 s).

    Returns
    -------
    dictionary : dict of {"float32", "float64"} to ndarray of shape (256, 64)
        Atoms as rows, normalised to unit norm in float64.
    """
    from sklearn.decomposition import MiniBatchDictionaryLearning
    from sklearn.exceptions import ConvergenceWarning

    from sparsetools.datasets import load_patches

    X_train = load_patches(20_000, random_state=1)
    dl = MiniBatchDictionaryLearning(n_components=256, alpha=0.1, batch_size=256,
                                     fit_algorithm="cd", max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        D = dl.fit(X_train).components_
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    return {"float64": np.ascontiguousarray(D), "float32": D.astype(np.float32)}


def summary_rows(results, suite):
    """One row per (cell, dtype, threads) of a suite: signals/s and ratios.

    Parameters
    ----------
    results : list of dict
        Records (see `bench_results`); those of other suites are ignored.
    suite : str
        A key of `SUITES`.

    Returns
    -------
    rows : list of dict
        ``signals_per_s`` (from the best round) and ``signals_per_s_median``
        map an implementation to its throughput; ``ratios`` maps
        ``"st_x/peer"`` to the throughput ratio (> 1: sparsetools faster).
    """
    cells = {}
    for r in results:
        if r["suite"] == suite:
            cell = cells.setdefault((r["cell"], r["dtype"], r["threads"]), {})
            cell[r["impl"]] = r
    rows = []
    for (value, dtype, threads), cell in sorted(cells.items()):
        best = {i: r["n_signals"] / r["min_s"] for i, r in cell.items()}
        median = {i: r["n_signals"] / r["median_s"] for i, r in cell.items()}
        ratios = {f"{a}/{b}": best[a] / best[b] for a, b in SUITES[suite]["ratios"]
                  if a in best and b in best}
        rows.append({SUITES[suite]["cell"]: value, "dtype": dtype, "threads": threads,
                     "n_signals": {i: r["n_signals"] for i, r in cell.items()},
                     "signals_per_s": best, "signals_per_s_median": median,
                     "ratios": ratios})
    return rows


def format_table(rows, suite):
    """The summary rows of a suite as a fixed-width text table."""
    spec = SUITES[suite]
    cols = list(spec["impls"])
    ratio_cols = [f"{a}/{b}" for a, b in spec["ratios"]]
    key = spec["cell"]
    head = (f"{key:>6} {'dtype':>7} {'thr':>3} "
            + " ".join(f"{c:>10}" for c in cols) + " "
            + " ".join(f"{c:>15}" for c in ratio_cols))
    lines = [head, "-" * len(head)]
    for row in rows:
        sps = [row["signals_per_s"].get(c) for c in cols]
        rat = [row["ratios"].get(c) for c in ratio_cols]
        lines.append(
            f"{row[key]:>6.4g} {row['dtype']:>7} {row['threads']:>3} "
            + " ".join(f"{v:>10,.0f}" if v is not None else f"{'-':>10}" for v in sps)
            + " "
            + " ".join(f"{v:>15.2f}" if v is not None else f"{'-':>15}" for v in rat))
    return "\n".join(lines)


def cbpdn_rows(results):
    """Per (case, threads): ms per iteration of each solver and SPORCO/st ratios."""
    cells = {}
    for r in results:
        if r["suite"] == "cbpdn":
            cells.setdefault((r["cell"], r["threads"]), {})[r["impl"]] = r
    rows = []
    for (case, threads), cell in cells.items():
        ms = {i: 1e3 * r["min_s"] / r["iterations"] for i, r in cell.items()}
        ratios = {f"{i}/st": ms[i] / ms["st"] for i in ms if i != "st" and "st" in ms}
        rows.append({"case": case, "threads": threads, "ms_per_iter": ms, "ratios": ratios,
                     "functional": {i: r["functional"] for i, r in cell.items()}})
    return rows


def format_cbpdn_table(rows):
    impls = ("st", "sporco", "sporco_fast")
    head = (f"{'case':>16} {'thr':>3} " + " ".join(f"{i:>11}" for i in impls)
            + f" {'sporco/st':>10} {'fast/st':>8}")
    lines = [head, "-" * len(head)]
    for row in rows:
        ms = [row["ms_per_iter"].get(i) for i in impls]
        rat = [row["ratios"].get(k) for k in ("sporco/st", "sporco_fast/st")]
        lines.append(f"{row['case']:>16} {row['threads']:>3} "
                     + " ".join(f"{v:>11.1f}" if v is not None else f"{'-':>11}" for v in ms)
                     + f" {rat[0]:>10.2f}" if rat[0] is not None else "")
        if rat[1] is not None:
            lines[-1] += f" {rat[1]:>8.2f}"
    return "\n".join(lines)


#: Methods of the denoising table (benchmarks/bench_denoise.py), in column order.
DENOISERS = {"st": "sparsetools DictionaryDenoiser (K-SVD)",
             "sklearn": "scikit-learn dictionary-learning example (best transform)",
             "tv": "skimage TV Chambolle (oracle weight)",
             "wavelet": "skimage wavelet BayesShrink",
             "nl_means": "skimage non-local means"}


def denoise_rows(results):
    """Per (image, sigma): PSNR, SSIM and seconds of each denoiser, and the
    PSNR margin of sparsetools over the best of scikit-learn, TV and wavelet."""
    cells = {}
    for r in results:
        if r["suite"] == "denoise":
            cells.setdefault((r["image"], r["sigma"]), {})[r["impl"]] = r
    rows = []
    for (image, sigma), cell in sorted(cells.items()):
        peers = [cell[m]["psnr"] for m in ("sklearn", "tv", "wavelet") if m in cell]
        margin = cell["st"]["psnr"] - max(peers) if "st" in cell and peers else None
        rows.append({"image": image, "sigma": sigma,
                     "noisy_psnr": next(iter(cell.values()))["noisy_psnr"],
                     "methods": {m: {k: cell[m][k] for k in ("psnr", "ssim", "seconds",
                                                            "variant")}
                                 for m in cell},
                     "st_margin_db": margin})
    return rows


def format_denoise_table(rows):
    """The denoising rows as text: PSNR / SSIM / seconds per method."""
    head = (f"{'image':>10} {'sigma':>5} {'noisy':>6} "
            + " ".join(f"{m:>20}" for m in DENOISERS) + f" {'st-best':>8}")
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = []
        for m in DENOISERS:
            r = row["methods"].get(m)
            cells.append(f"{r['psnr']:6.2f}/{r['ssim']:.3f}/{r['seconds']:5.1f}s"
                         if r else f"{'-':>20}")
        margin = row["st_margin_db"]
        lines.append(f"{row['image']:>10} {row['sigma']:>5} {row['noisy_psnr']:6.2f} "
                     + " ".join(f"{c:>20}" for c in cells)
                     + (f" {margin:+8.2f}" if margin is not None else f" {'-':>8}"))
    return "\n".join(lines)


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def write_table(tr, title, header, lines):
    """A section of the terminal summary: its title, a header line, the rows."""
    tr.section(title)
    tr.write_line(header)
    for line in lines:
        tr.write_line(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = config.stash.get(RESULTS, [])
    if not results:
        return
    tr = terminalreporter
    tables = {}
    for suite, spec in SUITES.items():
        rows = summary_rows(results, suite)
        if not rows:
            continue
        tables[suite] = rows
        tr.section(f"{spec['title']}: signals per second (best round)")
        tr.write_line(format_table(rows, suite))
        tr.write_line("")
        tr.write_line("Columns: " + "; ".join(f"{k} = {v}"
                                               for k, v in spec["impls"].items()) + ".")
        tr.write_line("Ratios are sparsetools signals/s over the peer's, same run "
                      "(> 1: sparsetools faster).")
    batch = {r["impl"]: r["images"] / r["min_s"] for r in results
             if r["suite"] == "batch"}
    if batch:
        tables["batch"] = batch
        tr.section("folder throughput: images per second (256x256 gray, 8x8, 256 atoms)")
        tr.write_line("  ".join(f"{k} {v:.2f}/s" for k, v in batch.items()))
        if "st_1" in batch and "st_2" in batch:
            tr.write_line(f"2-worker scaling efficiency: {batch['st_2'] / (2 * batch['st_1']):.0%}")
        if "st_1" in batch and "sklearn" in batch:
            tr.write_line(f"st_1 / sklearn: {batch['st_1'] / batch['sklearn']:.1f}x; "
                          f"st_2 / sklearn: {batch.get('st_2', float('nan')) / batch['sklearn']:.1f}x")
    rows = cbpdn_rows(results)
    if rows:
        tables["cbpdn"] = rows
        tr.section("CBPDN: milliseconds per ADMM iteration (best round), float32")
        tr.write_line(format_cbpdn_table(rows))
        tr.write_line("")
        tr.write_line("st = sparsetools conv_bpdn; sporco = ConvBPDN, default options; "
                      "sporco_fast = FastSolve. Ratios: SPORCO's time over sparsetools' "
                      "(> 1: sparsetools faster).")
    cdl = [r for r in results if r["suite"] == "cdl"]
    if cdl:
        tables["cdl"] = cdl
        tr.section("convolutional dictionary learning: seconds (2 threads) and held-out "
                   "CBPDN functional (lower is better)")
        for r in cdl:
            tr.write_line(f"{r['impl']:>7} {r['iterations']:>4} iterations/batches "
                          f"{r['seconds']:>7.1f} s  held-out {r['held_out']:.3f}")
    paired = sorted((r for r in results if r["suite"] == "dl_paired"),
                    key=lambda r: r["threads"])
    if paired:
        tables["dl_paired"] = paired
        write_table(tr, "online dictionary learning, sparsetools and SPAMS in alternating "
                    "rounds: seconds and SPAMS time / sparsetools time",
                    f"{'threads':>7} {'st best':>8} {'spams best':>10} {'best ratio':>10} "
                    f"{'median pair':>11} {'worst pair':>10}",
                    [f"{r['threads']:>7} {r['best_s']['st_online']:>8.3f} "
                     f"{r['best_s']['spams']:>10.3f} {r['best_ratio']:>10.2f} "
                     f"{r['median_pair_ratio']:>11.2f} {r['min_pair_ratio']:>10.2f}"
                     for r in paired])
    stl = sorted((r for r in results if r["suite"] == "stl"), key=lambda r: r["alpha"])
    if stl:
        tables["stl"] = stl
        write_table(tr, "Sparse Transformation Layer: quality / robustness against alpha "
                    "(3 held-out images, 128x128, noise sigma 0.05)",
                    f"{'alpha':>6} {'PSNR P(x)':>10} {'PSNR P(x+n)':>12} {'PSNR x+n':>9} "
                    f"{'|P(x+n)-P(x)|/|n|':>18}",
                    [f"{r['alpha']:>6} {r['psnr_clean']:>10.2f} {r['psnr_noisy']:>12.2f} "
                     f"{r['psnr_noisy_input']:>9.2f} {r['distance_ratio']:>18.3f}"
                     for r in stl])
    rows = denoise_rows(results)
    if rows:
        tables["denoise"] = rows
        tr.section("denoising: PSNR (dB) / SSIM / seconds, outputs clipped to [0, 1]")
        tr.write_line(format_denoise_table(rows))
        tr.write_line("")
        tr.write_line("Columns: " + "; ".join(f"{k} = {v}" for k, v in DENOISERS.items())
                      + "; st-best = sparsetools PSNR minus the best of sklearn, tv "
                      "and wavelet.")
    path = config.getoption("--report", default=None)
    if path:
        import sklearn
        import sparsetools

        meta = {"python": platform.python_version(), "machine": platform.machine(),
                "cpus": os.cpu_count(), "numpy": np.__version__,
                "sklearn": sklearn.__version__, "sparsetools": sparsetools.__version__}
        with open(path, "w") as f:
            json.dump({"meta": meta, "tables": tables, "raw": results}, f, indent=1)
        tr.write_line(f"Summary written to {path}")
