r"""Interpretability-illusion diagnostics for subspace activation patching (Makelov et al., 2024).

Patching a direction :math:`v` at a site, :math:`a' = a_b + vv^\top(a_s - a_b)`,
can change the model's output "as if" a feature had been changed even when
:math:`v` is not where the model keeps the feature. Split :math:`v` with respect to
the downstream linear map :math:`W_{out}` (m x d) that reads the site:

.. math:: v = v_{null} + v_{row},\quad v_{null}\in\ker W_{out},\quad
          v_{row}\in\mathrm{row}(W_{out}).

The patch writes :math:`(v^\top\Delta)\,W_{out}v_{row}` downstream
(:math:`\Delta = a_s - a_b`). The illusion: the *signal* :math:`v^\top\Delta` is read
from the causally disconnected part :math:`v_{null}` (which varies with the
feature but never reaches the output), and the *write* goes through
:math:`v_{row}`, a dormant direction that is (nearly) constant on the data. Each
part alone does nothing; together they open a pathway the model never uses.

:func:`illusion_diagnostics` reports

* ``null_fraction`` :math:`\|v_{null}\|^2`;
* ``row_dormancy`` :math:`\mathrm{Var}(\hat v_{row}^\top a)/\mathrm{Var}(v^\top a)`
  (0: the row-space part never varies on the data);
* ``null_signal_share`` :math:`v_{null}^\top\Sigma v / v^\top\Sigma v`, the share of
  the patched signal :math:`E[(v^\top\Delta)^2]` that is read from the nullspace
  part (:math:`\Sigma` the activation covariance; for independent base/source
  pairs :math:`E[\Delta\Delta^\top] = 2\Sigma`): the share of the patch effect that
  travels through the disconnected-plus-dormant pathway;
* with an ``effect`` function (e.g. from :func:`patch_effect`): the effects of
  patching :math:`v`, :math:`\hat v_{row}` and :math:`\hat v_{null}` and the
  illusion score ``effect(v) - max(effect(row), effect(null))``.

:func:`distilled_illusion_model` builds the paper's distilled example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from subspacekit.activations.modules import resolve_module
from subspacekit.core.backend import import_optional, to_numpy
from subspacekit.core.constraints import is_real
from subspacekit.core.linalg import constant_columns, numerical_rank, range_basis, rank_tolerance
from subspacekit.core.subspace import Subspace
from subspacekit.core.validation import check_array, check_int, check_probability, describe
from subspacekit.errors import (
    DimensionMismatchError,
    DTypeError,
    NonFiniteError,
    ShapeError,
    ValidationError,
)
from subspacekit.intervene.hooks import Position, as_subspace, forward, record, target_tensor
from subspacekit.intervene.patching import patch

__all__ = [
    "IllusionReport",
    "distilled_illusion_model",
    "illusion_diagnostics",
    "patch_effect",
]


@dataclass(frozen=True)
class IllusionReport:
    """Result of :func:`illusion_diagnostics` (see the module docs for each field)."""

    null_fraction: float
    row_dormancy: float
    null_signal_share: float
    effect: float | None
    effect_row: float | None
    effect_null: float | None
    illusion_score: float | None
    flagged: bool
    row_direction: np.ndarray
    null_direction: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Scalars only (directions left out), for JSON reports."""
        out = asdict(self)
        out.pop("row_direction")
        out.pop("null_direction")
        return out

    def __repr__(self) -> str:
        def f(x: float | None) -> str:
            return "None" if x is None else f"{x:.3f}"

        return (
            f"IllusionReport(flagged={self.flagged}, null_fraction={f(self.null_fraction)}, "
            f"row_dormancy={f(self.row_dormancy)}, null_signal_share={f(self.null_signal_share)}, "
            f"effect={f(self.effect)}, effect_row={f(self.effect_row)}, "
            f"effect_null={f(self.effect_null)}, illusion_score={f(self.illusion_score)})"
        )


