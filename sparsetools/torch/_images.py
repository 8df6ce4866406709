"""Shared plumbing of the torch twins: input layouts, dtypes, the backward options."""
import numpy as np
import torch

__all__ = ["ImageLayout", "bpda_forward", "check_backward", "float_input", "replace_forward"]


def check_backward(backward, allowed, owner):
    """`backward` if it is one of `allowed`, else a ValueError naming both."""
    if backward not in allowed:
        raise ValueError(f"backward must be one of {tuple(allowed)} for {owner}; got "
                         f"{backward!r}.")
    return backward


def float_input(x, name="x"):
    """`x` as a float32 or float64 tensor (other dtypes become float64)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}.")
    if x.dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float64)
    return x


def numpy_dtype(tensor):
    return np.float32 if tensor.dtype == torch.float32 else np.float64


class _Replace(torch.autograd.Function):
    """Forward: `value`; backward: the upstream gradient, to `x` unchanged."""

    @staticmethod
    def forward(ctx, x, value):
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def replace_forward(x, value):
    """`value` in the forward pass, the identity of `x` in the backward pass
    (BPDA's straight-through identity). `value` must have `x`'s shape."""
    return _Replace.apply(x, value.detach())


def bpda_forward(layout, est, nchw):
    """BPDA for an image estimator's twin: ``est.transform`` of the NCHW batch
    (through `layout`'s NumPy layout) forward, the identity backward."""
    out = est.transform(layout.numpy_input(nchw))
    n, _, h, w = nchw.shape
    out = torch.as_tensor(np.ascontiguousarray(layout.numpy_output(out, n, h, w)),
                          device=nchw.device)
    return replace_forward(nchw, out)


class ImageLayout:
    """The two input layouts of an image twin and the estimator's own layout.

    A twin takes NCHW tensors ``(N, C, H, W)`` (and returns NCHW), or, when
    the estimator has an `image_shape` ``(h, w[, c])``, rows ``(N, h * w *
    c)`` of flattened channels-last images (and returns rows), as the
    estimator's `transform` does in a ``Pipeline``.

    Parameters
    ----------
    image_shape : tuple or None
        The estimator's `image_shape`.
    color : bool
        The estimator's `color`.
    channels : int
        Channels the estimator was fitted on.
    """

    def __init__(self, image_shape, color, channels):
        self.image_shape = None if image_shape is None else tuple(int(s) for s in image_shape)
        self.color = bool(color)
        self.channels = int(channels)

    def _expected(self):
        text = f"images (N, {self.channels}, H, W)"
        if self.image_shape is not None:
            text += f" or rows (N, {int(np.prod(self.image_shape))})"
        return text

    def to_nchw(self, x):
        """``(nchw, rows)``: `x` as NCHW, and whether it came as rows."""
        x = float_input(x)
        if x.ndim == 4 and x.shape[1] == self.channels:
            if self.image_shape is not None and tuple(x.shape[2:]) != self.image_shape[:2]:
                raise ValueError(f"x must have shape {self._expected()} with (H, W) = "
                                 f"{self.image_shape[:2]}, the image_shape; got "
                                 f"{tuple(x.shape)}.")
            return x, False
        if x.ndim == 2 and self.image_shape is not None and \
                x.shape[1] == int(np.prod(self.image_shape)):
            h, w = self.image_shape[:2]
            return x.reshape(x.shape[0], h, w, self.channels).permute(0, 3, 1, 2), True
        raise ValueError(f"x must have shape {self._expected()}; got {tuple(x.shape)}.")

    def restore(self, out, rows):
        """NCHW results in the layout of the input (rows when `rows`)."""
        if not rows:
            return out
        return out.permute(0, 2, 3, 1).reshape(out.shape[0], -1)

    def numpy_input(self, nchw):
        """The NCHW batch as the estimator's `transform` takes it: rows with
        `image_shape`, else ``(N, H, W)`` gray or ``(N, H, W, C)`` color
        images; in the tensor's float dtype."""
        arr = nchw.detach().cpu().numpy().transpose(0, 2, 3, 1)
        if self.image_shape is not None:
            return np.ascontiguousarray(arr.reshape(arr.shape[0], -1))
        return np.ascontiguousarray(arr if self.color else arr[..., 0])

    def numpy_output(self, out, n, h, w):
        """An estimator's `transform` output (its layout) as an NCHW array."""
        return np.asarray(out).reshape(n, h, w, self.channels).transpose(0, 3, 1, 2)
