"""to_torch: the torch twin of any fitted sparsetools front end."""
import numpy as np

__all__ = ["to_torch"]

_SUPPORTED = ("TopTFrontend", "SparseCoder", "LCACoder", "DeepSparseCoder",
              "DictionaryDenoiser", "ConvSparseCoder", "StratifiedConvSparseCoder")


def to_torch(estimator, *, backward="exact", steepness=4.0, top_u=None):
    """A torch module twin of a fitted front end.

    ``to_torch(est)(x)`` computes ``est.transform`` of the same data; the
    backward pass is chosen by `backward`. Each twin documents its forward
    pass, its input layout and its exact backward:

    - `TopTFrontend`: :class:`TopTFrontendModule` (NCHW input), backward
      ``"exact"``, ``"identity"`` or ``"smooth"``;
    - `SparseCoder`: :class:`SparseCoderModule` (rows), ``"exact"``;
    - `LCACoder`: :class:`LCACoderModule` (rows), ``"exact"`` or
      ``"identity"``;
    - `DeepSparseCoder`: :class:`DeepSparseCoderModule` (rows), ``"exact"``
      or ``"identity"``;
    - `DictionaryDenoiser`: :class:`DictionaryDenoiserModule` (NCHW, or rows
      with `image_shape`), ``"exact"`` or ``"identity"``;
    - `ConvSparseCoder`: :class:`ConvSparseCoderModule` (as the denoiser),
      ``"exact"`` or ``"identity"``;
    - `StratifiedConvSparseCoder`: :class:`StratifiedConvSparseCoderModule`
      (as the denoiser), ``"exact"`` or ``"identity"``.

    ``"exact"`` is the gradient of the map the twin computes, which is the
    estimator's map wherever that is differentiable (see each twin for
    where it is not: supports, signs or step counts that change);
    ``"identity"`` is BPDA's straight-through pass for the image-to-image
    front ends (forward: the estimator's own ``transform``; backward: the
    upstream gradient unchanged) and, for the LCA coders, for each
    threshold of the unrolled dynamics; ``"smooth"`` is TopT's smooth
    surrogate.
    A TopT twin takes NCHW tensors; rows of an estimator with
    `image_shape` ``(h, w, c)`` map to ``x.reshape(n, h, w,
    c).permute(0, 3, 1, 2)``.

    Parameters
    ----------
    estimator : estimator
        Fitted; one of the classes above.
    backward : str, default="exact"
        The backward pass, one the twin supports (list above).
    steepness : float, default=4.0
        Of TopT's smooth backward pass; not used by the other twins.
    top_u : int, default=None
        TopT's surrogate gradients through the U largest coefficients; must
        be None for the other twins.

    Returns
    -------
    module : torch.nn.Module
        With float64 buffers; inputs of any float dtype are computed in
        theirs (float32 stays float32).

    Raises
    ------
    TypeError
        For an estimator without a twin.
    ValueError
        For a `backward` the twin does not support, or `top_u` given for a
        twin other than TopT's.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import load_digits
    >>> from sparsetools import DictionaryDenoiser
    >>> from sparsetools.torch import to_torch
    >>> X = load_digits().data[:100] / 16
    >>> den = DictionaryDenoiser(image_shape=(8, 8), patch_size=4, n_components=24,
    ...                          n_nonzero_coefs=3, max_iter=1, random_state=0).fit(X)
    >>> x = torch.tensor(X[:2], requires_grad=True)
    >>> out = to_torch(den)(x)
    >>> bool(np.abs(out.detach().numpy() - den.transform(X[:2])).max() < 1e-10)
    True
    >>> out.sum().backward(); x.grad.shape
    torch.Size([2, 64])
    """
    from sklearn.utils.validation import check_is_fitted

    from sparsetools.coding._coder import SparseCoder
    from sparsetools.coding._lca_coder import LCACoder
    from sparsetools.convolutional._coder import ConvSparseCoder
    from sparsetools.convolutional._stratified import StratifiedConvSparseCoder
    from sparsetools.dictionary._deep import DeepSparseCoder
    from sparsetools.image._denoiser import DictionaryDenoiser
    from sparsetools.image._frontend import TopTFrontend
    from sparsetools.torch._coder import SparseCoderModule
    from sparsetools.torch._conv import ConvSparseCoderModule, StratifiedConvSparseCoderModule
    from sparsetools.torch._denoiser import DictionaryDenoiserModule
    from sparsetools.torch._images import check_backward
    from sparsetools.torch._lca import DeepSparseCoderModule, LCACoderModule
    from sparsetools.torch._topt import TopTFrontendModule

    if isinstance(estimator, TopTFrontend):
        check_is_fitted(estimator)
        return TopTFrontendModule(estimator.components_.astype(np.float64),
                                  estimator.patch_size, estimator.stride, estimator.n_top,
                                  estimator.beta, estimator.epsilon, backward=backward,
                                  steepness=steepness, top_u=top_u)
    twins = [(SparseCoder, None), (LCACoder, LCACoderModule),
             (DeepSparseCoder, DeepSparseCoderModule),
             (DictionaryDenoiser, DictionaryDenoiserModule),
             (StratifiedConvSparseCoder, StratifiedConvSparseCoderModule),
             (ConvSparseCoder, ConvSparseCoderModule)]
    for cls, module in twins:
        if isinstance(estimator, cls):
            if top_u is not None:
                raise ValueError(f"top_u applies to TopTFrontend twins only; got top_u="
                                 f"{top_u!r} for {cls.__name__}.")
            if module is None:
                check_backward(backward, ("exact",), cls.__name__)
                return SparseCoderModule(estimator)
            return module(estimator, backward=backward)
    raise TypeError(f"to_torch supports {', '.join(_SUPPORTED)}; got "
                    f"{type(estimator).__name__}.")