def illusion_diagnostics(
    direction: Any,
    downstream_weight: Any,
    activations: Any,
    effect: Callable[[np.ndarray], float] | None = None,
    *,
    share_threshold: float = 0.5,
    effect_threshold: float = 0.5,
) -> IllusionReport:
    r"""Split a patched direction into null/row-space parts and test for the illusion.

    Parameters
    ----------
    direction : array (d,), 1-D Subspace, or fitted estimator with a 1-D ``subspace_``
        The patched direction :math:`v` (normalised here).
    downstream_weight : array (m, d) or module with ``.weight``
        The linear map that reads the site, in ``torch.nn.Linear`` layout
        (out_features x in_features), e.g. an MLP's output projection.
    activations : array (n, d)
        Site activations on the data, for dormancy and the signal split.
    effect : callable, optional
        ``effect(unit_direction) -> float``: the behavioural effect of patching that
        direction (1 = full counterfactual behaviour), e.g. built with
        :func:`patch_effect`.
    share_threshold, effect_threshold : float
        ``flagged`` is True when ``null_signal_share >= share_threshold`` (the
        signal comes mostly from the causally disconnected part) and, if
        ``effect`` is given, also ``illusion_score >= effect_threshold`` (the whole
        direction works while neither part does).

    Returns
    -------
    IllusionReport

    Examples
    --------
    The distilled example: unit 0 carries the feature and is read downstream, unit
    1 copies it but is never read, unit 2 is read but always 0.

    >>> W_out = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> x = np.array([0.0, 1.0] * 50)
    >>> acts = np.stack([x, x, 0 * x], axis=1)
    >>> r = illusion_diagnostics([0.0, 1.0, 1.0], W_out, acts)
    >>> r.flagged, round(r.null_fraction, 3), r.row_dormancy, r.null_signal_share
    (True, 0.5, 0.0, 1.0)
    >>> illusion_diagnostics([1.0, 0.0, 0.0], W_out, acts).flagged
    False
    """
    share_threshold = check_probability(share_threshold, "share_threshold", open_interval=False)
    if not is_real(effect_threshold) or not np.isfinite(effect_threshold):
        raise DTypeError(
            f"effect_threshold must be a finite number; got {describe(effect_threshold)}"
        )
    if effect is not None and not callable(effect):
        raise DTypeError(f"effect must be callable or None; got {describe(effect)}")
    if hasattr(downstream_weight, "weight"):
        downstream_weight = downstream_weight.weight
    W = check_array(downstream_weight, "downstream_weight").astype(np.float64)
    if isinstance(direction, Subspace) or hasattr(direction, "subspace_"):
        S = as_subspace(direction, "direction")
        if S.dim != 1:
            raise ShapeError(f"the illusion diagnostic needs a 1-D direction; got dim {S.dim}")
        v = np.asarray(to_numpy(S.basis), dtype=np.float64)[:, 0]
    else:
        v = check_array(direction, "direction", ndim=1).astype(np.float64)
    norm = float(np.linalg.norm(v))
    if not norm > 0:
        raise ValidationError("direction must be non-zero")
    v = v / norm
    d = v.shape[0]
    if W.shape[1] != d:
        raise DimensionMismatchError(
            f"downstream_weight must be (m, {d}) (out x in, reading the site); got {W.shape}"
        )
    A = check_array(activations, "activations", min_samples=2).astype(np.float64)
    if A.shape[1] != d:
        raise DimensionMismatchError(f"activations must have {d} columns; got {A.shape[1]}")

    R, _ = range_basis(W.T)  # orthonormal basis of the row space, by the core rank rule
    v_row = R @ (R.T @ v)
    v_null = v - v_row
    row_norm = float(np.linalg.norm(v_row))
    null_norm = float(np.linalg.norm(v_null))
    # v is a unit vector: a part below the rank tolerance of W is rounding, not a part
    negligible = rank_tolerance(W.shape)
    has_row, has_null = row_norm > negligible, null_norm > negligible
    u_row = v_row / row_norm if has_row else np.zeros(d)
    u_null = v_null / null_norm if has_null else np.zeros(d)

    Ac = A - A.mean(axis=0)
    along_v = Ac @ v
    var_v = float(along_v @ along_v)
    total = float(np.sum(Ac * Ac))
    if not np.isfinite(total):
        raise NonFiniteError("the activations' variance overflowed float64; rescale them")
    # v^T a must vary: not constant by the core relative rule (rounding next to its
    # magnitude), and its variance numerically non-zero next to the total (rank rule)
    if (
        constant_columns((A @ v)[:, None])[0]
        or numerical_rank([var_v, total], A.shape, squared=True) < 2
    ):
        raise ValidationError(
            "the activations do not vary along the direction; patching it changes nothing"
        )
    row_dormancy = float(np.sum((Ac @ u_row) ** 2)) / var_v
    null_signal_share = float((Ac @ v_null) @ along_v) / var_v

    eff = eff_row = eff_null = score = None
    if effect is not None:
        eff = float(effect(v))
        eff_row = float(effect(u_row)) if has_row else 0.0
        eff_null = float(effect(u_null)) if has_null else 0.0
        score = eff - max(eff_row, eff_null)
    flagged = null_signal_share >= share_threshold and (score is None or score >= effect_threshold)
    return IllusionReport(
        null_fraction=null_norm**2,
        row_dormancy=row_dormancy,
        null_signal_share=null_signal_share,
        effect=eff,
        effect_row=eff_row,
        effect_null=eff_null,
        illusion_score=score,
        flagged=bool(flagged),
        row_direction=u_row,
        null_direction=u_null,
    )


