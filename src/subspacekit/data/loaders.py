"""Loaders for the shared real benchmark data sets.

Every loader returns a :class:`sklearn.utils.Bunch` with at least ``data`` and
``target`` (``None`` for unlabelled text), ``adjacency`` (symmetric
``scipy.sparse.csr_matrix``) for graphs, and ``DESCR`` (the folder README when
present). Files are checked against SHA-256 digests shipped with the package before
they are parsed, and nothing is unpickled: the Planetoid graphs are read from their
``.npz`` conversions.

Where the data live
-------------------
``root`` argument, else the ``SUBSPACEKIT_DATA`` environment variable, else the first
existing of ``../shared/data`` relative to the current working directory and
``../shared/data`` relative to a source checkout of subspacekit.

Naming
------
Data sets are named by their folder. The 20 ODDS anomaly sets are named
``"odds/<set>"`` (for example ``load("odds/cardio")``); :func:`list_odds` lists them.

Examples
--------
>>> from subspacekit.data import list_datasets
>>> "cora" in list_datasets() and "odds/cardio" in list_datasets()
True
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse as sp
from sklearn.utils import Bunch

from subspacekit.data._registry import CHECKSUMS, ODDS_SETS, SOURCES
from subspacekit.errors import SubspaceKitError, ValidationError

__all__ = [
    "ChecksumError",
    "DataFileNotFoundError",
    "data_root",
    "list_datasets",
    "list_odds",
    "load",
    "sha256",
]

ENV_VAR = "SUBSPACEKIT_DATA"


class ChecksumError(ValidationError):
    """A data file's SHA-256 digest differs from the one shipped with subspacekit."""


class DataFileNotFoundError(SubspaceKitError, FileNotFoundError):
    """A data file (or the data folder) is missing; the message names its public source."""


