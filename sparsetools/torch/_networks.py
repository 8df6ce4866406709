"""The papers' downstream networks, the top-T decoder and a seeded training loop.

Paper 002 (Table 3) puts an MLP, a ConvNet and a ResNet behind its
dictionary-learning denoiser; paper 003 (section 3.3, appendix A.1) puts a
decoder of three transposed convolutions between its top-T front end and a
CNN. Every network takes NCHW float32 batches (an MLP takes any shape and
flattens it) and returns class scores (logits: the softmax of Table 3 is in
the cross-entropy loss and in ``ExportedClassifier.predict_proba``).
"""
import math

import numpy as np
import torch
from torch import nn

from sparsetools.image._patches import _check_stride, _pair, _positions
from sparsetools.utils._validation import check_float, check_int, check_option

__all__ = ["MLP", "ChannelsLast", "ConvNet", "ResNet", "TopTClassifier", "TopTDecoder",
           "train_classifier"]

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)


def _shape(value, name, ndim=None):
    """A tuple of positive ints (of length `ndim` when given)."""
    if not isinstance(value, (tuple, list)) or not value:
        raise ValueError(f"{name} must be a tuple of ints; got {value!r}.")
    if ndim is not None and len(value) != ndim:
        raise ValueError(f"{name} must have {ndim} entries; got {tuple(value)!r}.")
    return tuple(check_int(v, name, min_val=1) for v in value)


