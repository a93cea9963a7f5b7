"""The ``subspacekit`` command line.

Errors caused by the user's input end with a one-line message and exit status 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from subspacekit._version import __version__
from subspacekit.errors import SubspaceKitError

__all__ = ["build_parser", "main"]


def _class_subspaces(X: np.ndarray, y: np.ndarray, n_components: int) -> dict[int, object]:
    from subspacekit.core import Subspace

    out = {}
    for label in np.unique(y):
        Xc = X[y == label]
        mean = Xc.mean(axis=0)
        _, s, Vt = np.linalg.svd(Xc - mean, full_matrices=False)
        out[int(label)] = Subspace.from_basis(
            Vt[:n_components].T,
            mean=mean,
            scales=s[:n_components] / np.sqrt(max(len(Xc) - 1, 1)),
            meta={"method": "pca", "class": int(label)},
        )
    return out


def run_demo(n_components: int = 8, random_state: int = 0) -> dict[str, object]:
    """Principal angles between per-class PCA subspaces of scikit-learn's digits.

    Fits a ``n_components``-dimensional affine PCA subspace to each digit class on a
    random half of the data, prints the principal angles between the subspaces of a
    few digit pairs and the geodesic distance matrix, and classifies the other half
    by nearest subspace (smallest residual). Returns the distance matrix, the
    class labels and the held-out accuracy.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.5, stratify=digits.target, random_state=random_state
    )
    subspaces = _class_subspaces(X_train, y_train, n_components)
    labels = sorted(subspaces)
    print(
        f"subspacekit {__version__} demo: {n_components}-dimensional PCA subspace of each "
        f"digit class (scikit-learn digits, {len(X_train)} training images, d=64)\n"
    )
    pairs = [(0, 1), (1, 7), (3, 8), (4, 9), (5, 6)]
    print("Principal angles between class subspaces (degrees, smallest first)")
    print("pair   " + " ".join(f"{'t' + str(i + 1):>6}" for i in range(n_components)))
    for a, b in pairs:
        angles = np.degrees(subspaces[a].angles(subspaces[b]))  # type: ignore[attr-defined]
        print(f"{a} vs {b} " + " ".join(f"{v:6.1f}" for v in angles))
    print("\nGeodesic distance between class subspaces (radians)")
    D = np.array(
        [[subspaces[a].distance(subspaces[b]) for b in labels] for a in labels]  # type: ignore[attr-defined]
    )
    print("     " + " ".join(f"{b:>5}" for b in labels))
    for a, row in zip(labels, D, strict=True):
        print(f"{a:>4} " + " ".join(f"{v:5.2f}" for v in row))
    residuals = np.stack([subspaces[c].residual(X_test) for c in labels], axis=1)  # type: ignore[attr-defined]
    predicted = np.asarray(labels)[residuals.argmin(axis=1)]
    accuracy = float((predicted == y_test).mean())
    off = D[~np.eye(len(labels), dtype=bool)]
    i, j = np.unravel_index(np.where(np.eye(len(labels), dtype=bool), np.inf, D).argmin(), D.shape)
    print(
        f"\nClosest pair of classes: {labels[i]} and {labels[j]} ({D[i, j]:.2f} rad); "
        f"mean distance {off.mean():.2f} rad."
    )
    print(
        f"Nearest-subspace classifier on the {len(X_test)} held-out images: accuracy {accuracy:.3f}"
    )
    return {"distances": D, "accuracy": accuracy, "labels": labels}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="subspacekit",
        description="Find, measure, compare and act through subspaces of data and models.",
    )
    parser.add_argument("--version", action="version", version=f"subspacekit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="a small real analysis: principal angles between digit-class subspaces",
        description=run_demo.__doc__.split("\n\n")[0] if run_demo.__doc__ else None,
    )
    demo.add_argument(
        "--n-components", type=int, default=8, help="dimension of each class subspace"
    )
    demo.add_argument("--random-state", type=int, default=0)

    ana = sub.add_parser(
        "analyze",
        help="map a text model's subspaces layer by layer into an HTML report (the main job)",
        description="Capture every layer of a text model on labelled sentences and write a "
        "report: intrinsic dimension, spectrum and random-matrix edge, layer CKA, probe "
        "accuracy per attribute, angles between attribute subspaces and an erasure matrix. "
        "Without arguments: the packaged all-MiniLM-L6-v2 on the bundled probe corpus.",
    )
    ana.add_argument(
        "--model", help="local Hugging Face model directory (default: packaged MiniLM)"
    )
    ana.add_argument("--texts", help="text file, one input per line")
    ana.add_argument(
        "--labels", help="CSV with a header; one column per attribute, one row per text"
    )
    ana.add_argument("--layers", help="comma-separated hidden-state indices, e.g. 0,3,6")
    ana.add_argument("--out", default="subspacekit-report", help="output folder")
    ana.add_argument("--force", action="store_true", help="replace an existing output folder")
    ana.add_argument("--quick", action="store_true", help="small corpus, for a first look")
    ana.add_argument("--quiet", action="store_true", help="no progress bars")

    from subspacekit.commands import add_commands

    add_commands(sub)

    rep = sub.add_parser(
        "reproduce",
        help="run a registered paper claim and compare with the published figure",
        description="Run a paper claim implemented in subspacekit; prints published versus "
        "measured and pass/fail within the stated tolerance (exit status 1 on fail).",
    )
    rep.add_argument("claim_id", nargs="?", help="claim id (see --list)")
    rep.add_argument("--list", action="store_true", help="list the claims, one per line")
    rep.add_argument("--quick", action="store_true", help="the fast version (smaller data)")
    rep.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _run_analyze(args: argparse.Namespace) -> int:
    from pathlib import Path

    from subspacekit.analyze import analyze, read_texts_and_labels, write_report
    from subspacekit.errors import OverwriteError

    out = Path(args.out)
    if out.exists() and not args.force:
        raise OverwriteError(f"{out} exists; pass --force to replace it")
    if args.labels and not args.texts:
        raise SubspaceKitError("--labels needs --texts")
    texts = labels = names = None
    if args.texts:
        texts, labels, names = read_texts_and_labels(args.texts, args.labels)
    layers = None
    if args.layers:
        try:
            layers = [int(v) for v in args.layers.split(",") if v.strip()]
        except ValueError:
            raise SubspaceKitError(
                f"--layers must be comma-separated integers; got {args.layers!r}"
            ) from None
    result = analyze(
        args.model,
        texts,
        labels,
        label_names=names,
        layers=layers,
        quick=args.quick,
        verbose=not args.quiet,
    )
    path = write_report(result, out, overwrite=args.force)
    from subspacekit.analyze import _summary_lines

    for line in _summary_lines(result):
        print(f"- {line}")
    print(f"report written to {path / 'report.html'}")
    return 0


