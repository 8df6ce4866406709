"""Linear SVM on raw pixels vs on sparse codes of scikit-learn's digits.

The dictionary is made of unit-norm training digits (an exemplar dictionary:
no learning), the codes come from ``sparsetools.SparseCoder``, and a
``LinearSVC`` follows it in a ``Pipeline``. Prints the test accuracy of each
setting; ``--json PATH`` also writes them.

    python classifiers/linear_svm_on_codes.py [--n-atoms 300] [--json out.json]
"""
import argparse
import json

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from sparsetools import SparseCoder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-atoms", type=int, default=300)
    parser.add_argument("--ks", type=int, nargs="+", default=[3, 5, 10, 20])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y)
    rng = np.random.default_rng(args.seed)
    D = X_train[rng.choice(len(X_train), args.n_atoms, replace=False)]
    D = D / np.linalg.norm(D, axis=1, keepdims=True)

    results = {"raw pixels": LinearSVC().fit(X_train, y_train).score(X_test, y_test)}
    for algorithm in ("omp", "ormp"):
        for k in args.ks:
            clf = Pipeline([("coder", SparseCoder(D, algorithm=algorithm, n_nonzero_coefs=k)),
                            ("svm", LinearSVC())])
            clf.fit(X_train, y_train)
            results[f"{algorithm} k={k}"] = clf.score(X_test, y_test)
    print(f"digits, {len(X_train)} train / {len(X_test)} test, "
          f"{args.n_atoms} exemplar atoms")
    for name, acc in results.items():
        print(f"  {name:<12} {acc:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
