"""Thin command-line tools for users with their own arrays (.npy, .npz, .csv).

``subspacekit id``, ``mi``, ``compare``, ``cluster`` and ``detect`` read arrays with
:func:`load_array`, call the library function and print the result (or JSON).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from subspacekit.core.validation import check_array
from subspacekit.errors import DimensionMismatchError, ValidationError

__all__ = ["add_commands", "load_array", "run_command"]


def load_array(path: str | Path, *, key: str | None = None, name: str = "X") -> np.ndarray:
    """Read a numeric 2-D array from ``.npy``, ``.npz`` (one array or ``key``) or ``.csv``.

    A CSV may have one header row (detected when its first row is not numeric); a
    1-D array becomes one column. Pickled objects are never loaded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_text("a,b\\n1,2\\n3,4\\n")
    >>> load_array(p)
    array([[1., 2.],
           [3., 4.]])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{name}: file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                keys = list(npz.files)
                if key is None and len(keys) != 1:
                    raise ValidationError(f"{path} holds arrays {keys}; choose one with --key")
                chosen = key if key is not None else keys[0]
                if chosen not in keys:
                    raise ValidationError(f"{path} has no array {chosen!r}; it holds {keys}")
                arr = npz[chosen]
        elif suffix in (".csv", ".txt", ".tsv"):
            delimiter = "\t" if suffix == ".tsv" else ","
            with open(path, encoding="utf-8") as fh:
                first = fh.readline()
            try:
                [float(v) for v in first.strip().split(delimiter) if v.strip()]
                skip = 0
            except ValueError:
                skip = 1
            arr = np.loadtxt(path, delimiter=delimiter, skiprows=skip, ndmin=2)
        else:
            raise ValidationError(
                f"{name}: unsupported file type {suffix!r}; use .npy, .npz or .csv"
            )
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"{name}: could not read {path}: {exc}") from exc
    if arr.ndim == 1:
        arr = arr[:, None]
    return check_array(arr, name)


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    print(json.dumps(payload, indent=2, default=float) if args.json else text)


def _cmd_id(args: argparse.Namespace) -> int:
    from subspacekit.measure.intrinsic_dimension import intrinsic_dimension

    X = load_array(args.X, key=args.key)
    est = intrinsic_dimension(X, method=args.method, ci=args.ci, random_state=args.random_state)
    _emit(args, est.to_dict(), f"intrinsic dimension ({args.method}): {est}")
    return 0


