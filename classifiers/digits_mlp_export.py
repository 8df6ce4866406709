"""Train a small MLP on scikit-learn's digits with torch and export it.

Run: ``python classifiers/digits_mlp_export.py --out digits_mlp.pt2`` (needs the
torch extra; a few seconds). The file is a ``torch.export`` program with a
dynamic batch axis (torch 2.13 deprecates TorchScript), which
``sparsetools.torch.ExportedClassifier`` loads at the end of a Pipeline, e.g.
``Pipeline([("scale", FunctionTransformer(lambda X: X / 16)),
("net", ExportedClassifier("digits_mlp.pt2", input_shape=(64,)))])``.
"""
import argparse

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def make_mlp(n_in=64, n_hidden=64, n_classes=10):
    """The MLP: Linear-ReLU-Linear, float32."""
    return torch.nn.Sequential(torch.nn.Linear(n_in, n_hidden), torch.nn.ReLU(),
                               torch.nn.Linear(n_hidden, n_classes))


def train(X, y, *, epochs=60, lr=0.05, seed=0):
    """Full-batch Adam on cross-entropy; returns the trained module in eval mode."""
    torch.manual_seed(seed)
    net = make_mlp(X.shape[1], 64, int(y.max()) + 1)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt).backward()
        opt.step()
    return net.eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="digits_mlp.pt2",
                        help="torch.export program file to write (.pt2)")
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.5,
                                                        random_state=0, stratify=y)
    net = train(X_train, y_train, epochs=args.epochs)
    with torch.no_grad():
        pred = net(torch.as_tensor(X_test, dtype=torch.float32)).argmax(1).numpy()
    accuracy = float(np.mean(pred == y_test))
    program = torch.export.export(
        net, (torch.zeros(2, X.shape[1]),),
        dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))
    torch.export.save(program, args.out)
    print(f"MLP 64-64-10 on digits: test accuracy {accuracy:.3f}; wrote {args.out}")
    return {"accuracy": accuracy, "path": args.out}


if __name__ == "__main__":
    main()
