"""Ground-truth samplers: the stated mutual information is checked against independent
computations (closed forms written another way, Monte Carlo averages of the log density
ratio), and the invariances that make the transformed families exact are checked."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from subspacekit.errors import ValidationError
from subspacekit.measure.mi_samplers import (
    TRANSFORMS,
    CorrelatedGaussian,
    Embedded,
    GaussianClasses,
    GaussianWithAtoms,
    JointGaussian,
    SmearedDiscrete,
    StudentT,
    Transformed,
)


def test_correlated_gaussian_matches_logdet_formula_after_rotation() -> None:
    task = CorrelatedGaussian([0.9, 0.4, 0.2], dim_x=4, dim_y=3, rotation_seed=3)
    cov = task.covariance()
    via_logdet = JointGaussian(cov, dim_x=4).mutual_information
    closed = -0.5 * sum(math.log(1 - r**2) for r in (0.9, 0.4, 0.2))
    assert task.mutual_information == pytest.approx(closed, rel=1e-12)
    assert via_logdet == pytest.approx(closed, rel=1e-10)


def test_correlated_gaussian_sample_has_the_stated_covariance() -> None:
    task = CorrelatedGaussian([0.8, 0.5], dim_x=3, dim_y=2, rotation_seed=1)
    X, Y = task.sample(100_000, random_state=0)
    empirical = np.cov(np.hstack([X, Y]), rowvar=False)
    assert np.abs(empirical - task.covariance()).max() < 0.02


def test_from_mutual_information_round_trip() -> None:
    for mi, pairs in [(0.1, 1), (1.0, 2), (4.0, 4)]:
        task = CorrelatedGaussian.from_mutual_information(mi, n_pairs=pairs)
        assert task.mutual_information == pytest.approx(mi, rel=1e-12)


def _log_t_density_ratio(task: StudentT, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    cov, m = task.gaussian.covariance(), task.dim_x
    joint = stats.multivariate_t(np.zeros(len(cov)), cov, df=task.dof)
    mx = stats.multivariate_t(np.zeros(m), cov[:m, :m], df=task.dof)
    my = stats.multivariate_t(np.zeros(task.dim_y), cov[m:, m:], df=task.dof)
    return joint.logpdf(np.hstack([X, Y])) - mx.logpdf(X) - my.logpdf(Y)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("correlations", "dof", "dim_x", "dim_y"),
    [([0.0], 1.0, None, None), ([0.5], 3.0, None, None), ([0.8, 0.3], 5.0, 3, 2)],
)
def test_student_t_mi_matches_monte_carlo(correlations, dof, dim_x, dim_y) -> None:
    task = StudentT(correlations, dof, dim_x, dim_y)
    X, Y = task.sample(40_000, random_state=1)
    pmi = _log_t_density_ratio(task, X, Y)
    se = pmi.std() / math.sqrt(pmi.size)
    assert abs(pmi.mean() - task.mutual_information) < 4 * se


def test_student_t_tends_to_gaussian_for_many_degrees_of_freedom() -> None:
    gauss = CorrelatedGaussian([0.7, 0.2], dim_x=3)
    assert StudentT([0.7, 0.2], 1e7, dim_x=3).mutual_information == pytest.approx(
        gauss.mutual_information, abs=1e-5
    )
    # Heavy tails share the scale variable: dependence without correlation.
    assert StudentT([0.0], 2.0).mutual_information > 0.05


def test_smeared_discrete_matches_gao_formula_and_monte_carlo() -> None:
    for m in (2, 5, 10):
        expected = math.log(m) - (m - 1) / m * math.log(2)
        assert SmearedDiscrete(m, 2).mutual_information == pytest.approx(expected, rel=1e-12)
    # Width 3 by Monte Carlo of log p(y|x) - log p(y), p(y) = #{x: x <= y < x + 3} / (3m).
    task = SmearedDiscrete(4, 3)
    X, Y = task.sample(20_000, random_state=0)
    x, y = X[:, 0], Y[:, 0]
    covering = np.array([np.sum((np.arange(4) <= v) & (v < np.arange(4) + 3)) for v in y])
    pmi = np.log(1 / 3) - np.log(covering / 12)
    assert pmi.mean() == pytest.approx(
        task.mutual_information, abs=4 * pmi.std() / math.sqrt(pmi.size)
    )
    assert np.all(y >= x) and np.all(y < x + 3)


def test_gaussian_with_atoms_matches_radon_nikodym_monte_carlo() -> None:
    task = GaussianWithAtoms(rho=0.6, atom_probability=0.3)
    X, Y = task.sample(50_000, random_state=0)
    x, y = X[:, 0], Y[:, 0]
    p, rho = 0.3, 0.6
    atom = (np.abs(x) == 1.0) & (x == y)
    # dP_XY / d(P_X ⊗ P_Y): continuous part ((1-p) φ_ρ) / ((1-p) φ (1-p) φ); atoms (p/2) / (p/2)².
    log_phi_rho = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).logpdf(np.c_[x, y])
    continuous = log_phi_rho - stats.norm.logpdf(x) - stats.norm.logpdf(y) - math.log(1 - p)
    pmi = np.where(atom, -math.log(p / 2), continuous)
    assert abs(atom.mean() - p) < 0.01
    assert pmi.mean() == pytest.approx(
        task.mutual_information, abs=4 * pmi.std() / math.sqrt(pmi.size)
    )


def test_gaussian_classes_quadrature_matches_bayes_monte_carlo() -> None:
    task = GaussianClasses(3, separation=2.0, dim=2, weights=[0.5, 0.3, 0.2])
    X, labels = task.sample(50_000, random_state=0)
    c = labels[:, 0].astype(int)
    logjoint = np.log(task.weights) + stats.norm.logpdf(X[:, [0]] - 2.0 * np.arange(3))
    pmi = logjoint[np.arange(c.size), c] - logsumexp(logjoint, axis=1) - np.log(task.weights[c])
    assert pmi.mean() == pytest.approx(
        task.mutual_information, abs=4 * pmi.std() / math.sqrt(pmi.size)
    )
    assert GaussianClasses(4, separation=50.0).mutual_information == pytest.approx(
        math.log(4), abs=1e-6
    )


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_are_strictly_increasing(name: str) -> None:
    # Beyond about ±8 the normal CDF rounds to 0 or 1 in float64 (probability < 1e-15).
    grid = np.linspace(-6, 6, 100_001)
    assert np.all(np.diff(TRANSFORMS[name](grid)) > 0)


def test_transformed_and_embedded_keep_the_mutual_information() -> None:
    base = CorrelatedGaussian.from_mutual_information(1.0, n_pairs=2)
    for task in (
        Transformed(base, "asinh", "half_cube"),
        Embedded(base, 50, 30, "linear"),
        Embedded(base, 50, 50, "mlp"),
    ):
        assert task.mutual_information == pytest.approx(1.0, rel=1e-12)
    X, Y = Embedded(base, 50, 30, "linear").sample(500, random_state=0)
    assert X.shape == (500, 50) and Y.shape == (500, 30)
    # Linear embedding is injective: the latent is recovered exactly from X.
    U, _ = base.sample(500, random_state=0)
    coef, *_ = np.linalg.lstsq(X, U, rcond=None)
    assert np.allclose(X @ coef, U, atol=1e-8)


def test_same_seed_same_sample_and_bad_arguments() -> None:
    task = StudentT([0.5], 4.0)
    a, b = task.sample(10, random_state=7), task.sample(10, random_state=7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(ValidationError, match="inside"):
        CorrelatedGaussian([1.0])
    with pytest.raises(ValidationError, match="at least"):
        CorrelatedGaussian([0.5, 0.5], dim_x=1)
    with pytest.raises(ValidationError, match="positive definite"):
        JointGaussian([[1.0, 2.0], [2.0, 1.0]], dim_x=1)
    with pytest.raises(ValidationError, match="transform"):
        Transformed(task, "cube")
    with pytest.raises(ValidationError, match="n_samples"):
        task.sample(0)
