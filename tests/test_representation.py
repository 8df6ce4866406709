"""Tests of sparsetools.metrics.representation_distance (Kim et al., Table 1)."""
import numpy as np
import pytest

from sparsetools.coding import lca
from sparsetools.datasets import load_patches
from sparsetools.metrics import representation_distance


def _by_definition(A, B, pooled=False):
    """mean_{i,j} |A_ij - B_ij| / mean_j std_i, with explicit loops."""
    n, m = A.shape
    diff = sum(abs(A[i, j] - B[i, j]) for i in range(n) for j in range(m)) / (n * m)
    P = np.vstack([A, B]) if pooled else A
    stds = []
    for j in range(m):
        col = P[:, j]
        mean = sum(col) / len(col)
        stds.append(np.sqrt(sum((v - mean) ** 2 for v in col) / len(col)))
    return diff / (sum(stds) / m)


def test_worked_example():
    # Units with standard deviations 1 and 2 across the two inputs (mean 1.5);
    # the perturbation moves the activations by 1 on average.
    A = np.array([[0.0, 0.0], [2.0, 4.0]])
    B = np.array([[1.0, 0.0], [2.0, 1.0]])
    assert representation_distance(A, B) == pytest.approx(1.0 / 1.5, rel=1e-15)
    # Pooled: the columns of [A; B] have standard deviations 0.829 and 1.639.
    pooled = np.std(np.vstack([A, B]), axis=0).mean()
    assert representation_distance(A, B, spread="pooled") == pytest.approx(1.0 / pooled,
                                                                           rel=1e-15)


@pytest.mark.parametrize("pooled", [False, True])
def test_equals_the_definition_on_random_data(pooled):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((7, 5)) * rng.uniform(0.1, 3.0, 5)
    B = A + 0.3 * rng.standard_normal((7, 5))
    got = representation_distance(A, B, spread="pooled" if pooled else "reference")
    assert got == pytest.approx(_by_definition(A, B, pooled), rel=1e-12)


def test_invariances():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((20, 6))
    B = A + 0.1 * rng.standard_normal((20, 6))
    d = representation_distance(A, B)
    assert representation_distance(A, A) == 0.0
    # Scale and a common shift of both representations change nothing.
    assert representation_distance(3.5 * A, 3.5 * B) == pytest.approx(d, rel=1e-12)
    assert representation_distance(A + 7.0, B + 7.0) == pytest.approx(d, rel=1e-12)
    # Larger perturbations are farther.
    assert representation_distance(A, A + 2 * (B - A)) == pytest.approx(2 * d, rel=1e-12)
    # Pooled is symmetric; the reference spread in general is not.
    assert (representation_distance(A, B, spread="pooled")
            == pytest.approx(representation_distance(B, A, spread="pooled"), rel=1e-12))
    assert representation_distance(A, 3 * B) != pytest.approx(representation_distance(3 * B, A))


def test_feature_maps_are_flattened_and_integers_accepted():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 2, 3))
    B = A + rng.standard_normal((6, 2, 3))
    assert representation_distance(A, B) == representation_distance(A.reshape(6, 6),
                                                                    B.reshape(6, 6))
    Ai = np.array([[0, 1], [2, 3]])
    assert representation_distance(Ai, Ai + 1) == pytest.approx(1.0)


def test_sparse_codes_of_noisy_patches_move_less_than_the_pixels():
    # The paper's observation, on real patches: Gaussian noise moves LCA codes
    # less, relative to their spread, than it moves the pixels (measured:
    # 0.0098 against 0.024 at noise 0.03 / 8 per pixel).
    P = load_patches(856, images=["camera"], random_state=5)
    X, D = P[256:], P[:256]
    noisy = X + 0.03 / 8 * np.random.default_rng(0).standard_normal(X.shape)
    codes = lca(X, D, threshold=0.18, integrator="nesterov")
    noisy_codes = lca(noisy, D, threshold=0.18, integrator="nesterov")
    pixels = representation_distance(X, noisy)
    sparse = representation_distance(codes, noisy_codes)
    assert 0.02 < pixels < 0.03
    assert sparse < 0.5 * pixels


@pytest.mark.parametrize("A, B, error, match", [
    (np.ones((3, 2)), np.ones((2, 3)), ValueError,
     r"A and B must have the same shape \(paired rows\); got \(3, 2\) and \(2, 3\)"),
    (np.ones((1, 4)), np.ones((1, 4)), ValueError, "A needs at least 2 rows"),
    (np.ones((0, 4)), np.ones((0, 4)), ValueError, "A needs at least 2 rows"),
    (np.ones((3, 0)), np.ones((3, 0)), ValueError, "A has no units"),
    (np.ones(4), np.ones(4), ValueError, r"A must have shape \(n_samples, n_units, \.\.\.\)"),
    (np.eye(3), np.full((3, 3), np.nan), ValueError, "B contains NaN or infinity"),
    (np.ones((3, 2)), np.zeros((3, 2)), ValueError,
     "A does not vary across inputs .* the distance is undefined"),
    (np.array([["a", "b"], ["c", "d"]]), np.eye(2), TypeError, "A must hold real numbers"),
])
def test_bad_inputs_raise_naming_the_argument(A, B, error, match):
    with pytest.raises(error, match=match):
        representation_distance(A, B)


def test_unknown_spread_raises():
    with pytest.raises(ValueError, match="spread must be one of 'reference', 'pooled'"):
        representation_distance(np.eye(2), np.eye(2), spread="both")
    # Pooled is undefined only when both are constant and equal.
    with pytest.raises(ValueError, match="A and B do not vary"):
        representation_distance(np.ones((2, 2)), np.ones((2, 2)), spread="pooled")