def patch_effect(
    model: Any,
    module: str,
    base_inputs: Any,
    source_inputs: Any,
    counterfactual: Any = None,
    *,
    output: Callable[[Any], Any] | None = None,
    run: Callable[[Any, Any], Any] | None = None,
    position: Position = None,
) -> Callable[[Any], float]:
    r"""Build ``effect(direction) -> float`` for :func:`illusion_diagnostics`.

    The site is recorded once on the base and source inputs. With
    ``counterfactual`` labels the effect is the interchange accuracy (argmax of the
    patched output equals the label); without, it is the mean fraction of the
    output change moved towards the source,
    :math:`\langle y_p - y_b, y_s - y_b\rangle / \|y_s - y_b\|^2`, over pairs whose
    outputs differ (the "fraction of logit difference flipped" of the paper).

    Examples
    --------
    >>> import torch
    >>> net = distilled_illusion_model()
    >>> x = torch.tensor([[0.0], [1.0]])
    >>> effect = patch_effect(net, "hidden", x, x.flip(0), counterfactual=torch.tensor([1, 0]))
    >>> effect(np.array([1.0, 0.0, 0.0])), effect(np.array([0.0, 1.0, 0.0]))
    (1.0, 0.0)
    """
    torch = import_optional("torch", "torch")
    for fn, what in ((output, "output"), (run, "run")):
        if fn is not None and not callable(fn):
            raise DTypeError(f"{what} must be callable or None; got {describe(fn)}")
    module = resolve_module(model, module)
    source = record(model, module, source_inputs, position=position, run=run)[module]

    def outputs(inputs: Any) -> Any:
        out = (run or forward)(model, inputs)
        return output(out) if output is not None else out

    with torch.no_grad():
        base_out = outputs(base_inputs)
        source_out = outputs(source_inputs)
    n_pairs = int(base_out.shape[0])
    if int(source_out.shape[0]) != n_pairs:
        raise DimensionMismatchError(
            f"base and source inputs must pair up row by row; the model gave {n_pairs} and "
            f"{int(source_out.shape[0])} outputs"
        )
    labels = (
        None if counterfactual is None else target_tensor(counterfactual, "counterfactual", n_pairs)
    )

    def effect(direction: Any) -> float:
        with torch.no_grad(), patch(model, module, direction, source, position=position):
            patched = outputs(base_inputs)
        if labels is not None:
            target = labels.argmax(-1) if labels.ndim == 2 else labels
            return float((patched.argmax(-1) == target).double().mean())
        moved = (patched - base_out).reshape(patched.shape[0], -1).double()
        wanted = (source_out - base_out).reshape(patched.shape[0], -1).double()
        size = (wanted * wanted).sum(-1)
        # squared norms: a pair counts when its norm passes the core rank tolerance
        keep = size > rank_tolerance(tuple(wanted.shape)) ** 2 * float(size.max())
        if not bool(keep.any()):
            raise ValidationError("base and source outputs are identical; no effect to measure")
        return float(((moved * wanted).sum(-1)[keep] / size[keep]).mean())

    return effect