def _run_reproduce(args: argparse.Namespace) -> int:
    import json

    from subspacekit.reproduce import list_claims, run_claim

    if args.list:
        for claim in list_claims():
            print(claim.one_line())
        return 0
    if not args.claim_id:
        raise SubspaceKitError("give a claim id or --list")
    result = run_claim(args.claim_id, quick=args.quick)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        status = "PASS" if result["passed"] else "FAIL"
        print(f"{result['id']}: {result['paper']}")
        print(f"  claim:     {result['claim']}")
        print(f"  published: {result['published']}")
        print(f"  measured:  {result['measured']}")
        if "tolerance" in result:
            print(f"  tolerance: {result['tolerance']}")
        print(f"  {status} in {result['seconds']} s{' (quick)' if args.quick else ''}")
    return 0 if result["passed"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``subspacekit`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "demo":
            if args.n_components < 1 or args.n_components > 64:
                raise SubspaceKitError(f"--n-components must be in 1..64; got {args.n_components}")
            run_demo(args.n_components, args.random_state)
        elif args.command in ("id", "mi", "compare", "cluster", "detect"):
            from subspacekit.commands import run_command

            return run_command(args)
        elif args.command == "analyze":
            return _run_analyze(args)
        elif args.command == "reproduce":
            return _run_reproduce(args)
        return 0
    except (SubspaceKitError, OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"subspacekit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
