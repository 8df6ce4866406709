"""What the presets share: bundled data splits and quickly trained classifiers."""
import warnings

__all__ = ["digits_split", "train_mlp", "train_svm"]


def digits_split(quick, random_state):
    """scikit-learn's digits in [0, 1], half for training (stratified), and
    300 test images (40 with `quick`)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.5, random_state=random_state, stratify=y)
    n_test = 40 if quick else 300
    return X_train, X_test[:n_test], y_train, y_test[:n_test]


def train_mlp(X, y, quick, random_state, hidden=64):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # quick runs stop early
        return MLPClassifier((hidden,), max_iter=200 if quick else 1000,
                             random_state=random_state).fit(X, y)


def train_svm(X, y):
    from sklearn.svm import LinearSVC

    return LinearSVC(C=1.0).fit(X, y)
