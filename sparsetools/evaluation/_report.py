"""The result of a robustness evaluation: a table of records, saved as JSON or CSV."""
import csv
import io
import json
import math
import os

__all__ = ["Report", "COLUMNS"]

#: The columns of a report, in order. A record may leave any of them out (None).
COLUMNS = ("model", "condition", "threat_model", "attack", "epsilon", "accuracy",
           "undefended_accuracy", "noise_accuracy", "psnr", "ssim", "distance", "l2", "linf",
           "queries", "n")

_DOC = {
    "model": "name of the evaluated pipeline",
    "condition": "clean, low-pass or adversarial inputs",
    "threat_model": "grey-box, transfer, white-box or decision-based (adversarial rows)",
    "attack": "name of the attack",
    "epsilon": "attack budget in its norm",
    "accuracy": "accuracy of the pipeline",
    "undefended_accuracy": "accuracy of the classifier without the front end",
    "noise_accuracy": "accuracy of the pipeline under Gaussian noise of the perturbation's std",
    "psnr": "PSNR of the front end's output against the clean input (dB)",
    "ssim": "SSIM of the front end's output against the clean input",
    "distance": "representation distance between clean and perturbed front-end outputs",
    "l2": "mean L2 norm of the perturbation",
    "linf": "mean L-inf norm of the perturbation",
    "queries": "mean number of inputs a decision-based attack asked the pipeline about, "
               "per sample",
    "n": "number of samples",
}


def _clean(value):
    """JSON-safe scalars: numpy numbers to Python, NaN to None."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Report:
    """Records of an evaluation: one dict per row of its table.

    Each record has the keys of `COLUMNS` (missing values are None):
    clean rows, low-pass rows, and one adversarial row per threat model,
    attack and epsilon. `meta` holds what produced it (seeds, parameters,
    versions). Reports of several models are joined with ``+``.

    Parameters
    ----------
    records : list of dict, default=()
        Rows; unknown keys raise ``ValueError``.
    meta : dict, default=None
        JSON-serialisable information about the run.

    Examples
    --------
    >>> from sparsetools.evaluation import Report
    >>> r = Report([{"model": "svm", "condition": "clean", "accuracy": 0.95, "n": 100}])
    >>> r.records[0]["accuracy"], r.records[0]["attack"]
    (0.95, None)
    >>> print(r.to_csv().splitlines()[1])
    svm,clean,,,,0.95,,,,,,,,,100
    """

    def __init__(self, records=(), meta=None):
        self.records = []
        for record in records:
            self.add(**record)
        self.meta = dict(meta or {})

    def add(self, **values):
        """Append one record (keys from `COLUMNS`)."""
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown report columns {sorted(unknown)}; columns are "
                             f"{list(COLUMNS)}.")
        self.records.append({c: _clean(values.get(c)) for c in COLUMNS})

    def select(self, **values):
        """The records whose columns equal the given values."""
        return [r for r in self.records if all(r[k] == v for k, v in values.items())]

    def __add__(self, other):
        if not isinstance(other, Report):
            return NotImplemented
        meta = {**self.meta, **other.meta}
        return Report(self.records + other.records, meta)

    def __len__(self):
        return len(self.records)

    def to_dict(self):
        """``{"columns": ..., "records": ..., "meta": ...}``, JSON-serialisable."""
        return {"columns": list(COLUMNS), "records": [dict(r) for r in self.records],
                "meta": self.meta}

    def to_json(self, path=None):
        """The report as JSON text; also written to `path` when given."""
        text = json.dumps(self.to_dict(), indent=1, default=_clean)
        if path is not None:
            with open(os.fspath(path), "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text

    def to_csv(self, path=None):
        """The records as CSV text (header, then one line per record, empty for
        missing values); also written to `path` when given."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in self.records:
            writer.writerow(["" if r[c] is None else r[c] for c in COLUMNS])
        if path is not None:
            with open(os.fspath(path), "w", encoding="utf-8", newline="") as fh:
                fh.write(buf.getvalue())
        return buf.getvalue()

    @classmethod
    def from_json(cls, path_or_text):
        """Read a report written by `to_json` (a path or the JSON text)."""
        text = os.fspath(path_or_text)
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as fh:
                text = fh.read()
        data = json.loads(text)
        if not isinstance(data, dict) or "records" not in data:
            raise ValueError("not a sparsetools evaluation report: no 'records'.")
        return cls(data["records"], data.get("meta"))

    def table(self, columns=None):
        """The records as an aligned text table of the columns that have values."""
        if columns is None:
            columns = [c for c in COLUMNS if any(r[c] is not None for r in self.records)]
        rows = [[_fmt(r[c]) for c in columns] for r in self.records]
        widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in
                  enumerate(columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def __repr__(self):
        return f"Report({len(self.records)} records)"


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)
