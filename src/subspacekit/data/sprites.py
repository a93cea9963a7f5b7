"""A procedural dSprites-like image set with five known generative factors.

Like dSprites (Matthey et al., 2017), each image shows one white shape on black whose
appearance is fixed by five independent factors: ``shape`` (square, ellipse, heart),
``scale``, ``rotation``, ``x`` and ``y`` position. The images are drawn here from
implicit equations, so any resolution (64x64 as dSprites, or smaller) and any factor
grid can be produced without downloading anything. It is not pixel-identical to dSprites.

Examples
--------
>>> b = sprites(8, size=16, random_state=0)
>>> b.data.shape, b.image_shape, b.factor_names
((8, 256), (16, 16), ('shape', 'scale', 'rotation', 'x', 'y'))
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from subspacekit.core.validation import check_random_state
from subspacekit.errors import ValidationError

__all__ = ["SHAPES", "sprites"]

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")

# half-size of a scale-1 shape as a fraction of the image width; a rotated square then
# reaches sqrt(2) * 0.16 < 0.23 from its centre, so centres stay in [0.23, 0.77]
_HALF_SIZE = 0.16
_MARGIN = 0.23


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Membership of shape-frame coordinates (unit half-size; v points down the image)."""
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0
    if shape == "ellipse":
        return u**2 + (v / 0.5) ** 2 <= 1.0
    # heart curve (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 spans x in [-1.14, 1.14], y in [-1, 1.25];
    # scale it into the unit box and flip y so the heart is upright in image coordinates
    x = 1.14 * u
    y = -1.125 * v + 0.125
    return (x**2 + y**2 - 1.0) ** 3 - x**2 * y**3 <= 0.0


def sprites(
    n_samples: int = 1000,
    size: int = 64,
    *,
    shapes: Sequence[str] = SHAPES,
    n_scales: int = 6,
    n_rotations: int = 40,
    n_positions: int = 32,
    grid: bool = False,
    dtype: Any = np.float64,
    random_state: Any = None,
) -> Bunch:
    """Images of one shape on a black background with five known factors.

    Factor values (as in dSprites): ``scale`` in ``linspace(0.5, 1, n_scales)``,
    ``rotation`` in ``2 pi * arange(n_rotations) / n_rotations`` radians, ``x`` and ``y``
    in ``linspace(0, 1, n_positions)`` (0 = left/top, 1 = right/bottom of the range of
    centres that keeps every shape inside the image). A pixel is 1 when its centre lies
    inside the shape, else 0. Note the symmetries: a square repeats every 90 degrees, an
    ellipse every 180, so rotation is only identifiable modulo them.

    Parameters
    ----------
    n_samples : int
        Number of images, each factor drawn uniformly from its grid (ignored with
        ``grid=True``).
    size : int, default 64
        Image height and width in pixels (8 or more).
    shapes : sequence of str
        Subset of ``("square", "ellipse", "heart")``.
    n_scales, n_rotations, n_positions : int
        Grid sizes of the factors.
    grid : bool, default False
        Return every combination of factor values once, in lexicographic order
        (shape, scale, rotation, x, y), like the dSprites file.
    dtype : numpy dtype, default float64
    random_state : int, RandomState or None

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (n, size*size) row-major images in {0, 1}; ``factors`` (n, 5) int
        indices into the grids; ``latents`` (n, 5) float values (shape index, scale,
        rotation in radians, x, y); ``factor_names``; ``factor_values`` (dict of grids);
        ``shape_names``; ``image_shape``.

    Examples
    --------
    >>> b = sprites(grid=True, size=16, n_scales=2, n_rotations=2, n_positions=2)
    >>> b.data.shape, b.factors[:2].tolist()
    ((48, 256), [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1]])
    """
    shapes = tuple(shapes)
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown or not shapes:
        raise ValidationError(f"shapes must be a non-empty subset of {SHAPES}; got {shapes}")
    if size < 8:
        raise ValidationError(f"size must be >= 8 pixels; got {size}")
    for name, value in (
        ("n_scales", n_scales),
        ("n_rotations", n_rotations),
        ("n_positions", n_positions),
    ):
        if value < 1:
            raise ValidationError(f"{name} must be >= 1; got {value}")
    values = {
        "shape": np.arange(len(shapes), dtype=np.float64),
        "scale": np.linspace(0.5, 1.0, n_scales),
        "rotation": 2 * np.pi * np.arange(n_rotations) / n_rotations,
        "x": np.linspace(0.0, 1.0, n_positions) if n_positions > 1 else np.array([0.5]),
        "y": np.linspace(0.0, 1.0, n_positions) if n_positions > 1 else np.array([0.5]),
    }
    sizes = [len(values[f]) for f in FACTOR_NAMES]
    if grid:
        factors = np.array(list(product(*(range(s) for s in sizes))), dtype=np.int64)
    else:
        if n_samples < 1:
            raise ValidationError(f"n_samples must be >= 1; got {n_samples}")
        rng = check_random_state(random_state)
        factors = np.column_stack([rng.randint(0, s, size=n_samples) for s in sizes])
        factors = factors.astype(np.int64)
    latents = np.column_stack([values[f][factors[:, i]] for i, f in enumerate(FACTOR_NAMES)])

    n = factors.shape[0]
    images = np.zeros((n, size, size), dtype=dtype)
    centres = (np.arange(size) + 0.5) / size
    py, px = np.meshgrid(centres, centres, indexing="ij")  # row = y (down), column = x
    for start in range(0, n, 256):  # chunks keep the float temporaries small
        stop = min(start + 256, n)
        lat = latents[start:stop]
        cx = _MARGIN + (1 - 2 * _MARGIN) * lat[:, 3, None, None]
        cy = _MARGIN + (1 - 2 * _MARGIN) * lat[:, 4, None, None]
        half = _HALF_SIZE * lat[:, 1, None, None]
        cos, sin = np.cos(lat[:, 2, None, None]), np.sin(lat[:, 2, None, None])
        dx, dy = px[None] - cx, py[None] - cy
        # rotate the pixel offsets by -rotation into the shape's own frame
        u = (cos * dx + sin * dy) / half
        v = (-sin * dx + cos * dy) / half
        for k, shape in enumerate(shapes):
            rows = np.flatnonzero(factors[start:stop, 0] == k)
            if rows.size:
                images[start + rows] = _inside(shape, u[rows], v[rows])
    return Bunch(
        data=images.reshape(n, size * size),
        factors=factors,
        latents=latents,
        factor_names=FACTOR_NAMES,
        factor_values=values,
        shape_names=shapes,
        image_shape=(size, size),
    )
