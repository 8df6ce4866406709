"""Tests of the fixed dictionaries in sparsetools.dictionary."""
import numpy as np
import pytest
import scipy.fft

from sparsetools.dictionary import overcomplete_dct


def test_overcomplete_dct_square_case_is_the_orthonormal_dct_ii_basis():
    B = overcomplete_dct(8, 64)
    C = scipy.fft.dct(np.eye(8), norm="ortho", axis=0)  # C[k, i]: 1-D DCT-II basis
    reference = np.einsum("ai,bj->abij", C, C).reshape(64, 64)
    np.testing.assert_allclose(B, reference, rtol=0, atol=1e-14)


@pytest.mark.parametrize("patch_size, n_components", [(8, 256), (6, 100), (4, 25)])
def test_overcomplete_dct_atoms_are_unit_norm_and_zero_mean_but_the_first(
        patch_size, n_components):
    D = overcomplete_dct(patch_size, n_components)
    assert D.shape == (n_components, patch_size ** 2)
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(D[0], 1.0 / patch_size, rtol=0, atol=1e-12)
    # atoms other than the constant one have zero mean along the row factor
    # or the column factor, hence zero mean overall
    np.testing.assert_allclose(D[1:].mean(axis=1), 0.0, rtol=0, atol=1e-12)


def test_overcomplete_dct_spans_the_patch_space():
    D = overcomplete_dct(8, 256)
    assert np.linalg.matrix_rank(D) == 64


@pytest.mark.parametrize("bad", [63, 50, 0])
def test_overcomplete_dct_rejects_bad_n_components(bad):
    with pytest.raises(ValueError, match="n_components"):
        overcomplete_dct(8, bad)


def test_overcomplete_dct_rejects_non_integer_patch_size():
    with pytest.raises(TypeError, match="patch_size"):
        overcomplete_dct(8.0, 256)
