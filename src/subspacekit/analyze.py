"""The main job: map the subspaces of a text model's layers into a report.

``analyze()`` captures the mean-pooled hidden states of every layer of a Hugging
Face text model (by default the packaged all-MiniLM-L6-v2) on labelled sentences
(by default the bundled probe corpus), then measures, per layer, the geometry of the
representation and the subspaces that carry each labelled attribute:

* **dimension**: TwoNN intrinsic dimension with a bootstrap interval, the number of
  principal components for 90% of the variance, the effective rank (Roy–Vetterli),
  and the diffusion spectral entropy;
* **spectrum**: covariance eigenvalues against the Marchenko–Pastur edge of a noise
  bulk fitted to them (components above the edge are signal);
* **similarity**: linear CKA between every pair of layers;
* **attributes**: held-out accuracy of a logistic probe for every attribute at every
  layer; the principal angles between the attributes' discriminant (LDA) subspaces;
  and an erasure matrix: accuracy of a fresh probe for each attribute after LEACE
  has erased each attribute.

The command ``subspacekit analyze`` calls this and writes the report.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from subspacekit.core import principal_angles
from subspacekit.core.progress import progress
from subspacekit.errors import DimensionMismatchError, TooFewSamplesError, ValidationError

__all__ = ["Analysis", "analyze", "read_texts_and_labels"]


@dataclass
class Analysis:
    """Everything the report shows, as numbers (also written to ``report.json``)."""

    model: str
    n_texts: int
    layers: list[str]
    attributes: dict[str, list[str]]
    geometry: list[dict[str, Any]] = field(default_factory=list)
    spectra: dict[str, list[float]] = field(default_factory=dict)
    cka: list[list[float]] = field(default_factory=list)
    probe_accuracy: dict[str, list[float]] = field(default_factory=dict)
    chance: dict[str, float] = field(default_factory=dict)
    focus_layer: str = ""
    attribute_angles: dict[str, Any] = field(default_factory=dict)
    erasure: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def read_texts_and_labels(
    texts_file: str | os.PathLike[str], labels_file: str | os.PathLike[str] | None = None
) -> tuple[list[str], dict[str, np.ndarray], dict[str, list[str]]]:
    """Read one text per line and, optionally, a CSV of labels with a header row.

    Each CSV column is one attribute; its values (any strings) are encoded as
    integers in sorted order. The number of label rows must equal the number of texts.
    """
    path = Path(texts_file)
    if not path.is_file():
        raise FileNotFoundError(f"texts file not found: {path}")
    texts = [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines()]
    texts = [t for t in texts if t.strip()]
    if len(texts) < 20:
        raise TooFewSamplesError(f"{path} holds {len(texts)} non-empty lines; need at least 20")
    labels: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    if labels_file is not None:
        lpath = Path(labels_file)
        if not lpath.is_file():
            raise FileNotFoundError(f"labels file not found: {lpath}")
        try:
            with open(lpath, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ValidationError(f"could not read {lpath} as CSV: {exc}") from exc
        if len(rows) < 2 or not rows[0]:
            raise ValidationError(f"{lpath} needs a header row and one row per text")
        header, body = rows[0], [r for r in rows[1:] if r]
        if len(body) != len(texts):
            raise DimensionMismatchError(
                f"{lpath} has {len(body)} label rows but {path} has {len(texts)} texts"
            )
        for j, column in enumerate(header):
            try:
                values = [r[j] for r in body]
            except IndexError:
                raise ValidationError(
                    f"{lpath}: a row has fewer than {len(header)} columns"
                ) from None
            classes = sorted(set(values))
            if len(classes) < 2:
                raise ValidationError(f"label column {column!r} has a single value {classes}")
            index = {c: i for i, c in enumerate(classes)}
            labels[column] = np.array([index[v] for v in values])
            names[column] = classes
    return texts, labels, names


def _split(n: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(random_state)
    perm = rng.permutation(n)
    cut = int(0.7 * n)
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def _probe_accuracy(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray) -> float:
    from subspacekit.estimate import LinearProbe

    probe = LinearProbe(kind="logistic", validation_fraction=0.0, random_state=0)
    return float(probe.fit(Xtr, ytr).score(Xte, yte))


def _layer_geometry(
    X: np.ndarray, *, quick: bool, random_state: int
) -> tuple[dict[str, Any], np.ndarray]:
    from subspacekit.estimate.rmt import (
        covariance_spectrum,
        estimate_noise_variance,
        marchenko_pastur_edge,
    )
    from subspacekit.measure import diffusion_spectral_entropy, effective_rank, intrinsic_dimension

    d = X.shape[1]
    eig, dof = covariance_spectrum(X)
    eig = np.clip(eig, 0.0, None)
    rank = int((eig > eig[0] * 1e-10).sum())
    if rank < min(dof, d) // 2:
        # Numerically low-rank (e.g. embeddings of a small vocabulary): there is no noise
        # bulk to fit, so no Marchenko–Pastur edge is claimed.
        noise, edge, above = float("nan"), float("nan"), None
    else:
        noise = estimate_noise_variance(eig, dof, d)
        edge = marchenko_pastur_edge(dof, d, noise)
        above = int((eig > edge).sum())
    frac = np.cumsum(eig) / eig.sum()
    twonn = intrinsic_dimension(X, method="twonn", ci=0.95, random_state=random_state)
    dse = diffusion_spectral_entropy(X, random_state=random_state)
    row = {
        "n_features": d,
        "twonn": float(twonn),
        "twonn_ci": list(twonn.ci) if twonn.ci is not None else None,
        "pca90": int(np.searchsorted(frac, 0.90) + 1),
        "effective_rank": float(effective_rank(X - X.mean(axis=0))),
        "dse": float(dse),
        "numerical_rank": rank,
        "above_mp_edge": above,
        "mp_edge": float(edge),
        "noise_variance": float(noise),
    }
    return row, eig


def _attribute_subspaces(X: np.ndarray, labels: dict[str, np.ndarray]) -> dict[str, Any]:
    from subspacekit.estimate import LDA

    subspaces = {
        a: LDA(shrinkage="auto", validation_fraction=0.0).fit(X, y).subspace_.linear_part()
        for a, y in labels.items()
    }
    names = list(subspaces)
    smallest = [
        [float(np.degrees(principal_angles(subspaces[a], subspaces[b]).min())) for b in names]
        for a in names
    ]
    return {
        "attributes": names,
        "dims": {a: subspaces[a].dim for a in names},
        "smallest_angle_degrees": smallest,
    }


def _erasure_matrix(
    X: np.ndarray,
    labels: dict[str, np.ndarray],
    train: np.ndarray,
    test: np.ndarray,
    before: dict[str, float],
) -> dict[str, Any]:
    """Probe accuracy of every attribute after LEACE-erasing each; ``before`` is without erasure."""
    from subspacekit.intervene import LEACE

    names = list(labels)
    matrix = []
    for a in names:
        eraser = LEACE().fit(X[train], labels[a][train])
        Xe = eraser.transform(X)
        matrix.append(
            [_probe_accuracy(Xe[train], labels[b][train], Xe[test], labels[b][test]) for b in names]
        )
    return {"erased": names, "probed": names, "accuracy": matrix, "before": before}


def analyze(
    model: Any = None,
    texts: Sequence[str] | None = None,
    labels: dict[str, Any] | None = None,
    *,
    label_names: dict[str, list[str]] | None = None,
    layers: Sequence[int] | None = None,
    quick: bool = False,
    batch_size: int = 64,
    random_state: int = 0,
    verbose: bool = True,
) -> Analysis:
    """Measure the subspaces of every layer of a text model on labelled sentences.

    Parameters
    ----------
    model : str, path, model wrapper or None
        A local Hugging Face model directory, a wrapper from :mod:`subspacekit.models`,
        or None for the packaged all-MiniLM-L6-v2.
    texts : sequence of str, optional
        Inputs; default the bundled probe corpus (2,400 sentences; 480 with ``quick``).
    labels : dict of str -> array of int, optional
        One label vector per attribute, as long as ``texts``. With custom texts and
        no labels only the label-free measures are computed.
    layers : sequence of int, optional
        Hidden-state indices to analyse (0 = embeddings); default all.
    quick : bool
        Smaller corpus and cheaper estimates, for tests and a first look.

    Returns
    -------
    Analysis
    """
    import time

    from subspacekit import models as models_mod
    from subspacekit.activations import capture
    from subspacekit.compare import cka

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if texts is None:
        from subspacekit.data import probe_corpus

        corpus = probe_corpus(10 if quick else 50, random_state=random_state)
        texts, labels = list(corpus.texts), dict(corpus.labels)
        label_names = {a: list(v) for a, v in corpus.label_names.items()}
    texts = list(texts)
    labels = {a: np.asarray(v) for a, v in (labels or {}).items()}
    for a, v in labels.items():
        if len(v) != len(texts):
            raise DimensionMismatchError(
                f"labels[{a!r}] has {len(v)} entries for {len(texts)} texts"
            )
    label_names = label_names or {a: [str(c) for c in np.unique(v)] for a, v in labels.items()}
    if len(texts) < 20:
        raise TooFewSamplesError(f"analyze needs at least 20 texts; got {len(texts)}")

    if model is None:
        wrapper = models_mod.minilm()
        model_name = "all-MiniLM-L6-v2 (packaged)"
    elif isinstance(model, str | os.PathLike):
        wrapper = models_mod.load(model)
        model_name = str(model)
    else:
        wrapper = model
        model_name = type(getattr(wrapper, "model", wrapper)).__name__
    seconds["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    acts = capture(
        wrapper, texts, pool="mean", batch_size=batch_size, dtype=np.float32, verbose=verbose
    )
    names = list(acts)
    if layers is not None:
        bad = [i for i in layers if not 0 <= i < len(names)]
        if bad:
            raise ValidationError(
                f"layers {bad} out of range; the model has layers 0..{len(names) - 1}"
            )
        names = [names[i] for i in layers]
    reps = {name: np.asarray(acts[name], dtype=np.float64) for name in names}
    seconds["capture"] = time.perf_counter() - t0

    result = Analysis(
        model=model_name,
        n_texts=len(texts),
        layers=names,
        attributes={a: list(map(str, v)) for a, v in label_names.items()},
    )
    t0 = time.perf_counter()
    for name in progress(names, verbose=verbose, desc="geometry"):
        row, eig = _layer_geometry(reps[name], quick=quick, random_state=random_state)
        result.geometry.append({"layer": name, **row})
        result.spectra[name] = eig[: min(100, len(eig))].tolist()
    seconds["geometry"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    result.cka = [
        [1.0 if i == j else float(cka(reps[a], reps[b])) for j, b in enumerate(names)]
        for i, a in enumerate(names)
    ]
    seconds["cka"] = time.perf_counter() - t0

    if labels:
        t0 = time.perf_counter()
        train, test = _split(len(texts), random_state)
        for a, y in progress(labels.items(), verbose=verbose, desc="probes"):
            result.probe_accuracy[a] = [
                _probe_accuracy(reps[n][train], y[train], reps[n][test], y[test]) for n in names
            ]
            result.chance[a] = float(np.bincount(y[test]).max() / len(test))
        mean_acc = np.mean([result.probe_accuracy[a] for a in labels], axis=0)
        focus = names[int(np.argmax(mean_acc))]
        result.focus_layer = focus
        seconds["probes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        result.attribute_angles = _attribute_subspaces(reps[focus], labels)
        # The no-erasure row is the probe table at the focus layer (same split, same probe).
        before = {a: result.probe_accuracy[a][names.index(focus)] for a in labels}
        result.erasure = _erasure_matrix(reps[focus], labels, train, test, before)
        seconds["attributes"] = time.perf_counter() - t0
    result.seconds = {k: round(v, 2) for k, v in seconds.items()}
    return result


def _summary_lines(res: Analysis) -> list[str]:
    geo = res.geometry
    lines = []
    ids = [g["twonn"] for g in geo]
    lo, hi = int(np.argmin(ids)), int(np.argmax(ids))
    lines.append(
        f"{res.model} was analysed on {res.n_texts} sentences over {len(res.layers)} layers. "
        f"Intrinsic dimension (TwoNN) ranges from {ids[lo]:.1f} ({geo[lo]['layer']}) to "
        f"{ids[hi]:.1f} ({geo[hi]['layer']}), far below the {geo[0]['n_features']} features."
    )
    lines.append(
        "Components above the fitted Marchenko–Pastur noise edge per layer: "
        + ", ".join(
            "n/a (low rank)" if g["above_mp_edge"] is None else str(g["above_mp_edge"]) for g in geo
        )
        + "; components for 90% of the variance: "
        + ", ".join(str(g["pca90"]) for g in geo)
        + "."
    )
    if len(res.layers) > 1:
        adjacent = [res.cka[i][i + 1] for i in range(len(res.layers) - 1)]
        j = int(np.argmin(adjacent))
        lines.append(
            f"The representation changes most between {res.layers[j]} and {res.layers[j + 1]} "
            f"(linear CKA {adjacent[j]:.2f}); first vs last layer CKA {res.cka[0][-1]:.2f}."
        )
    for a, acc in res.probe_accuracy.items():
        k = int(np.argmax(acc))
        lines.append(
            f"'{a}' is linearly decodable with held-out accuracy {acc[k]:.2f} at {res.layers[k]} "
            f"(chance {res.chance[a]:.2f}; {acc[0]:.2f} at {res.layers[0]})."
        )
    if res.erasure:
        names = res.erasure["erased"]
        M = np.array(res.erasure["accuracy"])
        before = np.array([res.erasure["before"][b] for b in names])
        self_drop = [
            f"'{a}' {before[i]:.2f}→{M[i, i]:.2f} (chance {res.chance[a]:.2f})"
            for i, a in enumerate(names)
        ]
        off = M - before[None, :]
        np.fill_diagonal(off, 0.0)
        lines.append(
            f"At {res.focus_layer}, LEACE erasure drops each attribute's own probe: "
            + "; ".join(self_drop)
            + f". The other attributes lose at most {max(0.0, -off.min()) * 100:.1f} points."
        )
    if res.attribute_angles:
        A = np.array(res.attribute_angles["smallest_angle_degrees"])
        names = res.attribute_angles["attributes"]
        off = A + np.diag(np.full(len(A), np.inf))
        i, j = np.unravel_index(np.argmin(off), A.shape)
        lines.append(
            f"Attribute subspaces at {res.focus_layer} are close to orthogonal: the closest pair, "
            f"'{names[i]}' and '{names[j]}', has smallest principal angle {A[i, j]:.0f}°."
        )
    return lines


def write_report(res: Analysis, out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``report.html`` (self-contained), ``report.json`` and PNG figures into ``out``."""
    import dataclasses

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from subspacekit._version import __version__
    from subspacekit.report import Report

    short = [n.split(".")[-1] if len(n) > 14 else n for n in res.layers]
    rep = Report(
        f"Subspace map of {res.model}",
        f"subspacekit {__version__} · {res.n_texts} texts · layers: {', '.join(res.layers)}",
    )
    for line in _summary_lines(res):
        rep.summary(line)
    geo = res.geometry

    rep.section("Dimension and spectrum per layer")
    rep.table(
        [
            "layer",
            "TwoNN ID",
            "95% interval",
            "PCA 90%",
            "effective rank",
            "diffusion entropy",
            "above MP edge",
        ],
        [
            [
                g["layer"],
                g["twonn"],
                "" if g["twonn_ci"] is None else f"{g['twonn_ci'][0]:.1f}–{g['twonn_ci'][1]:.1f}",
                g["pca90"],
                g["effective_rank"],
                g["dse"],
                f"n/a (rank {g['numerical_rank']})"
                if g["above_mp_edge"] is None
                else g["above_mp_edge"],
            ]
            for g in geo
        ],
    )
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    x = np.arange(len(geo))
    lo = [g["twonn"] - (g["twonn_ci"] or [g["twonn"]] * 2)[0] for g in geo]
    hi = [(g["twonn_ci"] or [g["twonn"]] * 2)[1] - g["twonn"] for g in geo]
    ax[0].errorbar(
        x, [g["twonn"] for g in geo], yerr=[lo, hi], marker="o", capsize=3, label="TwoNN (95% CI)"
    )
    ax[0].plot(x, [g["pca90"] for g in geo], marker="s", label="PCA 90% variance")
    ax[0].plot(x, [g["effective_rank"] for g in geo], marker="^", label="effective rank")
    ax[0].set_yscale("log")
    ax[0].set_xticks(x, short, rotation=45, ha="right")
    ax[0].set_title("dimension per layer")
    ax[0].legend(fontsize=8)
    cmap = plt.get_cmap("viridis")
    for i, eig in enumerate(res.spectra.values()):
        color = cmap(i / max(1, len(res.spectra) - 1))
        ax[1].semilogy(np.arange(1, len(eig) + 1), eig, color=color, label=short[i])
        if np.isfinite(geo[i]["mp_edge"]):
            ax[1].axhline(geo[i]["mp_edge"], color=color, ls=":", lw=0.8)
    ax[1].set_xlabel("component")
    ax[1].set_title("covariance spectrum (dotted: Marchenko–Pastur edge)")
    ax[1].legend(fontsize=7, ncol=2)
    rep.figure(
        fig,
        "dimension_spectrum",
        "Intrinsic dimension, PCA dimension and effective rank per "
        "layer (left); covariance spectrum with the fitted random-matrix noise edge (right).",
    )

    rep.section("Layer similarity (linear CKA)")
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    im = ax.imshow(np.array(res.cka), vmin=0, vmax=1, cmap="magma")
    ax.set_xticks(x, short, rotation=45, ha="right")
    ax.set_yticks(x, short)
    fig.colorbar(im, ax=ax)
    ax.set_title("linear CKA between layers")
    rep.figure(
        fig, "cka", "Linear CKA between the mean-pooled representations of every pair of layers."
    )

    if res.probe_accuracy:
        rep.section("Attributes")
        rep.table(
            ["attribute", *short, "chance"],
            [[a, *acc, res.chance[a]] for a, acc in res.probe_accuracy.items()],
        )
        fig, ax = plt.subplots(figsize=(6.5, 3.8))
        for a, acc in res.probe_accuracy.items():
            ax.plot(x, acc, marker="o", label=a)
        ax.set_xticks(x, short, rotation=45, ha="right")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("held-out accuracy")
        ax.set_title("logistic probe per attribute and layer")
        ax.legend(fontsize=8)
        rep.figure(
            fig,
            "probes",
            "Held-out accuracy of a logistic probe for every attribute at every layer.",
        )

        names = res.attribute_angles["attributes"]
        A = np.array(res.attribute_angles["smallest_angle_degrees"])
        M = np.array(res.erasure["accuracy"])
        fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
        im = ax[0].imshow(A, vmin=0, vmax=90, cmap="viridis")
        for (i, j), v in np.ndenumerate(A):
            ax[0].text(j, i, f"{v:.0f}°", ha="center", va="center", color="w", fontsize=8)
        ax[0].set_xticks(range(len(names)), names, rotation=30)
        ax[0].set_yticks(range(len(names)), names)
        ax[0].set_title(
            f"smallest principal angle between LDA subspaces ({res.focus_layer})", fontsize=9
        )
        im = ax[1].imshow(M, vmin=0, vmax=1, cmap="RdYlGn")
        for (i, j), v in np.ndenumerate(M):
            ax[1].text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
        ax[1].set_xticks(range(len(names)), names, rotation=30)
        ax[1].set_yticks(range(len(names)), [f"erase {n}" for n in names])
        ax[1].set_xlabel("probed attribute")
        ax[1].set_title("probe accuracy after LEACE erasure", fontsize=9)
        fig.colorbar(im, ax=ax[1])
        rep.figure(
            fig,
            "attributes",
            "Left: smallest principal angle between the attributes' "
            "discriminant subspaces. Right: accuracy of a fresh probe (columns) after "
            "erasing each attribute (rows) with LEACE.",
        )
        rep.table(
            ["erased \\ probed", *names],
            [[f"erase {a}", *row] for a, row in zip(names, M.tolist(), strict=True)]
            + [["no erasure", *[res.erasure["before"][b] for b in names]]],
        )
    rep.section("Run")
    rep.table(["stage", "seconds"], [[k, v] for k, v in res.seconds.items()])
    rep.data = dataclasses.asdict(res)
    return rep.write(out, overwrite=overwrite)