def _candidate_roots() -> list[Path]:
    here = Path(__file__).resolve()
    # src/subspacekit/data/loaders.py -> parents[3] is the checkout root when run from source
    checkout = here.parents[3]
    return [Path.cwd().parent / "shared" / "data", checkout.parent / "shared" / "data"]


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the folder that holds the shared data sets.

    Parameters
    ----------
    root : path-like, optional
        Explicit folder. When ``None``, ``$SUBSPACEKIT_DATA`` is used, else
        ``../shared/data`` relative to the working directory, else relative to the
        source checkout.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataFileNotFoundError
        When no candidate folder exists.

    Examples
    --------
    >>> data_root().is_dir()
    True
    """
    if root is not None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise DataFileNotFoundError(f"data root {str(path)!r} (given as root=) is not a folder")
        return path
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataFileNotFoundError(
                f"data root {str(path)!r} (from ${ENV_VAR}) is not a folder"
            )
        return path
    candidates = _candidate_roots()
    for path in candidates:
        if path.is_dir():
            return path
    tried = ", ".join(repr(str(p)) for p in candidates)
    raise DataFileNotFoundError(
        f"no shared data folder found (tried {tried}); pass root= or set ${ENV_VAR}"
    )


def sha256(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 digest of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _file(root: Path, relpath: str, verify: bool) -> Path:
    """Path of a registered file, checked to exist and (optionally) to match its digest."""
    path = root / relpath
    folder = relpath.split("/")[0]
    if not path.is_file():
        raise DataFileNotFoundError(
            f"data file {relpath!r} is missing under {str(root)!r}; "
            f"its public source: {SOURCES.get(folder, 'see the folder README')}"
        )
    if verify:
        expected = CHECKSUMS[relpath]
        actual = sha256(path)
        if actual != expected:
            raise ChecksumError(
                f"checksum mismatch for {str(path)!r}: expected SHA-256 {expected}, got "
                f"{actual}; the file is corrupted or not the published version. Replace it "
                f"from {SOURCES.get(folder, 'its source')} (or pass verify=False at your own risk)"
            )
    return path


def _readme(root: Path, folder: str) -> str:
    readme = root / folder / "README.md"
    return readme.read_text(encoding="utf-8") if readme.is_file() else ""


def _csr_from_npz(z: Any, prefix: str) -> sp.csr_matrix:
    return sp.csr_matrix(
        (z[f"{prefix}_data"], z[f"{prefix}_indices"], z[f"{prefix}_indptr"]),
        shape=tuple(int(s) for s in z[f"{prefix}_shape"]),
    )


def _symmetric_binary(A: Any) -> sp.csr_matrix:
    A = sp.csr_matrix(A, dtype=np.float64)
    A = A.maximum(A.T).tocsr()
    A.data[:] = 1.0
    A.eliminate_zeros()
    A.sort_indices()
    return A


def _loadmat(path: Path) -> dict[str, Any]:
    return scipy.io.loadmat(str(path))


def _column_major_rows_to_row_major(X: np.ndarray, height: int, width: int) -> np.ndarray:
    """Reorder pixels of MATLAB column-major image rows so ``row.reshape(h, w)`` is upright."""
    n = X.shape[0]
    return np.ascontiguousarray(X.reshape(n, width, height).transpose(0, 2, 1).reshape(n, -1))


# ----------------------------------------------------------------------------- graphs
# Planetoid label order -> class name, matched by class size against the named classes of
# gnn-benchmark's cora.npz (the seven class sizes are all different, so the match is unique);
# tests/test_data_loaders.py checks this against cora.npz.
_CORA_PLANETOID_CLASSES = (
    "Theory",
    "Reinforcement_Learning",
    "Genetic_Algorithms",
    "Neural_Networks",
    "Probabilistic_Methods",
    "Case_Based",
    "Rule_Learning",
)


def _load_cora(root: Path, verify: bool, version: str = "planetoid") -> Bunch:
    if version == "planetoid":
        path = _file(root, "cora/cora_planetoid.npz", verify)
        with np.load(path, allow_pickle=False) as z:
            X = _csr_from_npz(z, "attr").astype(np.float64)
            A = _symmetric_binary(_csr_from_npz(z, "adj"))
            y = z["labels"].astype(np.int64)
            splits = {k: z[k].astype(np.int64) for k in ("idx_train", "idx_val", "idx_test")}
        names = np.array(_CORA_PLANETOID_CLASSES)
    elif version == "gnn-benchmark":
        path = _file(root, "cora/cora.npz", verify)
        with np.load(path, allow_pickle=False) as z:
            X = _csr_from_npz(z, "attr").astype(np.float64)
            # stored as directed citations; clustering methods expect an undirected graph
            A = _symmetric_binary(_csr_from_npz(z, "adj"))
            y = z["labels"].astype(np.int64)
            names = z["class_names"].astype(str)
            splits = {"node_names": z["node_names"].astype(str)}
    else:
        raise ValidationError(
            f"cora version must be 'planetoid' or 'gnn-benchmark'; got {version!r}"
        )
    return Bunch(
        data=X, target=y, adjacency=A, target_names=names, DESCR=_readme(root, "cora"), **splits
    )


def _load_pubmed_partial(root: Path, verify: bool) -> Bunch:
    path = _file(root, "pubmed_partial/pubmed_partial_planetoid.npz", verify)
    with np.load(path, allow_pickle=False) as z:
        A = _symmetric_binary(_csr_from_npz(z, "adj"))
        y = z["labels"].astype(np.int64)
        rows = z["feat_rows"].astype(np.int64)
        X_part = _csr_from_npz(z, "attr").astype(np.float64).tocoo()
        splits = {k: z[k].astype(np.int64) for k in ("idx_train", "idx_val", "idx_test")}
    n = y.shape[0]
    # one feature row per node so that data and adjacency line up; nodes without features
    # (all but 1,060) get an empty row, flagged by has_features
    X = sp.csr_matrix((X_part.data, (rows[X_part.row], X_part.col)), shape=(n, X_part.shape[1]))
    has_features = np.zeros(n, dtype=bool)
    has_features[rows] = True
    return Bunch(
        data=X,
        target=y,
        adjacency=A,
        has_features=has_features,
        feature_rows=rows,
        DESCR=_readme(root, "pubmed_partial"),
        **splits,
    )


def _load_mat_graph(root: Path, verify: bool, name: str) -> Bunch:
    m = _loadmat(_file(root, f"{name}/{name}.mat", verify))
    X = sp.csr_matrix(m["fea"], dtype=np.float64)
    # the published matrices carry self loops on (some) nodes; keep them as published and
    # only enforce symmetry and 0/1 weights
    A = _symmetric_binary(m["W"])
    y = np.asarray(m["gnd"]).ravel().astype(np.int64)
    y = y - y.min()
    return Bunch(data=X, target=y, adjacency=A, DESCR=_readme(root, name))


# ----------------------------------------------------------------------------- images
def _load_extended_yale_b(root: Path, verify: bool) -> Bunch:
    m = _loadmat(_file(root, "extended_yale_b/ExtendedYaleB.mat", verify))
    X = m["EYALEB_DATA"].T.astype(np.float64) / 255.0
    X = _column_major_rows_to_row_major(X, 48, 42)
    y = m["EYALEB_LABEL"].ravel().astype(np.int64) - 1
    return Bunch(data=X, target=y, image_shape=(48, 42), DESCR=_readme(root, "extended_yale_b"))


def _load_coil20(root: Path, verify: bool) -> Bunch:
    m = _loadmat(_file(root, "coil20/COIL20.mat", verify))
    X = _column_major_rows_to_row_major(np.asarray(m["fea"], dtype=np.float64), 32, 32)
    y = m["gnd"].ravel().astype(np.int64) - 1
    # rows are ordered by pose within each object: row i of a class is at 5*i degrees
    pose = np.concatenate([5.0 * np.arange(np.sum(y == c)) for c in np.unique(y)])
    return Bunch(
        data=X, target=y, pose_deg=pose, image_shape=(32, 32), DESCR=_readme(root, "coil20")
    )


def _load_usps(root: Path, verify: bool) -> Bunch:
    X = _loadmat(_file(root, "usps/usps_data.mat", verify))["usps_data"].T
    X = _column_major_rows_to_row_major(np.asarray(X, dtype=np.float64), 16, 16)
    y = _loadmat(_file(root, "usps/usps_label.mat", verify))["usps_label"].ravel()
    return Bunch(
        data=X, target=y.astype(np.int64), image_shape=(16, 16), DESCR=_readme(root, "usps")
    )


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[:4], "big")
    if magic != 0x0800 + ndim:
        raise ValidationError(
            f"{str(path)!r} is not an IDX file of {ndim} unsigned-byte dimensions "
            f"(magic {magic:#x}, expected {0x0800 + ndim:#x})"
        )
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _load_mnist_test(root: Path, verify: bool) -> Bunch:
    images = _read_idx(_file(root, "mnist_test/t10k-images-idx3-ubyte.gz", verify), 3)
    labels = _read_idx(_file(root, "mnist_test/t10k-labels-idx1-ubyte.gz", verify), 1)
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    return Bunch(
        data=X,
        target=labels.astype(np.int64),
        image_shape=(28, 28),
        DESCR=_readme(root, "mnist_test"),
    )


# ----------------------------------------------------------------------------- tabular
def _load_odds(root: Path, verify: bool, subset: str) -> Bunch:
    if subset not in ODDS_SETS:
        raise ValidationError(f"unknown ODDS set {subset!r}; expected one of {list(ODDS_SETS)}")
    m = _loadmat(_file(root, f"odds/{subset}.mat", verify))
    X = np.asarray(m["X"], dtype=np.float64)
    y = np.asarray(m["y"]).ravel().astype(np.int64)
    return Bunch(
        data=X, target=y, target_names=np.array(["inlier", "outlier"]), DESCR=_readme(root, "odds")
    )


# ----------------------------------------------------------------------------- text
def _load_tiny_shakespeare(root: Path, verify: bool) -> Bunch:
    text = _file(root, "tiny_shakespeare/input.txt", verify).read_text(encoding="utf-8")
    return Bunch(
        data=text, target=None, chars=sorted(set(text)), DESCR=_readme(root, "tiny_shakespeare")
    )


def _load_wikitext2(root: Path, verify: bool, split: str = "valid") -> Bunch:
    if split not in ("valid", "test"):
        raise ValidationError(
            f"wikitext2_valid_test split must be 'valid' or 'test'; got {split!r}"
        )
    text = _file(root, f"wikitext2_valid_test/{split}.txt", verify).read_text(encoding="utf-8")
    # the file ends with a newline; the README's line count excludes the empty tail
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return Bunch(data=lines, target=None, split=split, DESCR=_readme(root, "wikitext2_valid_test"))


_LOADERS: dict[str, Callable[..., Bunch]] = {
    "cora": _load_cora,
    "pubmed_partial": _load_pubmed_partial,
    "acm": lambda root, verify: _load_mat_graph(root, verify, "acm"),
    "wiki": lambda root, verify: _load_mat_graph(root, verify, "wiki"),
    "extended_yale_b": _load_extended_yale_b,
    "coil20": _load_coil20,
    "usps": _load_usps,
    "mnist_test": _load_mnist_test,
    "tiny_shakespeare": _load_tiny_shakespeare,
    "wikitext2_valid_test": _load_wikitext2,
}


def list_odds() -> list[str]:
    """Names of the ODDS anomaly-detection sets, for ``load("odds/<name>")``.

    Examples
    --------
    >>> len(list_odds()), list_odds()[:3]
    (20, ['annthyroid', 'arrhythmia', 'breastw'])
    """
    return list(ODDS_SETS)


def list_datasets() -> list[str]:
    """Every name :func:`load` accepts (ODDS sets as ``"odds/<name>"``).

    Examples
    --------
    >>> list_datasets()[:4]
    ['acm', 'coil20', 'cora', 'extended_yale_b']
    """
    return sorted([*_LOADERS, *(f"odds/{s}" for s in ODDS_SETS)])


def load(
    name: str, root: str | os.PathLike[str] | None = None, *, verify: bool = True, **options: Any
) -> Bunch:
    """Load a shared real data set as a scikit-learn ``Bunch``.

    Parameters
    ----------
    name : str
        Folder name (``"cora"``, ``"acm"``, ``"wiki"``, ``"pubmed_partial"``,
        ``"extended_yale_b"``, ``"coil20"``, ``"usps"``, ``"mnist_test"``,
        ``"tiny_shakespeare"``, ``"wikitext2_valid_test"``) or ``"odds/<set>"`` for one
        of the ODDS anomaly sets (see :func:`list_odds`).
    root : path-like, optional
        Data folder; see :func:`data_root` for the fallbacks.
    verify : bool, default True
        Check each file's SHA-256 digest before parsing it.
    **options
        ``version="planetoid" | "gnn-benchmark"`` for cora (default Planetoid: its label
        order, its 140/500/1000 split in ``idx_train``/``idx_val``/``idx_test``);
        ``split="valid" | "test"`` for wikitext2_valid_test.

    Returns
    -------
    sklearn.utils.Bunch
        ``data``: features, one sample per row (``scipy.sparse.csr_matrix`` float64 for
        graphs; dense float64 for images and tables; ``str`` for tiny_shakespeare; a list
        of lines for WikiText-2). ``target``: int64 labels from 0 (ODDS: 1 = outlier;
        ``None`` for text). Graphs also have ``adjacency`` (symmetric 0/1 CSR, with the
        self loops present in the published file). Images have ``image_shape`` ``(h, w)``
        and pixels in row-major order, so ``data[i].reshape(image_shape)`` is upright, with
        values in [0, 1]. ``DESCR`` is the folder README.

    Raises
    ------
    DataFileNotFoundError
        A file is missing (the message names the public source).
    ChecksumError
        A file's digest differs from the expected one.

    Examples
    --------
    >>> cora = load("cora")
    >>> cora.data.shape, cora.adjacency.shape, len(set(cora.target))
    ((2708, 1433), (2708, 2708), 7)
    >>> load("odds/cardio").data.shape
    (1831, 21)
    """
    base = data_root(root)
    if name.startswith("odds/") or name == "odds":
        subset = name[len("odds/") :] if name.startswith("odds/") else options.pop("subset", "")
        if options:
            raise ValidationError(f"unexpected options for odds: {sorted(options)}")
        return _load_odds(base, verify, subset)
    if name not in _LOADERS:
        raise ValidationError(f"unknown data set {name!r}; expected one of {list_datasets()}")
    try:
        return _LOADERS[name](base, verify, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise ValidationError(f"unexpected options for {name!r}: {sorted(options)}") from exc
        raise
