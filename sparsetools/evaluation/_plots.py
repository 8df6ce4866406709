"""PNG figures of an evaluation (matplotlib, imported when a figure is drawn)."""
import numpy as np

__all__ = ["plot_accuracy", "plot_atoms", "plot_examples", "plot_tradeoff"]


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install matplotlib") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def plot_accuracy(report, path, *, title=None):
    """Accuracy against epsilon, one panel per threat model, one line per
    model and attack (dotted: the undefended classifier on the same inputs).
    The clean accuracy is the point at epsilon 0."""
    plt = _pyplot()
    rows = [r for r in report.records if r["condition"] == "adversarial"
            and r["epsilon"] is not None]
    threats = sorted({r["threat_model"] for r in rows})
    fig, axes = plt.subplots(1, max(1, len(threats)), figsize=(4.5 * max(1, len(threats)), 3.6),
                             squeeze=False)
    for ax, threat in zip(axes[0], threats):
        keys = sorted({(r["model"], r["attack"]) for r in rows if r["threat_model"] == threat})
        for model, attack in keys:
            sel = sorted((r for r in rows if r["threat_model"] == threat and
                          r["model"] == model and r["attack"] == attack),
                         key=lambda r: r["epsilon"])
            clean = report.select(model=model, condition="clean")
            eps = [0.0] + [r["epsilon"] for r in sel]
            acc = [clean[0]["accuracy"] if clean else np.nan] + [r["accuracy"] for r in sel]
            line, = ax.plot(eps, acc, marker="o", label=f"{model} {attack}")
            if all(r["undefended_accuracy"] is not None for r in sel):
                und = ([clean[0]["undefended_accuracy"] if clean else np.nan]
                       + [r["undefended_accuracy"] for r in sel])
                ax.plot(eps, und, ls=":", color=line.get_color())
        ax.set_title(threat)
        ax.set_xlabel("epsilon")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_examples(rows, image_shape, path, *, labels=None):
    """A grid of images: one row of the figure per entry of `rows` (a dict of
    name -> array of flattened images, all with the same number of images)."""
    plt = _pyplot()
    names = list(rows)
    n = len(next(iter(rows.values())))
    fig, axes = plt.subplots(len(names), n, figsize=(1.1 * n, 1.2 * len(names)), squeeze=False)
    for i, name in enumerate(names):
        for j in range(n):
            ax = axes[i, j]
            img = np.clip(np.asarray(rows[name][j]).reshape(image_shape), 0, 1)
            ax.imshow(img, cmap=None if img.ndim == 3 else "gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize=7)
            if labels is not None and i == 0:
                ax.set_title(str(labels[j]), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_atoms(atoms, patch_shape, path, *, max_atoms=64):
    """Dictionary atoms (rows, flattened patches or filters of `patch_shape`),
    each scaled to its own range."""
    plt = _pyplot()
    atoms = np.asarray(atoms)[:max_atoms]
    cols = int(np.ceil(np.sqrt(len(atoms))))
    rows = int(np.ceil(len(atoms) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(0.7 * cols, 0.7 * rows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(atoms):
            ax.axis("off")
            continue
        a = atoms[k].reshape(patch_shape)
        span = np.ptp(a)
        a = (a - a.min()) / span if span > 0 else np.zeros_like(a)
        ax.imshow(a, cmap=None if a.ndim == 3 else "gray", vmin=0, vmax=1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_tradeoff(report, path, *, attack, epsilon, threat_models=("grey-box",)):
    """Accuracy against the PSNR of the front end's clean output, one point per
    model that has one: clean accuracy, and adversarial accuracy under
    `attack` at `epsilon` for each threat model (the fidelity-robustness
    trade-off of paper 004)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.8))
    clean = [r for r in report.select(condition="clean") if r["psnr"] is not None]
    series = [("clean", lambda m: report.select(model=m, condition="clean"))]
    series += [(f"{t} {attack} {epsilon}",
                lambda m, t=t: report.select(model=m, condition="adversarial", threat_model=t,
                                             attack=attack, epsilon=epsilon))
               for t in threat_models]
    for label, rows_of in series:
        pts = [(r["psnr"], rows_of(r["model"])) for r in clean]
        pts = sorted((p, rows[0]["accuracy"]) for p, rows in pts if rows)
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label)
    for r in clean:
        ax.annotate(r["model"].split("+")[0], (r["psnr"], r["accuracy"]), fontsize=6)
    ax.set_xlabel("PSNR of the clean projection (dB)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