def _rates(value, name, n):
    """`n` dropout probabilities in [0, 1) from a float or a sequence."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be a float or {n} floats; got {value!r}.")
        rates = tuple(check_float(v, name, min_val=0.0) for v in value)
    else:
        rates = (check_float(value, name, min_val=0.0),) * n
    if any(r >= 1 for r in rates):
        raise ValueError(f"{name} must be in [0, 1); got {value!r}.")
    return rates


class MLP(nn.Sequential):
    """The multilayer perceptron of paper 002 (Table 3).

    Per hidden layer: dropout, batch normalisation, a dense layer and ReLU;
    then a dense layer to the class scores. Table 3 lists ``Dropout 0.5,
    BatchNorm, Dense 784, ReLU, Dropout 0.2, BatchNorm, Dense 256, ReLU,
    Dense 10, Softmax``, which the defaults reproduce for any input size
    (the softmax is left to the loss).

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one input without the batch axis, e.g. ``(64,)``,
        ``(1, 28, 28)`` or ``(3, 32, 32)``; it is flattened.
    n_classes : int
        Scores per input.
    hidden : tuple of int, default=(784, 256)
        Width of each hidden layer.
    dropout : float or tuple of float, default=None
        Dropout before each hidden layer (one rate, or one per layer); None:
        Table 3's 0.5 before the first and 0.2 before the others.
    batch_norm : bool, default=True
        Batch normalisation before each hidden dense layer.

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch import MLP
    >>> net = MLP((1, 28, 28), 10).eval()
    >>> net(torch.zeros(5, 1, 28, 28)).shape
    torch.Size([5, 10])
    """

    def __init__(self, input_shape, n_classes, *, hidden=(784, 256), dropout=None,
                 batch_norm=True):
        n_in = int(np.prod(_shape(input_shape, "input_shape")))
        n_classes = check_int(n_classes, "n_classes", min_val=1)
        hidden = _shape(tuple(hidden) if isinstance(hidden, (tuple, list)) else (hidden,),
                        "hidden")
        if dropout is None:
            dropout = (0.5,) + (0.2,) * (len(hidden) - 1)
        rates = _rates(dropout, "dropout", len(hidden))
        layers = [nn.Flatten()]
        for width, rate in zip(hidden, rates):
            layers.append(nn.Dropout(rate))
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_in))
            layers += [nn.Linear(n_in, width), nn.ReLU()]
            n_in = width
        layers.append(nn.Linear(n_in, n_classes))
        super().__init__(*layers)


class ConvNet(nn.Sequential):
    """The ConvNet of paper 002 (Table 3).

    ``Dropout 0.5; 2 x Conv 32; MaxPool 2; Dropout 0.25; 2 x Conv 64;
    MaxPool 2; Conv 128; Conv 256; Dropout 0.25; Dense 512; Dropout 0.5;
    Dense n_classes``, every convolution 3x3 with ReLU. The table does not
    give the padding; the convolutions here keep the size ("same"), so the
    network runs on images as small as 4x4 (digits are 8x8). `width`
    scales every convolution's channels (32 gives the table's 32, 64, 128,
    256).

    Parameters
    ----------
    input_shape : (int, int, int)
        ``(channels, height, width)``, height and width at least 4.
    n_classes : int
        Scores per image.
    width : int, default=32
        Channels of the first convolutions.
    hidden : int, default=512
        Units of the dense hidden layer.
    dropout : float or tuple of 4 floats, default=(0.5, 0.25, 0.25, 0.5)
        The four dropout rates, in the table's order.

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch import ConvNet
    >>> net = ConvNet((3, 32, 32), 10, width=8).eval()
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(self, input_shape, n_classes, *, width=32, hidden=512,
                 dropout=(0.5, 0.25, 0.25, 0.5)):
        c, h, w = _shape(input_shape, "input_shape", 3)
        if h < 4 or w < 4:
            raise ValueError(f"input_shape must have height and width >= 4 (two 2x2 "
                             f"poolings); got {(c, h, w)}.")
        n_classes = check_int(n_classes, "n_classes", min_val=1)
        k = check_int(width, "width", min_val=1)
        hidden = check_int(hidden, "hidden", min_val=1)
        d = _rates(dropout, "dropout", 4)

        def conv(a, b):
            return [nn.Conv2d(a, b, 3, padding=1), nn.ReLU()]

        super().__init__(
            nn.Dropout(d[0]), *conv(c, k), *conv(k, k), nn.MaxPool2d(2), nn.Dropout(d[1]),
            *conv(k, 2 * k), *conv(2 * k, 2 * k), nn.MaxPool2d(2),
            *conv(2 * k, 4 * k), *conv(4 * k, 8 * k), nn.Dropout(d[2]), nn.Flatten(),
            nn.Linear(8 * k * (h // 4) * (w // 4), hidden), nn.ReLU(), nn.Dropout(d[3]),
            nn.Linear(hidden, n_classes))


class _BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, plus the input (He et al. 2016)."""

    def __init__(self, n_in, n_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(n_out)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(n_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or n_in != n_out:
            self.shortcut = nn.Sequential(nn.Conv2d(n_in, n_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(n_out))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """A small residual network for small images (ResNet-``6n+2``, CIFAR style).

    Paper 002 (Table 3): ``Conv2D, BatchNorm, ReLU``, residual blocks, then
    ``Dropout 0.25, BatchNorm, ReLU, GlobalAveragePooling, Dense``. Here the
    blocks are He et al.'s basic blocks in three stages of `n` blocks
    (``depth = 6 n + 2``) with `width`, ``2 width`` and ``4 width``
    channels, the second and third stage halving the size (a 1x1
    convolution on the shortcut where the shape changes). Depth 20 and
    width 16 give the ResNet-20 of He et al.; depth 32 the ResNet-32 of
    paper 003.

    Parameters
    ----------
    input_shape : (int, int, int)
        ``(channels, height, width)``.
    n_classes : int
        Scores per image.
    depth : int, default=20
        ``6 n + 2`` layers with weights, at least 8.
    width : int, default=16
        Channels of the first stage.
    dropout : float, default=0.25
        Before the last batch normalisation.

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch import ResNet
    >>> net = ResNet((1, 8, 8), 10, depth=8, width=8).eval()
    >>> net(torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3, 10])
    """

    def __init__(self, input_shape, n_classes, *, depth=20, width=16, dropout=0.25):
        super().__init__()
        c, _, _ = _shape(input_shape, "input_shape", 3)
        n_classes = check_int(n_classes, "n_classes", min_val=1)
        depth = check_int(depth, "depth", min_val=8)
        if (depth - 2) % 6:
            raise ValueError(f"depth must be 6 n + 2 (8, 14, 20, 32, ...); got {depth}.")
        k = check_int(width, "width", min_val=1)
        (rate,) = _rates(dropout, "dropout", 1)
        self.stem = nn.Sequential(nn.Conv2d(c, k, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(k), nn.ReLU())
        blocks, n_in = [], k
        for stage in range(3):
            n_out = k * 2 ** stage
            for i in range((depth - 2) // 6):
                blocks.append(_BasicBlock(n_in, n_out, 2 if stage and not i else 1))
                n_in = n_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(rate), nn.BatchNorm2d(n_in), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(n_in, n_classes))

    def forward(self, x):
        """Scores ``(N, n_classes)`` of images ``(N, C, H, W)``."""
        return self.head(self.blocks(self.stem(x)))


class ChannelsLast(nn.Module):
    """Feeds channels-last images ``(N, H, W, C)`` to an NCHW network.

    NumPy images in sparsetools are channels last, so colour rows reshape
    to ``(h, w, c)``; wrapping the network lets an ``ExportedClassifier``
    with ``input_shape=(h, w, c)`` take them as they are.

    Parameters
    ----------
    net : torch.nn.Module
        Takes ``(N, C, H, W)``.

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch import ChannelsLast, ConvNet
    >>> net = ChannelsLast(ConvNet((3, 8, 8), 4, width=4)).eval()
    >>> net(torch.zeros(2, 8, 8, 3)).shape
    torch.Size([2, 4])
    """

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        """The network's output on ``x.permute(0, 3, 1, 2)``."""
        return self.net(x.permute(0, 3, 1, 2))


def _upsampling(size, patch, step):
    """Kernel, stride, padding and output padding of the transposed
    convolution that maps the patch grid of one axis back to `size`.

    The grid has ``m`` positions every `step` (the last one moved to touch
    the border), so ``(m - 1) * step + patch`` overshoots `size` by
    ``excess`` in [0, step - 1]; padding ``ceil(excess / 2)`` on both sides
    and ``2 * padding - excess`` output padding give exactly `size`.
    """
    m = len(_positions(size, patch, step))
    excess = (m - 1) * step + patch - size
    padding = -(-excess // 2)
    return m, patch, step, padding, 2 * padding - excess


class TopTDecoder(nn.Module):
    """The decoder of paper 003: top-T codes back to an image-sized tensor.

    Three transposed convolutions, each followed by ReLU (section 3.3 of
    [1]_): two 3x3 ones at the resolution of the patch grid (``L ->
    hidden[0] -> hidden[1]`` channels), then one with the front end's patch
    size as kernel and its stride as stride, from the ``m_h x m_w`` grid to
    the ``H x W`` image with the image's channels. Its padding and output
    padding are derived per axis so that the size is restored exactly also
    when the last patch position is off the stride's grid (see
    `TopTFrontend`): the grid overshoots the image by ``e = (m - 1) * s + p
    - H`` pixels, ``0 <= e < s``; padding ``ceil(e / 2)`` and output
    padding ``2 ceil(e / 2) - e`` remove them. Its goal is to give the
    classifier an input of the image's shape, not to reconstruct the image.

    Parameters
    ----------
    n_atoms : int
        L, the front end's atoms.
    output_shape : (int, int, int)
        ``(channels, height, width)`` of the images the front end codes.
    patch_size : int or (int, int), default=(4, 4)
        The front end's patch size.
    stride : int or (int, int), default=2
        The front end's stride (at most the patch size).
    hidden : (int, int), default=(64, 32)
        Channels after the first and the second transposed convolution.

    Attributes
    ----------
    grid_shape : (int, int)
        ``(m_h, m_w)``, patch positions per column and per row.
    kernel_size, stride, padding, output_padding : (int, int)
        Of the last transposed convolution.

    References
    ----------
    .. [1] S. Gopalakrishnan et al., "Combating adversarial attacks using
       sparse representations", 2018 (``papers/003``).

    Examples
    --------
    CIFAR-10 in paper 003: 4x4 patches, stride 2, L = 500, a 15 x 15 grid.

    >>> import torch
    >>> from sparsetools.torch import TopTDecoder
    >>> dec = TopTDecoder(500, (3, 32, 32), patch_size=4, stride=2)
    >>> dec.grid_shape
    (15, 15)
    >>> dec(torch.zeros(2, 15 * 15 * 500)).shape
    torch.Size([2, 3, 32, 32])
    """

    def __init__(self, n_atoms, output_shape, *, patch_size=(4, 4), stride=2,
                 hidden=(64, 32)):
        super().__init__()
        self.n_atoms = check_int(n_atoms, "n_atoms", min_val=1)
        c, h, w = self.output_shape = _shape(output_shape, "output_shape", 3)
        ph, pw = _pair(patch_size, "patch_size")
        if ph > h or pw > w:
            raise ValueError(f"patch_size {(ph, pw)} is larger than the image "
                             f"{(h, w)} of output_shape.")
        sh, sw = _check_stride(stride, ph, pw)
        hidden = _shape(hidden, "hidden", 2)
        axes = [_upsampling(h, ph, sh), _upsampling(w, pw, sw)]
        self.grid_shape = (axes[0][0], axes[1][0])
        self.kernel_size, self.stride, self.padding, self.output_padding = (
            tuple(a[i] for a in axes) for i in range(1, 5))
        self.layers = nn.Sequential(
            nn.ConvTranspose2d(self.n_atoms, hidden[0], 3, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(hidden[0], hidden[1], 3, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(hidden[1], c, self.kernel_size, stride=self.stride,
                               padding=self.padding, output_padding=self.output_padding),
            nn.ReLU())

    @classmethod
    def from_frontend(cls, frontend, *, hidden=(64, 32)):
        """The decoder for a fitted `TopTFrontend` (its atoms, patch size,
        stride and the image size and channels seen in `fit`).

        Parameters
        ----------
        frontend : TopTFrontend
            Fitted.
        hidden : (int, int), default=(64, 32)
            As in the constructor.

        Returns
        -------
        decoder : TopTDecoder
            Initialised by torch's default (unseeded) initialisation.
        """
        from sklearn.utils.validation import check_is_fitted

        from sparsetools.image._frontend import TopTFrontend

        if not isinstance(frontend, TopTFrontend):
            raise TypeError("frontend must be a fitted TopTFrontend; got "
                            f"{type(frontend).__name__}.")
        check_is_fitted(frontend)
        h, w = frontend._image_hw
        return cls(frontend.components_.shape[0], (frontend._n_channels, h, w),
                   patch_size=frontend.patch_size, stride=frontend.stride, hidden=hidden)

    def forward(self, codes):
        """Image-sized maps ``(N, C, H, W)`` of codes ``(N, m_h * m_w * L)``
        (as `TopTFrontend.transform` and its torch twin give them: position
        by position, then atom) or ``(N, L, m_h, m_w)``."""
        mh, mw = self.grid_shape
        if codes.ndim == 2:
            if codes.shape[1] != mh * mw * self.n_atoms:
                raise ValueError(f"codes must have {mh} * {mw} * {self.n_atoms} = "
                                 f"{mh * mw * self.n_atoms} columns; got {codes.shape[1]}.")
            codes = codes.reshape(codes.shape[0], mh, mw, self.n_atoms).permute(0, 3, 1, 2)
        elif codes.ndim != 4 or tuple(codes.shape[1:]) != (self.n_atoms, mh, mw):
            raise ValueError(f"codes must have shape (N, {mh * mw * self.n_atoms}) or "
                             f"(N, {self.n_atoms}, {mh}, {mw}); got {tuple(codes.shape)}.")
        return self.layers(codes.to(self.layers[0].weight.dtype))


class TopTClassifier(nn.Module):
    """Front end, decoder and classifier in one module (paper 003, A.1).

    Images go through the front end's torch twin (frozen: it has no
    trainable parameters), the :class:`TopTDecoder` and the classifier.
    Train the decoder and the classifier on the front end's codes
    (``nn.Sequential(model.decoder, model.classifier)`` shares their
    parameters, and the codes can be computed once with
    `TopTFrontend.transform`), then export the whole model or attack it
    white-box with a BPDA `backward`.

    Parameters
    ----------
    frontend : TopTFrontend or TopTFrontendModule
        A fitted estimator (converted by :func:`to_torch` with `backward`)
        or its twin.
    decoder : TopTDecoder
        For the front end's atoms, patches and image size.
    classifier : torch.nn.Module
        Takes the decoder's ``(N, C, H, W)`` output.
    backward : {"exact", "identity", "smooth"}, default="exact"
        The twin's backward pass when `frontend` is an estimator.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sparsetools import TopTFrontend
    >>> from sparsetools.torch import ConvNet, TopTClassifier, TopTDecoder
    >>> rng = np.random.default_rng(0)
    >>> front = TopTFrontend(rng.standard_normal((16, 16)), patch_size=4, stride=2,
    ...                      n_top=3, epsilon=0.01, image_shape=(8, 8))
    >>> front = front.fit(rng.random((10, 64)))
    >>> model = TopTClassifier(front, TopTDecoder.from_frontend(front),
    ...                        ConvNet((1, 8, 8), 10, width=4)).eval()
    >>> model(torch.rand(5, 1, 8, 8)).shape
    torch.Size([5, 10])
    """

    def __init__(self, frontend, decoder, classifier, *, backward="exact"):
        super().__init__()
        from sparsetools.torch import to_torch
        from sparsetools.torch._topt import TopTFrontendModule

        if not isinstance(frontend, TopTFrontendModule):
            frontend = to_torch(frontend, backward=backward)
            if not isinstance(frontend, TopTFrontendModule):
                raise TypeError("frontend must be a TopTFrontend or TopTFrontendModule; "
                                f"got {type(frontend).__name__}.")
        if not isinstance(decoder, TopTDecoder):
            raise TypeError(f"decoder must be a TopTDecoder; got {type(decoder).__name__}.")
        if not isinstance(classifier, nn.Module):
            raise TypeError("classifier must be a torch.nn.Module; got "
                            f"{type(classifier).__name__}.")
        if frontend.weight.shape[0] != decoder.n_atoms:
            raise ValueError(f"the front end has {frontend.weight.shape[0]} atoms but the "
                             f"decoder takes {decoder.n_atoms}.")
        if frontend.channels != decoder.output_shape[0]:
            raise ValueError(f"the front end takes {frontend.channels} channel(s) but the "
                             f"decoder gives {decoder.output_shape[0]}.")
        self.frontend, self.decoder, self.classifier = frontend, decoder, classifier

    def forward(self, x):
        """Scores of images ``x`` of shape ``(N, C, H, W)``."""
        return self.classifier(self.decoder(self.frontend(x)))


def _init(net, gen, rule):
    """A seeded initialisation whatever torch's global state: normalisation
    layers to the identity, other weights Kaiming-uniform (for ReLU with
    ``rule="kaiming"``, torch's default ``a = sqrt(5)`` with
    ``rule="torch"``), biases to zero."""
    a = 0.0 if rule == "kaiming" else math.sqrt(5)
    norms = [m for m in net.modules() if isinstance(m, _NORMS)]
    scales = {id(m.weight) for m in norms if getattr(m, "weight", None) is not None}
    shifts = {id(p) for m in norms for p in m.parameters(recurse=False)} - scales
    for p in net.parameters():
        if id(p) in scales:
            nn.init.ones_(p)
        elif id(p) in shifts or p.ndim < 2:
            nn.init.zeros_(p)
        else:
            nn.init.kaiming_uniform_(p, a=a, nonlinearity="leaky_relu", generator=gen)
    for m in norms:
        if hasattr(m, "reset_running_stats"):
            m.reset_running_stats()


def train_classifier(net, X, y, input_shape=None, *, epochs=30, batch_size=64, lr=1e-2,
                     weight_decay=0.0, init="kaiming", random_state=0):
    """Train a network by Adam on cross-entropy, seeded, and wrap it.

    The parameters are first re-initialised from `random_state`
    (normalisation layers to the identity, other weights by `init`, biases
    zero); each epoch visits the rows in a seeded
    random order in mini-batches, and dropout draws from torch's generator
    seeded with `random_state` (torch's global random state is restored
    afterwards). On CPU the same arguments give the same network.

    Parameters
    ----------
    net : torch.nn.Module
        Maps float32 batches ``(n, *input_shape)`` to scores ``(n, n_classes)``.
    X : array-like of shape (n_samples, n_features)
        Rows, reshaped row-major to `input_shape` (for channels-last colour
        rows use ``input_shape=(h, w, c)`` and a :class:`ChannelsLast`
        network).
    y : array-like of shape (n_samples,)
        Labels; score column ``j`` is the ``j``-th sorted label.
    input_shape : tuple of int, default=None
        What `net` takes per sample, e.g. ``(1, 8, 8)``; None: ``(n_features,)``.
    epochs : int, default=30
        Passes over the data.
    batch_size : int, default=64
        Rows per step.
    lr : float, default=1e-2
        Adam's learning rate.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    init : {"kaiming", "torch"}, default="kaiming"
        Weights uniform in ``+-sqrt(6 / fan_in)`` ("kaiming": He et al.'s
        rule for ReLU networks, which keeps the signal's scale through deep
        plain networks such as Table 3's ConvNet), or ``+-sqrt(1 / fan_in)``
        ("torch": torch's default rule for linear and convolution layers).
    random_state : int, default=0
        Seed of the initialisation, the order of the rows and dropout.

    Returns
    -------
    clf : ExportedClassifier
        Fitted on rows of `X`'s layout, its ``model`` the trained `net` in
        eval mode.

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import load_digits
    >>> from sparsetools.torch import MLP, train_classifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = train_classifier(MLP((64,), 10, hidden=(64,), dropout=0.0), X[:1000] / 16,
    ...                        y[:1000], epochs=5)
    >>> bool(clf.score(X[1000:] / 16, y[1000:]) > 0.85)
    True
    """
    from sparsetools.torch._exported import ExportedClassifier

    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch.nn.Module; got {type(net).__name__}.")
    X = np.asarray(X)
    if X.ndim != 2 or not X.size:
        raise ValueError(f"X must be a non-empty 2-D array of rows; got shape {X.shape}.")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"X must hold real numbers; got dtype {X.dtype}.")
    if not np.isfinite(X).all():
        raise ValueError("X must be finite; it holds NaN or inf.")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must have shape ({len(X)},); got {y.shape}.")
    shape = (X.shape[1],) if input_shape is None else _shape(input_shape, "input_shape")
    if int(np.prod(shape)) != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but input_shape {shape} needs "
                         f"{int(np.prod(shape))}.")
    epochs = check_int(epochs, "epochs", min_val=1)
    batch_size = check_int(batch_size, "batch_size", min_val=1)
    lr = check_float(lr, "lr", min_val=0.0)
    if lr == 0:
        raise ValueError("lr must be > 0; got 0.0.")
    weight_decay = check_float(weight_decay, "weight_decay", min_val=0.0)
    init = check_option(init, "init", ("kaiming", "torch"))
    seed = check_int(random_state, "random_state", min_val=0)
    classes, y_idx = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y must hold at least 2 classes; got {len(classes)}.")

    gen = torch.Generator().manual_seed(seed)
    Xt = torch.as_tensor(X.astype(np.float32, copy=False)).reshape((-1,) + shape)
    yt = torch.as_tensor(y_idx, dtype=torch.long)
    has_bn = any(isinstance(m, _NORMS[:2]) for m in net.modules())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _init(net, gen, init)
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
        net.train()
        for _ in range(epochs):
            order = torch.randperm(len(yt), generator=gen)
            for start in range(0, len(yt), batch_size):
                idx = order[start:start + batch_size]
                if has_bn and len(idx) == 1 and start:  # batch norm needs 2 rows
                    continue
                opt.zero_grad()
                nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
                opt.step()
    net.eval()
    return ExportedClassifier(net, input_shape=shape, classes=classes).fit(X, y)