def _cmd_mi(args: argparse.Namespace) -> int:
    from subspacekit.measure.mutual_information import mutual_information

    X, Y = load_array(args.X, name="X"), load_array(args.Y, name="Y")
    if len(X) != len(Y):
        raise DimensionMismatchError(f"X has {len(X)} rows and Y has {len(Y)}; they must match")
    est = mutual_information(
        X, Y, method=args.method, ci=args.ci, units=args.units, random_state=args.random_state
    )
    _emit(args, est.to_dict(), f"mutual information ({args.method}): {est}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from subspacekit import compare

    X, Y = load_array(args.X, name="X"), load_array(args.Y, name="Y")
    if len(X) != len(Y):
        raise DimensionMismatchError(f"X has {len(X)} rows and Y has {len(Y)}; they must match")
    results: dict[str, Any] = {}
    for measure in args.measures.split(","):
        measure = measure.strip()
        if measure == "cka":
            results[measure] = compare.cka(X, Y, ci=args.ci, random_state=args.random_state)
        elif measure == "svcca":
            results[measure] = compare.svcca(X, Y, ci=args.ci, random_state=args.random_state)
        elif measure == "pwcca":
            results[measure] = compare.pwcca(X, Y, ci=args.ci, random_state=args.random_state)
        elif measure == "procrustes":
            results[measure] = compare.procrustes_similarity(
                X, Y, ci=args.ci, random_state=args.random_state
            )
        elif measure == "angles":
            k = min(args.n_components, X.shape[1], Y.shape[1])
            results[measure] = np.degrees(compare.pca_principal_angles(X, Y, k)).round(3).tolist()
        else:
            raise ValidationError(
                f"unknown measure {measure!r}; choose from cka, svcca, pwcca, procrustes, angles"
            )
    payload = {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in results.items()}
    text = "\n".join(f"{k}: {v}" for k, v in results.items())
    _emit(args, payload, text)
    return 0


def _cmd_cluster(args: argparse.Namespace) -> int:
    from subspacekit import cluster

    X = load_array(args.X, key=args.key)
    methods = {
        "ensc": "EnSC",
        "ssc": "SSC",
        "ssc-omp": "SSCOMP",
        "lsr": "LSR",
        "lrr": "LRR",
        "ksubspaces": "KSubspaces",
    }
    if args.method not in methods or not hasattr(cluster, methods[args.method]):
        raise ValidationError(f"unknown method {args.method!r}; choose from {sorted(methods)}")
    model = getattr(cluster, methods[args.method])(n_clusters=args.n_clusters)
    labels = model.fit_predict(X)
    payload: dict[str, Any] = {
        "method": args.method,
        "labels": labels.tolist(),
        "sizes": np.bincount(labels).tolist(),
    }
    if args.y:
        y = load_array(args.y, name="labels").ravel().astype(int)
        payload["scores"] = cluster.clustering_scores(y, labels)
    if args.out:
        from subspacekit.core.io import atomic_write

        atomic_write(args.out, lambda tmp: np.save(open(tmp, "wb"), labels), overwrite=args.force)
    text = f"{args.method}: {args.n_clusters} clusters, sizes {payload['sizes']}"
    if "scores" in payload:
        text += "\n" + ", ".join(f"{k}={v:.4f}" for k, v in payload["scores"].items())
    _emit(args, payload, text)
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    from subspacekit.detect import SubspaceAD

    train, test = load_array(args.train, name="train"), load_array(args.test, name="test")
    if train.shape[1] != test.shape[1]:
        raise DimensionMismatchError(
            f"train has {train.shape[1]} features and test has {test.shape[1]}; they must match"
        )
    n_components: float | int = args.variance if args.variance < 1 else int(args.variance)
    detector = SubspaceAD(n_components=n_components, alpha=args.alpha).fit(train)
    scores = -detector.score_samples(test)
    flagged = detector.predict(test) == -1
    payload = {
        "anomaly_score": scores.tolist(),
        "pvalue": np.asarray(detector.pvalues(test)).tolist(),
        "flagged": flagged.tolist(),
        "n_components": int(detector.n_components_),
    }
    text = (
        f"SubspaceAD with {detector.n_components_} components: {int(flagged.sum())} of "
        f"{len(test)} test rows flagged at false-alarm rate {args.alpha}"
    )
    _emit(args, payload, text)
    return 0


def add_commands(sub: Any) -> None:
    """Register the thin commands on an argparse sub-parser collection."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--random-state", type=int, default=0)

    p = sub.add_parser("id", help="intrinsic dimension of the rows of an array")
    p.add_argument("X", help=".npy, .npz or .csv (rows are samples)")
    p.add_argument("--key", help="array name inside an .npz")
    p.add_argument("--method", default="twonn", help="twonn, mle, pca, pr, ...")
    p.add_argument("--ci", type=float, default=0.95)
    common(p)

    p = sub.add_parser("mi", help="mutual information between two arrays (same rows)")
    p.add_argument("X")
    p.add_argument("Y")
    p.add_argument("--method", default="ksg")
    p.add_argument("--units", default="nats", choices=["nats", "bits"])
    p.add_argument("--ci", type=float, default=0.95)
    common(p)

    p = sub.add_parser("compare", help="similarity of two representations of the same inputs")
    p.add_argument("X")
    p.add_argument("Y")
    p.add_argument(
        "--measures",
        default="cka,svcca,angles",
        help="comma-separated: cka, svcca, pwcca, procrustes, angles",
    )
    p.add_argument("--n-components", type=int, default=10, help="PCA dimension for angles")
    p.add_argument("--ci", type=float, default=None)
    common(p)

    p = sub.add_parser("cluster", help="subspace clustering of the rows of an array")
    p.add_argument("X")
    p.add_argument("--n-clusters", type=int, required=True)
    p.add_argument("--method", default="ensc")
    p.add_argument("--key")
    p.add_argument("--y", help="true labels to score against (.npy/.csv)")
    p.add_argument("--out", help="write the labels to this .npy file")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    common(p)

    p = sub.add_parser("detect", help="anomaly scores of test rows against normal training rows")
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument(
        "--variance",
        type=float,
        default=0.99,
        help="explained-variance fraction (< 1) or number of components",
    )
    p.add_argument("--alpha", type=float, default=0.01, help="false-alarm rate of the flag")
    common(p)


COMMANDS = {
    "id": _cmd_id,
    "mi": _cmd_mi,
    "compare": _cmd_compare,
    "cluster": _cmd_cluster,
    "detect": _cmd_detect,
}


def run_command(args: argparse.Namespace) -> int:
    """Dispatch a thin command."""
    return COMMANDS[args.command](args)