def distilled_illusion_model(n_copies: int = 1, dormant_weight: float | None = None) -> Any:
    r"""The distilled example of Makelov et al. (2024) as a tiny torch model.

    Input :math:`x \in \{0, 1\}` (shape (n, 1)); with ``m = n_copies``:

    * ``hidden``  (Linear 1 -> 1+2m): :math:`h = (x, x 1_m, 0_m)`: unit 0 carries
      the feature; units 1..m are copies that nothing reads (causally
      disconnected); units m+1..2m are always 0 on the data (dormant);
    * ``readout`` (Linear 1+2m -> 1+m, :math:`W_{out}`): :math:`r = (h_0, h_{m+1},
      \dots, h_{2m})`; its kernel is spanned by the copies;
    * ``head``    (Linear 1+m -> 2): logits with
      :math:`\text{logit}_1 - \text{logit}_0 = 2(r_0 + c\sum_j r_j) - 1`,
      ``c = dormant_weight`` (default ``2/m``).

    The model predicts :math:`x`. Patching :math:`e_0` from a source flips the
    prediction (faithful). With the default ``c``, patching the illusory
    :math:`v = (0, 1_m, 1_m)/\sqrt{2m}` also flips it exactly (each dormant unit
    receives :math:`(x'-x)/2`), although the copies alone are never read and the
    dormant units alone carry no signal. ``n_copies=1`` is the paper's example
    with :math:`v = (e_1 + e_2)/\sqrt 2`.

    Examples
    --------
    >>> import torch
    >>> net = distilled_illusion_model()
    >>> net(torch.tensor([[0.0], [1.0]])).argmax(-1)
    tensor([0, 1])
    """
    torch = import_optional("torch", "torch")
    m = check_int(n_copies, "n_copies", low=1)
    if dormant_weight is not None and not (is_real(dormant_weight) and np.isfinite(dormant_weight)):
        raise DTypeError(
            f"dormant_weight must be a finite number or None; got {describe(dormant_weight)}"
        )
    c = 2.0 / m if dormant_weight is None else float(dormant_weight)
    d = 1 + 2 * m
    net = torch.nn.Sequential()
    net.add_module("hidden", torch.nn.Linear(1, d, bias=False))
    net.add_module("readout", torch.nn.Linear(d, 1 + m, bias=False))
    net.add_module("head", torch.nn.Linear(1 + m, 2))
    w_in = torch.zeros(d, 1)
    w_in[: 1 + m] = 1.0
    w_out = torch.zeros(1 + m, d)
    w_out[0, 0] = 1.0
    w_out[1:, 1 + m :] = torch.eye(m)
    read = torch.tensor([1.0] + [c] * m)
    with torch.no_grad():
        net.hidden.weight.copy_(w_in)
        net.readout.weight.copy_(w_out)
        net.head.weight.copy_(torch.stack([-read, read]))
        net.head.bias.copy_(torch.tensor([0.5, -0.5]))
    net.requires_grad_(False)
    return net
