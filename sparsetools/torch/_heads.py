"""Torch modules computing fitted scikit-learn models, for white-box attacks.

:func:`torch_head` turns a fitted classifier (a linear model, an
``MLPClassifier``, an :class:`ExportedClassifier`) into a module giving its
scores as logits, with exact gradients; :func:`pipeline_module` does the same
for a whole ``Pipeline``, each front end replaced by its twin
(:func:`to_torch`) or, for front ends that return images of the input's
shape, by a BPDA module (:class:`BPDA`).
"""
import numpy as np
import torch

from sparsetools.torch._images import replace_forward
from sparsetools.torch.attacks import linear_head

__all__ = ["BPDA", "pipeline_module", "torch_head"]

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "logistic": torch.sigmoid,
                "identity": lambda z: z}


class _MLP(torch.nn.Module):
    """The pre-softmax outputs of a fitted ``MLPClassifier``."""

    def __init__(self, coefs, intercepts, activation):
        super().__init__()
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(np.array(W, dtype=np.float64)),
                                requires_grad=False) for W in coefs])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(np.array(b, dtype=np.float64)),
                                requires_grad=False) for b in intercepts])
        self.activation = activation

    def forward(self, x):
        z = x.reshape(x.shape[0], -1).to(torch.float64)
        act = _ACTIVATIONS[self.activation]
        n = len(self.weights)
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = z @ W + b
            if i < n - 1:
                z = act(z)
        if z.shape[1] == 1:
            z = torch.cat([torch.zeros_like(z), z], dim=1)
        return z


class _Exported(torch.nn.Module):
    """An ExportedClassifier's network on rows: reshape, float32, scores."""

    def __init__(self, net, input_shape):
        super().__init__()
        self.net = net
        self.input_shape = tuple(input_shape)

    def forward(self, x):
        out = self.net(x.reshape((x.shape[0],) + self.input_shape).to(torch.float32))
        return out.to(x.dtype)


class _Affine(torch.nn.Module):
    """``(x - mean) / scale``, a fitted StandardScaler."""

    def __init__(self, mean, scale):
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(np.asarray(mean, dtype=np.float64)))
        self.register_buffer("scale", torch.from_numpy(np.asarray(scale, dtype=np.float64)))

    def forward(self, x):
        return (x - self.mean.to(x.dtype)) / self.scale.to(x.dtype)


class _Projection(torch.nn.Module):
    """``(x - mean) @ components.T / scale``, a fitted PCA (``scale``: the
    square roots of the explained variances when it whitens, else ones)."""

    def __init__(self, mean, components, scale):
        super().__init__()
        for name, value in (("mean", mean), ("components", components), ("scale", scale)):
            self.register_buffer(name, torch.from_numpy(np.asarray(value, dtype=np.float64)))

    def forward(self, x):
        return ((x - self.mean.to(x.dtype)) @ self.components.to(x.dtype).T
                / self.scale.to(x.dtype))


def torch_head(estimator):
    """A torch module giving a fitted classifier's scores, with exact gradients.

    Parameters
    ----------
    estimator : estimator or torch.nn.Module
        One of:

        - a linear classifier with ``coef_`` and ``intercept_``
          (``LogisticRegression``, ``LinearSVC``, ``RidgeClassifier``, ...):
          its decision function (see `linear_head` for binary models);
        - a fitted ``MLPClassifier``: its outputs before the final softmax
          or logistic;
        - a fitted :class:`ExportedClassifier`: its network, on rows;
        - a ``torch.nn.Module``: returned as it is.

    Returns
    -------
    module : torch.nn.Module
        Maps rows ``(n, n_features)`` (any trailing shape is flattened) to
        logits ``(n, n_classes)``, in the order of the classifier's
        ``classes_``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sparsetools.torch import torch_head
    >>> X, y = load_digits(return_X_y=True)
    >>> mlp = MLPClassifier((32,), max_iter=500, random_state=0).fit(X / 16, y)
    >>> logits = torch_head(mlp)(torch.as_tensor(X[:5] / 16))
    >>> bool(np.array_equal(logits.argmax(1).numpy(), mlp.predict(X[:5] / 16)))
    True
    """
    from sklearn.neural_network import MLPClassifier
    from sklearn.utils.validation import check_is_fitted

    from sparsetools.torch._exported import ExportedClassifier

    if isinstance(estimator, torch.nn.Module):
        return estimator
    if isinstance(estimator, ExportedClassifier):
        check_is_fitted(estimator)
        return _Exported(estimator._net, estimator._input_shape())
    if isinstance(estimator, MLPClassifier):
        check_is_fitted(estimator)
        return _MLP(estimator.coefs_, estimator.intercepts_, estimator.activation)
    if hasattr(estimator, "coef_") and hasattr(estimator, "intercept_"):
        return linear_head(estimator)
    raise TypeError("torch_head supports linear classifiers (coef_, intercept_), "
                    "MLPClassifier, ExportedClassifier and torch modules; got "
                    f"{type(estimator).__name__}.")


