r"""Few-shot image anomaly detection with SubspaceAD: patch features, maps, image scores.

The SubspaceAD recipe (Lendering, Akdag & Bondarev, CVPR 2026):

1. a frozen feature extractor turns every image into a grid of patch features
   (the paper: DINOv2-with-registers, patch tokens of layers -12…-18 averaged);
2. the few normal "shots" are augmented by random rotations (the paper: 30 per shot,
   angles uniform in [0°, 345°]) and PCA is fitted on all their patch features,
   keeping 99 % of the variance;
3. a patch's anomaly score is its squared residual to that principal subspace (SPE);
4. the patch-score grid is resized bilinearly to the image and blurred (Gaussian,
   3 x 3 kernel, sigma 4) into a pixel anomaly map;
5. the image score is the mean of the top 1 % of the map's pixel scores.

No pretrained vision backbone can be downloaded here, so :class:`LocalPatchExtractor`
gives an offline stand-in: multi-scale local patch descriptors (raw pixels of dilated,
box-smoothed windows, so one feature sees 5, 10 and 20 pixel neighbourhoods), softly
assigned to a coarse grid of image regions so that the same stroke is judged
differently in the top-left corner and in the centre (the role the position
embeddings play in a ViT).

Plugging in a torch or timm backbone
------------------------------------
Any callable mapping an image batch ``(n, H, W)`` or ``(n, H, W, C)`` (numpy) to a
feature map ``(n, h, w, F)`` works. :class:`TorchFeatureExtractor` wraps a torch
model whose output is a CNN map ``(n, F, h, w)`` or ViT tokens ``(n, tokens, F)``::

    import timm                                    # any timm ViT or CNN
    vit = timm.create_model("vit_small_patch14_dinov2", pretrained=True).eval()
    extractor = TorchFeatureExtractor(
        vit.forward_features,                      # (n, 1 + h*w, F) tokens
        prefix_tokens=vit.num_prefix_tokens,       # drop CLS / register tokens
        channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
    )
    detector = PatchSubspaceAD(extractor, n_rotations=30).fit(normal_images)

With Hugging Face ``transformers`` (the paper's DINOv2-with-registers, layers averaged)::

    model = AutoModel.from_pretrained("facebook/dinov2-with-registers-large").eval()
    def dino_layers(x):
        hidden = model(pixel_values=x, output_hidden_states=True).hidden_states
        return torch.stack(hidden[-18:-11]).mean(0)  # layers -12 ... -18
    extractor = TorchFeatureExtractor(dino_layers, prefix_tokens=5, channels=3, ...)

Images must then be resized to a multiple of the patch size (14 for DINOv2) first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

from subspacekit.core.backend import import_optional, is_torch_tensor, to_numpy
from subspacekit.core.validation import (
    check_array,
    check_in,
    check_positive,
    check_probability,
    check_random_state,
)
from subspacekit.detect.subspace_ad import STATISTICS, SubspaceAD
from subspacekit.errors import DimensionMismatchError, NotFittedError, ShapeError, ValidationError

__all__ = [
    "AGGREGATIONS",
    "LocalPatchExtractor",
    "PatchSubspaceAD",
    "TorchFeatureExtractor",
    "aggregate_map",
    "resize_bilinear",
    "rotate_images",
]

AGGREGATIONS = ("top_fraction", "max", "mean")


def _check_images(images: Any, name: str = "images") -> np.ndarray:
    """(n, H, W) or (n, H, W, C) finite float array."""
    return check_array(images, name, ndim=(3, 4))


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValidationError(f"{name} must be an int >= {low}; got {value!r}")
    return int(value)


# ------------------------------------------------------------------ built-in extractor
class LocalPatchExtractor:
    r"""Offline patch features: multi-scale local windows, softly tied to image regions.

    At every grid location (every ``stride`` pixels) and for every scale ``s`` in
    ``scales``, the image is smoothed by an ``s x s`` box filter and a
    ``patch_size x patch_size`` window with spacing ``s`` is read around the
    location, so the scales see neighbourhoods of ``patch_size * s`` pixels. The
    windows of all scales and channels are concatenated into a local descriptor
    :math:`\ell` of length ``C * len(scales) * patch_size**2``.

    With ``position_grid = g``, the descriptor is then spread over a ``g x g`` grid of
    image regions with bilinear weights :math:`w_r` of the location,
    :math:`f = [w_1 \ell, \dots, w_{g^2} \ell]`, so a linear model of the features
    (PCA) can learn which local patterns occur *where*. ``position_grid=None`` keeps
    the translation-invariant descriptor.

    Parameters
    ----------
    patch_size : int, default 5
        Odd window width, in samples.
    scales : sequence of int, default (1, 2, 4)
        Dilations (and box-filter widths) of the windows.
    stride : int, default 2
        Spacing of the feature grid in pixels.
    position_grid : int or None, default 3
        Number of regions per side for the soft position assignment.

    Examples
    --------
    >>> extractor = LocalPatchExtractor(patch_size=3, scales=(1, 2), stride=2, position_grid=2)
    >>> extractor(np.zeros((4, 28, 28))).shape  # 2 scales x 9 pixels x 4 regions
    (4, 14, 14, 72)
    """

    def __init__(
        self,
        patch_size: int = 5,
        scales: Sequence[int] = (1, 2, 4),
        stride: int = 2,
        position_grid: int | None = 3,
    ) -> None:
        self.patch_size = patch_size
        self.scales = scales
        self.stride = stride
        self.position_grid = position_grid

    def __repr__(self) -> str:
        return (
            f"LocalPatchExtractor(patch_size={self.patch_size}, scales={tuple(self.scales)}, "
            f"stride={self.stride}, position_grid={self.position_grid})"
        )

    def _check(self) -> tuple[int, tuple[int, ...], int, int | None]:
        p = _check_int(self.patch_size, "patch_size", 1)
        if p % 2 == 0:
            raise ValidationError(f"patch_size must be odd (a centred window); got {p}")
        scales = tuple(_check_int(s, "scales[i]", 1) for s in self.scales)
        if not scales:
            raise ValidationError("scales must list at least one dilation; got none")
        stride = _check_int(self.stride, "stride", 1)
        grid = (
            None
            if self.position_grid is None
            else _check_int(self.position_grid, "position_grid", 1)
        )
        return p, scales, stride, grid

    def __call__(self, images: Any) -> np.ndarray:
        """Feature map ``(n, ceil(H / stride), ceil(W / stride), F)`` (float32)."""
        p, scales, stride, grid = self._check()
        x = _check_images(images).astype(np.float32, copy=False)
        if x.ndim == 3:
            x = x[..., None]
        n = x.shape[0]
        radius = p // 2
        pieces = []
        for s in scales:
            smooth = ndimage.uniform_filter(x, size=(1, s, s, 1), mode="constant") if s > 1 else x
            pad = radius * s
            padded = np.pad(smooth, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            # (n, H, W, C, 2 pad + 1, 2 pad + 1) view; keep every s-th sample of each
            # window and every stride-th location before anything is copied.
            windows = sliding_window_view(padded, (2 * pad + 1, 2 * pad + 1), axis=(1, 2))
            windows = windows[:, ::stride, ::stride, :, ::s, ::s]
            pieces.append(windows.reshape(*windows.shape[:3], -1))
        local = np.concatenate(pieces, axis=-1)
        if grid is None:
            return np.ascontiguousarray(local, dtype=np.float32)
        h, w = local.shape[1:3]
        weights = (
            _region_weights(h, grid)[:, None, :, None] * _region_weights(w, grid)[None, :, None, :]
        )
        weights = weights.reshape(h, w, grid * grid).astype(np.float32)
        spread = local[:, :, :, None, :] * weights[None, :, :, :, None]
        return spread.reshape(n, h, w, -1)


def _region_weights(size: int, grid: int) -> np.ndarray:
    """Bilinear (tent) weights of ``size`` positions on ``grid`` region centres; rows sum to 1."""
    position = (np.arange(size) + 0.5) / size
    centres = (np.arange(grid) + 0.5) / grid
    tent = np.clip(1.0 - np.abs(position[:, None] - centres[None, :]) * grid, 0.0, None)
    return tent / tent.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ torch adapter
class TorchFeatureExtractor:
    """Use a torch model (CNN or ViT, e.g. from timm or transformers) as patch extractor.

    Parameters
    ----------
    model : callable
        Maps a float tensor ``(n, C, H, W)`` to a CNN feature map ``(n, F, h, w)`` or
        to ViT tokens ``(n, prefix_tokens + h * w, F)``.
    prefix_tokens : int, default 0
        Leading tokens to drop (CLS and register tokens).
    grid_shape : (int, int), optional
        Token grid ``(h, w)``; by default the tokens must form a square grid.
    channels : int, optional
        Repeat a single-channel image to this many channels (3 for RGB backbones).
    mean, std : sequence of float, optional
        Per-channel input normalisation (e.g. ImageNet's).
    batch_size : int, default 16
        Images per forward pass.
    device : str, default "cpu"

    Examples
    --------
    >>> import torch
    >>> conv = torch.nn.Conv2d(1, 8, kernel_size=4, stride=4)
    >>> TorchFeatureExtractor(conv)(np.zeros((2, 28, 28))).shape
    (2, 7, 7, 8)
    """

    def __init__(
        self,
        model: Callable[[Any], Any],
        *,
        prefix_tokens: int = 0,
        grid_shape: tuple[int, int] | None = None,
        channels: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        batch_size: int = 16,
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.prefix_tokens = prefix_tokens
        self.grid_shape = grid_shape
        self.channels = channels
        self.mean = mean
        self.std = std
        self.batch_size = batch_size
        self.device = device

    def __call__(self, images: Any) -> np.ndarray:
        """Feature map ``(n, h, w, F)`` as float32 numpy."""
        torch = import_optional("torch", "torch")
        batch_size = _check_int(self.batch_size, "batch_size", 1)
        x: np.ndarray = _check_images(images).astype(np.float32, copy=False)
        if x.ndim == 3:
            x = x[..., None]
        if self.channels is not None and x.shape[-1] == 1:
            x = np.repeat(x, _check_int(self.channels, "channels", 1), axis=-1)
        if self.mean is not None:
            x = x - np.asarray(self.mean, dtype=np.float32)
        if self.std is not None:
            x = x / np.asarray(self.std, dtype=np.float32)
        maps = []
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                batch = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size]))
                batch = batch.permute(0, 3, 1, 2).to(self.device)
                maps.append(self._to_map(to_numpy(self.model(batch).float())))
        return np.concatenate(maps).astype(np.float32, copy=False)

    def _to_map(self, out: np.ndarray) -> np.ndarray:
        if out.ndim == 4:  # CNN: (n, F, h, w)
            return np.moveaxis(out, 1, -1)
        if out.ndim != 3:
            raise ShapeError(
                f"the model must return (n, F, h, w) maps or (n, tokens, F) tokens; got shape {out.shape}"
            )
        tokens = out[:, self.prefix_tokens :, :]
        n, t, f = tokens.shape
        if self.grid_shape is not None:
            h, w = self.grid_shape
        else:
            h = w = round(t**0.5)
        if h * w != t:
            raise ShapeError(
                f"{t} patch tokens (after dropping {self.prefix_tokens} prefix tokens) do not "
                f"form a {h} x {w} grid; pass grid_shape or prefix_tokens"
            )
        return tokens.reshape(n, h, w, f)


# ------------------------------------------------------------------ helpers
def rotate_images(
    images: Any,
    n_rotations: int,
    angle_range: tuple[float, float] = (0.0, 345.0),
    random_state: Any = None,
) -> np.ndarray:
    """The images followed by ``n_rotations`` randomly rotated copies of each.

    Angles are uniform in ``angle_range`` (degrees); rotation is about the image centre
    with bilinear interpolation and zero fill (torchvision's ``RandomRotation``).
    Returns ``(n * (1 + n_rotations), H, W[, C])``, originals first.

    Examples
    --------
    >>> rotate_images(np.zeros((2, 8, 8)), 3, random_state=0).shape
    (8, 8, 8)
    """
    x = _check_images(images)
    n_rotations = _check_int(n_rotations, "n_rotations", 0)
    low, high = (float(a) for a in angle_range)
    if not low <= high:
        raise ValidationError(
            f"angle_range must be (low, high) with low <= high; got {angle_range}"
        )
    rng = check_random_state(random_state)
    copies = [x]
    for _ in range(n_rotations):
        angles = rng.uniform(low, high, size=len(x))
        copies.append(
            np.stack(
                [
                    ndimage.rotate(
                        image, angle, axes=(1, 0), reshape=False, order=1, mode="constant"
                    )
                    for image, angle in zip(x, angles, strict=True)
                ]
            )
        )
    return np.concatenate(copies)


def _interpolation_matrix(size_out: int, size_in: int) -> np.ndarray:
    """(size_out, size_in) linear-interpolation weights, half-pixel centres, edges clamped."""
    source = (np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5
    source = np.clip(source, 0.0, size_in - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    frac = source - low
    matrix = np.zeros((size_out, size_in))
    np.add.at(matrix, (np.arange(size_out), low), 1.0 - frac)
    np.add.at(matrix, (np.arange(size_out), high), frac)
    return matrix


def resize_bilinear(maps: Any, size: tuple[int, int]) -> np.ndarray:
    """Resize maps ``(n, h, w)`` to ``(n, H, W)`` bilinearly.

    Pixel centres are aligned as in torch's ``interpolate(mode="bilinear",
    align_corners=False)`` (each cell covers an area; values outside are clamped).

    Examples
    --------
    >>> resize_bilinear(np.array([[[0.0, 1.0]]]), (1, 4))
    array([[[0.  , 0.25, 0.75, 1.  ]]])
    """
    maps = np.asarray(maps, dtype=np.float64)
    rows = _interpolation_matrix(size[0], maps.shape[1])
    cols = _interpolation_matrix(size[1], maps.shape[2])
    return np.matmul(np.matmul(rows, maps), cols.T)


def aggregate_map(
    maps: np.ndarray, aggregation: str = "top_fraction", top_fraction: float = 0.01
) -> np.ndarray:
    """Image scores from pixel anomaly maps ``(n, H, W)``.

    ``"top_fraction"``: mean of the ``max(1, int(top_fraction * H * W))`` highest pixels
    (SubspaceAD's ``mtop1p`` with 0.01); ``"max"``; ``"mean"``.

    Examples
    --------
    >>> m = np.arange(200.0).reshape(1, 10, 20)
    >>> aggregate_map(m, top_fraction=0.01), aggregate_map(m, "max")  # top 2 of 200
    (array([198.5]), array([199.]))
    """
    check_in(aggregation, AGGREGATIONS, "aggregation")
    flat = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    if aggregation == "max":
        return flat.max(axis=1)
    if aggregation == "mean":
        return flat.mean(axis=1)
    top_fraction = check_probability(top_fraction, "top_fraction", open_interval=False)
    k = max(1, int(top_fraction * flat.shape[1]))
    return np.partition(flat, flat.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


# ------------------------------------------------------------------ detector
class PatchSubspaceAD:
    """SubspaceAD's few-shot image mode: patch PCA residual maps and top-q% image scores.

    Parameters
    ----------
    feature_extractor : callable, optional
        Maps images ``(n, H, W[, C])`` to a feature map ``(n, h, w, F)``. Defaults to
        :class:`LocalPatchExtractor` (offline); see the module docstring for DINOv2 / timm.
    n_components : float or int, default 0.99
        As in :class:`SubspaceAD` (explained-variance fraction or a count).
    statistic : {"spe", "t2", "combined"}, default "spe"
        Patch score; the paper's is the reconstruction residual (SPE).
    n_rotations : int, default 30
        Random rotations added per normal image (the paper's few-shot setting). They
        help for objects and textures seen at any orientation; for orientation-bound
        images they hurt (one-class MNIST, 1 shot: image ROC-AUC 0.63 with 30
        rotations against 0.77 without), so use 0 there.
    angle_range : (float, float), default (0, 345)
        Range of the rotation angles in degrees.
    top_fraction : float, default 0.01
        Fraction of the highest pixels averaged into the image score.
    aggregation : {"top_fraction", "max", "mean"}, default "top_fraction"
        How a pixel map becomes an image score.
    blur_sigma : float, default 4.0
        Standard deviation of the Gaussian blur of the maps, in pixels (0 disables it).
    blur_radius : int, default 1
        Half-width of the blur kernel (1 gives the paper's 3 x 3 kernel).
    batch_size : int, default 64
        Images per feature-extraction batch when scoring.
    random_state : int, RandomState or None
        Seed of the rotation angles.

    Attributes
    ----------
    detector_ : SubspaceAD
        The PCA model of the normal patch features.
    feature_extractor_ : callable
        The extractor in use.
    feature_shape_ : tuple
        ``(h, w, F)`` of the training feature maps.
    n_patches_fit_ : int
        Number of patch features the PCA was fitted on.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> normal = np.zeros((3, 16, 16)); normal[:, 4:12, 7:9] = 1.0  # a vertical bar
    >>> odd = normal[:1].copy(); odd[0, 7:9, 2:14] = 1.0            # a cross
    >>> det = PatchSubspaceAD(n_rotations=0, random_state=0).fit(normal)
    >>> maps = det.anomaly_maps(np.concatenate([normal[:1], odd]))
    >>> maps.shape
    (2, 16, 16)
    >>> scores = det.image_scores(np.concatenate([normal[:1], odd]))
    >>> bool(scores[1] > 10 * scores[0] + 1e-6)
    True
    """

    feature_extractor_: Callable[[np.ndarray], Any]
    feature_shape_: tuple[int, ...]
    detector_: SubspaceAD

    def __init__(
        self,
        feature_extractor: Callable[[np.ndarray], Any] | None = None,
        *,
        n_components: float | int = 0.99,
        statistic: str = "spe",
        n_rotations: int = 30,
        angle_range: tuple[float, float] = (0.0, 345.0),
        top_fraction: float = 0.01,
        aggregation: str = "top_fraction",
        blur_sigma: float = 4.0,
        blur_radius: int = 1,
        batch_size: int = 64,
        random_state: Any = None,
    ) -> None:
        self.feature_extractor = feature_extractor
        self.n_components = n_components
        self.statistic = statistic
        self.n_rotations = n_rotations
        self.angle_range = angle_range
        self.top_fraction = top_fraction
        self.aggregation = aggregation
        self.blur_sigma = blur_sigma
        self.blur_radius = blur_radius
        self.batch_size = batch_size
        self.random_state = random_state

    def _features(self, images: np.ndarray) -> np.ndarray:
        features = self.feature_extractor_(images)
        features = np.asarray(to_numpy(features) if is_torch_tensor(features) else features)
        if features.ndim != 4 or features.shape[0] != images.shape[0]:
            raise ShapeError(
                f"the feature extractor must return (n, h, w, F) with n = {images.shape[0]}; "
                f"got shape {features.shape}"
            )
        return features

    def fit(self, images: Any, y: Any = None) -> PatchSubspaceAD:
        """Fit the patch-feature PCA on a few normal images ``(n, H, W[, C])``."""
        check_in(self.statistic, STATISTICS, "statistic")
        check_in(self.aggregation, AGGREGATIONS, "aggregation")
        check_probability(self.top_fraction, "top_fraction", open_interval=False)
        check_positive(self.blur_sigma, "blur_sigma", strict=False)
        _check_int(self.blur_radius, "blur_radius", 0)
        _check_int(self.batch_size, "batch_size", 1)
        if not isinstance(self.n_components, Real):
            raise ValidationError(f"n_components must be a number; got {self.n_components!r}")
        x = _check_images(images)
        self.feature_extractor_ = (
            LocalPatchExtractor() if self.feature_extractor is None else self.feature_extractor
        )
        augmented = rotate_images(x, self.n_rotations, self.angle_range, self.random_state)
        features = self._features(augmented)
        self.feature_shape_ = tuple(features.shape[1:])
        patches = features.reshape(-1, features.shape[-1])
        self.detector_ = SubspaceAD(self.n_components, statistic=self.statistic).fit(patches)
        self.n_patches_fit_ = patches.shape[0]
        self.n_images_fit_ = x.shape[0]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "detector_"):
            raise NotFittedError("This PatchSubspaceAD instance is not fitted yet; call fit first")

    def patch_scores(self, images: Any) -> np.ndarray:
        """Anomaly score of every patch, ``(n, h, w)`` on the feature grid (higher = worse)."""
        self._check_fitted()
        x = _check_images(images)
        out = []
        for start in range(0, len(x), self.batch_size):
            features = self._features(x[start : start + self.batch_size])
            if features.shape[-1] != self.feature_shape_[-1]:
                raise DimensionMismatchError(
                    f"patch features have {features.shape[-1]} dimensions but the detector was "
                    f"fitted on {self.feature_shape_[-1]}"
                )
            n, h, w, f = features.shape
            out.append(self.detector_.statistic_values(features.reshape(-1, f)).reshape(n, h, w))
        return np.concatenate(out)

    def anomaly_maps(self, images: Any) -> np.ndarray:
        """Pixel anomaly maps ``(n, H, W)``: patch scores resized bilinearly, then blurred."""
        x = _check_images(images)
        scores = self.patch_scores(x)
        height, width = x.shape[1:3]
        h, w = scores.shape[1:]
        if (h, w) != (height, width):
            scores = resize_bilinear(scores, (height, width))
        if self.blur_sigma > 0:
            scores = ndimage.gaussian_filter(
                scores,
                sigma=(0, self.blur_sigma, self.blur_sigma),
                radius=(0, self.blur_radius, self.blur_radius),
                mode="nearest",
            )
        return scores

    def image_scores(self, images: Any, aggregation: str | None = None) -> np.ndarray:
        """Image anomaly scores (higher = more anomalous) from :meth:`anomaly_maps`."""
        maps = self.anomaly_maps(images)
        return aggregate_map(maps, aggregation or self.aggregation, self.top_fraction)

    def score_samples(self, images: Any) -> np.ndarray:
        """Minus :meth:`image_scores`: higher means more normal (scikit-learn convention)."""
        return -self.image_scores(images)
