"""The disagreements that issue 15 found between homes of one concept: one answer each.

Each test feeds the same input to every place that implements the concept and checks
that they agree with each other and with the planted truth.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest


def _four_equal_variances(n: int = 400, seed: int = 0) -> np.ndarray:
    # Exactly equal sample variances along four orthogonal axes: four zero-mean columns
    # of a Sylvester-Hadamard matrix (entries +-1, orthogonal), rotated, so the
    # cumulative shares are 1/4, 1/2, 3/4, 1 up to rounding only.
    rng = np.random.default_rng(seed)
    H = np.array([[1.0]])
    for _ in range(3):
        H = np.block([[H, H], [H, -H]])
    signs = np.repeat(H[:, 1:5], n // 8, axis=0)
    rotation = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    return signs @ rotation


def test_variance_fraction_one_rule_everywhere():
    from subspacekit.core.linalg import n_components_for_variance
    from subspacekit.detect import SubspaceAD
    from subspacekit.estimate import PCA
    from subspacekit.measure import PCADimension

    X = _four_equal_variances()
    variances = np.linalg.eigvalsh(np.cov(X, rowvar=False))
    assert np.allclose(variances, variances[0])
    assert n_components_for_variance(variances, 0.5) == 2
    assert PCA(n_components=0.5).fit(X).n_components_ == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert SubspaceAD(n_components=0.5).fit(X).n_components_ == 2
        assert float(PCADimension(variance=0.5).fit(X).dimension_) == 2


def _views_and_constant_column(n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two correlated views (X, Y), and X with one constant column appended."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((n, 2))
    X = np.c_[Z + 0.5 * rng.standard_normal((n, 2)), rng.standard_normal(n)]
    Y = Z @ [[1.0, 0.3], [0.2, 1.0]] + 0.5 * rng.standard_normal((n, 2))
    return X, Y, np.c_[X, np.full(n, 3.0)]


def _canonical_correlations_by_whitening(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    # Independent textbook route: singular values of Sxx^-1/2 Sxy Syy^-1/2.
    C = np.cov(X, Y, rowvar=False)
    dx = X.shape[1]
    Sxx, Sxy, Syy = C[:dx, :dx], C[:dx, dx:], C[dx:, dx:]

    def inv_sqrt(S):
        w, V = np.linalg.eigh(S)
        return V @ np.diag(w**-0.5) @ V.T

    return np.linalg.svd(inv_sqrt(Sxx) @ Sxy @ inv_sqrt(Syy), compute_uv=False)


def test_canonical_correlations_one_answer_with_a_constant_column():
    from subspacekit.compare import canonical_correlations as compare_cc
    from subspacekit.estimate import CCA
    from subspacekit.estimate.cca import canonical_correlations

    X, Y, Xc = _views_and_constant_column()
    reference = _canonical_correlations_by_whitening(X, Y)
    assert np.allclose(canonical_correlations(Xc, Y), reference, atol=1e-12)
    assert np.allclose(compare_cc(Xc, Y), reference, atol=1e-12)
    cca = CCA(n_components=2).fit(Xc, Y)
    assert np.allclose(cca.canonical_correlations_, reference[:2], atol=1e-8)


@pytest.mark.xfail(
    strict=True,
    reason="issue #15 open: measure's Gaussian MI still refuses a constant column instead of "
    "using estimate.cca.canonical_correlations",
)
def test_gaussian_mi_uses_the_one_canonical_correlations():
    from subspacekit.measure import gaussian_mi

    X, Y, Xc = _views_and_constant_column()
    reference = _canonical_correlations_by_whitening(X, Y)
    # Gaussian MI is -1/2 sum log(1 - rho^2) (before its bias correction).
    closed_form = -0.5 * np.sum(np.log1p(-(reference**2)))
    assert gaussian_mi(Xc, Y, bias_correction=False) == pytest.approx(closed_form, rel=1e-10)


def test_one_module_resolver():
    torch = pytest.importorskip("torch")
    from subspacekit.activations import resolve_modules as from_activations
    from subspacekit.intervene import resolve_modules as from_intervene

    model = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(4, 2))
    )
    for patterns in ("0", ["2.0", "0"], "*", "2.*"):
        assert from_activations(model, patterns) == from_intervene(model, patterns)


@pytest.mark.parametrize(
    "make",
    [
        "estimate.PCA",
        "estimate.CCA",
        "estimate.PLSSVD",
        "detect.SubspaceAD",
        "estimate.LDA",
        "estimate.RankKProbe",
        "cluster.KSubspaces",
    ],
)
def test_the_same_parameter_mistake_raises_the_same_error(make):
    import importlib

    from subspacekit.errors import DTypeError, ValidationError

    area, name = make.split(".")
    cls = getattr(importlib.import_module(f"subspacekit.{area}"), name)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((40, 5)), rng.standard_normal((40, 3))
    y = np.arange(40) % 2
    param = "n_clusters" if name == "KSubspaces" else "n_components"

    def fit(est):
        if name in ("CCA", "PLSSVD"):
            return est.fit(X, Y)
        if name in ("LDA", "RankKProbe"):
            return est.fit(X, y)
        return est.fit(X)

    # A list where a number belongs is a type error for every estimator (a string is
    # not: PCA also takes rank-rule names, so an unknown name is a value error there).
    with pytest.raises(DTypeError):
        fit(cls(**{param: [3]}))
    with pytest.raises(ValidationError):
        fit(cls(**{param: -1}))