class BPDA(torch.nn.Module):
    """A fitted image transformer in torch: its forward pass, an identity backward.

    Backward Pass Differentiable Approximation (Athalye, Carlini & Wagner,
    2018): the forward pass is the transformer's own ``transform`` (run in
    NumPy, so it is exactly the defense), and the backward pass treats it as
    the identity, which is the approximation the paper uses for denoisers
    and projections, whose output is close to their input.

    Parameters
    ----------
    transformer : estimator
        Fitted, with a ``transform`` that returns an array of its input's
        shape (`DictionaryDenoiser`, `ConvSparseCoder`, ...).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import load_digits
    >>> from sparsetools import DictionaryDenoiser
    >>> from sparsetools.torch import BPDA
    >>> X = load_digits().data[:200] / 16
    >>> den = DictionaryDenoiser(image_shape=(8, 8), patch_size=4, n_components=32,
    ...                          max_iter=1, random_state=0).fit(X)
    >>> x = torch.tensor(X[:3], requires_grad=True)
    >>> out = BPDA(den)(x)
    >>> bool(np.allclose(out.detach().numpy(), den.transform(X[:3])))
    True
    >>> out.sum().backward(); bool(torch.all(x.grad == 1))
    True
    """

    def __init__(self, transformer):
        super().__init__()
        if not hasattr(transformer, "transform"):
            raise TypeError(f"transformer must have a transform method; got "
                            f"{type(transformer).__name__}.")
        self.transformer = transformer

    def forward(self, x):
        arr = x.detach().cpu().numpy()
        out = np.asarray(self.transformer.transform(arr))
        if out.shape != arr.shape:
            raise ValueError(f"BPDA needs a transformer whose output has its input's shape; "
                             f"{type(self.transformer).__name__} maps {arr.shape} to "
                             f"{out.shape}.")
        return replace_forward(x, torch.as_tensor(out.astype(arr.dtype, copy=False),
                                                  device=x.device))


def _front_module(step, backward, steepness, top_u):
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    from sparsetools.coding._coder import SparseCoder
    from sparsetools.coding._lca_coder import LCACoder
    from sparsetools.convolutional import ConvSparseCoder, StratifiedConvSparseCoder
    from sparsetools.dictionary._deep import DeepSparseCoder
    from sparsetools.image._denoiser import DictionaryDenoiser
    from sparsetools.image._frontend import TopTFrontend
    from sparsetools.torch._twins import to_torch

    if step is None or step == "passthrough":
        return torch.nn.Identity()
    if isinstance(step, torch.nn.Module):
        return step
    if isinstance(step, TopTFrontend):
        return to_torch(step, backward=backward, steepness=steepness, top_u=top_u)
    if isinstance(step, SparseCoder):
        return to_torch(step)
    if isinstance(step, (LCACoder, DeepSparseCoder)):
        return to_torch(step, backward="exact" if backward == "exact" else "identity")
    if (isinstance(step, (DictionaryDenoiser, ConvSparseCoder, StratifiedConvSparseCoder))
            and step.image_shape is not None):
        return to_torch(step, backward="exact" if backward == "exact" else "identity")
    if isinstance(step, StandardScaler):
        mean = step.mean_ if step.with_mean else np.zeros(step.n_features_in_)
        scale = step.scale_ if step.with_std else np.ones(step.n_features_in_)
        return _Affine(mean, scale)
    if isinstance(step, PCA):
        scale = (np.sqrt(step.explained_variance_) if step.whiten
                 else np.ones(step.n_components_))
        return _Projection(step.mean_, step.components_, scale)
    return BPDA(step)


class _Rows(torch.nn.Module):
    """A TopT twin (NCHW) applied to rows of images of a given shape."""

    def __init__(self, module, image_shape):
        super().__init__()
        self.module = module
        self.image_shape = tuple(image_shape)

    def forward(self, x):
        h, w = self.image_shape[:2]
        c = self.image_shape[2] if len(self.image_shape) == 3 else 1
        return self.module(x.reshape(x.shape[0], h, w, c).permute(0, 3, 1, 2))


def pipeline_module(pipeline, *, backward="identity", steepness=4.0, top_u=None):
    """A torch module computing a fitted ``Pipeline``, for white-box attacks.

    Each step becomes a module: a `TopTFrontend` its twin (:func:`to_torch`
    with the given backward pass; rows are reshaped to its `image_shape`);
    a `SparseCoder` its twin (exact gradients, on the supports); an
    `LCACoder` or `DeepSparseCoder` its twin (through the unrolled
    dynamics: exact gradients when `backward` is ``"exact"``, otherwise
    BPDA's identity for every threshold, which lets units below their
    threshold pass gradients on); a
    `DictionaryDenoiser`, `ConvSparseCoder` or `StratifiedConvSparseCoder`
    with an `image_shape` its twin, with the exact backward pass when
    `backward` is ``"exact"`` and BPDA's identity otherwise; a
    ``StandardScaler`` or ``PCA`` its affine map; a torch module itself; and any other
    transformer whose output has its input's shape a :class:`BPDA` module:
    its own ``transform`` forward, identity backward. The last step goes
    through :func:`torch_head`.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted, on rows, ending in a classifier `torch_head` supports.
    backward : {"exact", "identity", "smooth"}, default="identity"
        Backward pass of `TopTFrontend` twins; of the image front ends' and
        LCA coders' twins, ``"exact"`` or (for the other two) the identity.
    steepness : float, default=4.0
        Of the smooth backward pass.
    top_u : int, default=None
        Surrogate gradients through the U largest top-T coefficients.

    Returns
    -------
    module : torch.nn.Sequential
        Rows ``(n, n_features)`` to logits. Transformers without a twin or
        whose output changes shape fail in the forward pass with a
        ``ValueError``.
    """
    from sklearn.pipeline import Pipeline

    from sparsetools.image._frontend import TopTFrontend

    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be a scikit-learn Pipeline; got "
                        f"{type(pipeline).__name__}.")
    steps = [step for _, step in pipeline.steps]
    modules = []
    for step in steps[:-1]:
        module = _front_module(step, backward, steepness, top_u)
        if isinstance(step, TopTFrontend):
            if step.image_shape is None:
                raise ValueError("a TopTFrontend in a Pipeline needs image_shape.")
            module = _Rows(module, step.image_shape)
        modules.append(module)
    modules.append(torch_head(steps[-1]))
    return torch.nn.Sequential(*modules).eval()
