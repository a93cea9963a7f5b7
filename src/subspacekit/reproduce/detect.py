"""Reproductions for :mod:`subspacekit.detect`: SubspaceAD (tabular and few-shot images), EigenShield.

* :func:`reproduce_subspacead_odds`: ROC-AUC on every ODDS set with PyOD's 2019 benchmark
  protocol (60 % train / 40 % test, features standardised on the training part, mean
  over 10 random splits), next to PyOD's published PCA and IsolationForest numbers.
* :func:`reproduce_subspacead_fewshot`: one-class MNIST with 1, 5 and 10 normal shots
  (image ROC-AUC) and synthetic local defects (pixel ROC-AUC), with the built-in offline
  patch extractor standing in for DINOv2.
* :func:`reproduce_eigenshield`: planted spikes found exactly, and an MLP on MNIST
  attacked with L-inf PGD, defended by filtering its inputs or hidden features.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from subspacekit.core.backend import import_optional
from subspacekit.data import list_odds, load
from subspacekit.detect import EigenShield, PatchSubspaceAD, SubspaceAD, aggregate_map

__all__ = [
    "ADBENCH_IFOREST",
    "ADBENCH_PCA",
    "PYOD_2019_IFOREST",
    "PYOD_2019_PCA",
    "add_local_defects",
    "fewshot_mnist",
    "odds_roc_auc",
    "reproduce_eigenshield",
    "reproduce_subspacead_fewshot",
    "reproduce_subspacead_odds",
]

# Published ROC-AUC (the ODDS README of the shared data: PyOD's 2019 benchmark table,
# docs/tables/roc.csv, mean of 10 random 60/40 splits, standardised; and ADBench).
PYOD_2019_PCA = {
    "arrhythmia": 0.7815, "cardio": 0.9504, "glass": 0.6747, "ionosphere": 0.7962,
    "letter": 0.5283, "lympho": 0.9847, "mnist": 0.8527, "musk": 1.0000,
    "optdigits": 0.5086, "pendigits": 0.9352, "pima": 0.6481, "satimage-2": 0.9822,
    "shuttle": 0.9898, "vertebral": 0.4027, "vowels": 0.6027, "wbc": 0.9159,
}  # fmt: skip
PYOD_2019_IFOREST = {
    "arrhythmia": 0.8005, "cardio": 0.9213, "glass": 0.7569, "ionosphere": 0.8499,
    "letter": 0.6420, "lympho": 0.9941, "mnist": 0.8159, "musk": 0.9999,
    "optdigits": 0.7253, "pendigits": 0.9435, "pima": 0.6806, "satimage-2": 0.9947,
    "shuttle": 0.9971, "vertebral": 0.3905, "vowels": 0.7585, "wbc": 0.9310,
}  # fmt: skip
ADBENCH_PCA = {
    "annthyroid": 0.6625, "breastw": 0.9513, "cardio": 0.9555, "letter": 0.5029,
    "lympho": 0.9982, "mammography": 0.8872, "mnist": 0.8529, "musk": 1.0,
    "optdigits": 0.5165, "pendigits": 0.9373, "pima": 0.7077, "satimage-2": 0.9762,
    "shuttle": 0.9862, "thyroid": 0.9634, "vertebral": 0.3706, "vowels": 0.6529,
}  # fmt: skip
ADBENCH_IFOREST = {
    "annthyroid": 0.8201, "breastw": 0.9832, "cardio": 0.9319, "letter": 0.6107,
    "lympho": 0.9981, "mammography": 0.8639, "mnist": 0.8098, "musk": 0.9999,
    "optdigits": 0.7092, "pendigits": 0.9476, "pima": 0.7287, "satimage-2": 0.9916,
    "shuttle": 0.9956, "thyroid": 0.983, "vertebral": 0.3666, "vowels": 0.7394,
}  # fmt: skip

FitScore = Callable[[np.ndarray, np.ndarray], np.ndarray]


def subspacead_scorer(**params: Any) -> FitScore:
    """``(X_train, X_test) -> anomaly scores`` (higher = more anomalous) for SubspaceAD."""

    def fit_score(X_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
        return -SubspaceAD(**params).fit(X_train).score_samples(X_test)

    return fit_score


def odds_roc_auc(
    scorers: dict[str, FitScore],
    names: Sequence[str] | None = None,
    *,
    n_splits: int = 10,
    test_size: float = 0.4,
    standardize: bool = True,
    random_state: int = 0,
    root: Any = None,
) -> dict[str, dict[str, float]]:
    """Mean test ROC-AUC of each scorer on ODDS sets, PyOD's 2019 benchmark protocol.

    Each set is split ``n_splits`` times (seeds ``random_state + i``) into train and test
    parts; features are standardised with the training part's mean and standard
    deviation when ``standardize``; each scorer is fitted on the (unlabelled,
    contaminated) training part and scores the test part.

    Returns ``{set: {scorer: mean ROC-AUC}}``.
    """
    names = list_odds() if names is None else list(names)
    table: dict[str, dict[str, float]] = {}
    for name in names:
        bunch = load(f"odds/{name}", root)
        X, y = bunch.data, bunch.target
        aucs: dict[str, list[float]] = {key: [] for key in scorers}
        for i in range(n_splits):
            X_train, X_test, _, y_test = train_test_split(
                X, y, test_size=test_size, random_state=random_state + i, stratify=None
            )
            if standardize:
                mean = X_train.mean(axis=0)
                sd = X_train.std(axis=0)
                sd[sd == 0] = 1.0
                X_train, X_test = (X_train - mean) / sd, (X_test - mean) / sd
            for key, fit_score in scorers.items():
                scores = np.nan_to_num(
                    fit_score(X_train, X_test), nan=0.0, posinf=np.finfo(float).max
                )
                aucs[key].append(roc_auc_score(y_test, scores))
        table[name] = {key: float(np.mean(v)) for key, v in aucs.items()}
    return table


def _format_odds(table: dict[str, dict[str, float]]) -> str:
    keys = list(next(iter(table.values())))
    lines = [
        "set".ljust(12)
        + "".join(k.rjust(16) for k in keys)
        + "  PyOD19-PCA  PyOD19-IF  ADB-PCA  ADB-IF"
    ]
    for name, row in table.items():
        refs = [PYOD_2019_PCA, PYOD_2019_IFOREST, ADBENCH_PCA, ADBENCH_IFOREST]
        ref_text = "".join(f"{r[name]:10.4f}" if name in r else "         -" for r in refs)
        lines.append(name.ljust(12) + "".join(f"{row[k]:16.4f}" for k in keys) + ref_text)
    return "\n".join(lines)


def reproduce_subspacead_odds(quick: bool = True) -> dict[str, Any]:
    """SubspaceAD on every ODDS set: mean ROC-AUC at least PyOD PCA's published mean.

    The default detector (99 % explained variance, Fisher-combined SPE and T^2) is the
    claim; the paper's SPE-only score and T^2-only are reported alongside. ``quick``
    uses 3 splits instead of 10.
    """
    start = time.perf_counter()
    scorers = {
        "combined": subspacead_scorer(),
        "spe": subspacead_scorer(statistic="spe"),
        "t2": subspacead_scorer(statistic="t2"),
    }
    table = odds_roc_auc(scorers, n_splits=3 if quick else 10)
    common = sorted(PYOD_2019_PCA)
    measured = float(np.mean([table[s]["combined"] for s in common]))
    published = float(np.mean([PYOD_2019_PCA[s] for s in common]))
    return {
        "published": {"PyOD-2019 PCA mean ROC-AUC (16 sets)": round(published, 4)},
        "measured": {
            "SubspaceAD combined mean ROC-AUC (same 16 sets)": round(measured, 4),
            "all 20 sets, combined / spe / t2": [
                round(float(np.mean([row[k] for row in table.values()])), 4)
                for k in ("combined", "spe", "t2")
            ],
        },
        "passed": bool(measured >= published),
        "tolerance": "measured >= published (no tolerance)",
        "details": {
            "table": table,
            "text": _format_odds(table),
            "seconds": round(time.perf_counter() - start, 1),
        },
    }


# --------------------------------------------------------------------------- few-shot images
def add_local_defects(
    images: np.ndarray, size: int = 6, random_state: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Paste one local defect into each image; return (defective images, boolean masks).

    Half the images get a bright ``size x size`` blob (a Gaussian bump of peak 1)
    centred on a random pixel within 4 pixels of the ink; the other half get a
    ``size x size`` square of the ink erased, centred on a random inked pixel. The mask
    marks the pixels the defect changed by more than 0.1.
    """
    rng = np.random.default_rng(random_state)
    out = np.array(images, dtype=np.float64, copy=True)
    masks = np.zeros(out.shape, dtype=bool)
    n, height, width = out.shape
    r = np.arange(size) - (size - 1) / 2.0
    bump = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * (size / 4.0) ** 2))
    for i in range(n):
        ink = np.argwhere(out[i] > 0.5)
        cy, cx = ink[rng.integers(len(ink))] if len(ink) else (height // 2, width // 2)
        if i % 2 == 0:
            cy = int(np.clip(cy + rng.integers(-4, 5), size // 2, height - size // 2 - 1))
            cx = int(np.clip(cx + rng.integers(-4, 5), size // 2, width - size // 2 - 1))
        y0, x0 = max(0, cy - size // 2), max(0, cx - size // 2)
        window = (slice(y0, min(height, y0 + size)), slice(x0, min(width, x0 + size)))
        before = out[i][window].copy()
        if i % 2 == 0:
            patch = bump[: before.shape[0], : before.shape[1]]
            out[i][window] = np.maximum(before, patch)
        else:
            out[i][window] = 0.0
        masks[i][window] = np.abs(out[i][window] - before) > 0.1
    return out, masks


def fewshot_mnist(
    shots: Sequence[int] = (1, 5, 10),
    digits: Sequence[int] = tuple(range(10)),
    *,
    n_test: int = 2000,
    n_defect: int = 200,
    n_rotations: Sequence[int] = (0,),
    seeds: Sequence[int] = (0,),
    detector_params: dict[str, Any] | None = None,
    root: Any = None,
) -> dict[str, Any]:
    """One-class MNIST few-shot image ROC-AUC, plus local defects (pixel ROC-AUC).

    For each seed, digit (the normal class) and shot count, ``shots`` normal images are
    drawn from the MNIST test split and the detector is fitted on them (with
    ``n_rotations`` augmentations). Image ROC-AUC: ``n_test`` other test images (all
    classes; normal = the digit). Defects: ``n_defect`` held-out images of the digit,
    scored clean and with a
    pasted defect (:func:`add_local_defects`): pixel ROC-AUC over the defective images
    and image ROC-AUC of top-1 % versus max aggregation (clean versus defective).
    """
    bunch = load("mnist_test", root)
    images = bunch.data.reshape(-1, *bunch.image_shape)
    labels = bunch.target
    params = dict(detector_params or {})
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        test_idx = rng.choice(len(images), n_test, replace=False)
        for digit in digits:
            pool = np.setdiff1d(np.flatnonzero(labels == digit), test_idx)
            pool = rng.permutation(pool)
            held_out = pool[-min(n_defect, len(pool) // 4) :]
            for n_shots in shots:
                shot_idx = pool[:n_shots]
                for n_rot in n_rotations:
                    det = PatchSubspaceAD(n_rotations=n_rot, random_state=seed, **params)
                    det.fit(images[shot_idx])
                    maps = det.anomaly_maps(images[test_idx])
                    anomalous = labels[test_idx] != digit
                    clean = images[held_out]
                    defective, masks = add_local_defects(clean, random_state=seed)
                    maps_clean = det.anomaly_maps(clean)
                    maps_defect = det.anomaly_maps(defective)
                    both = np.concatenate([maps_clean, maps_defect])
                    is_defect = np.r_[np.zeros(len(clean)), np.ones(len(clean))]
                    rows.append({
                        "seed": seed, "digit": int(digit), "shots": int(n_shots),
                        "n_rotations": int(n_rot),
                        "image_auc": roc_auc_score(anomalous, aggregate_map(maps)),
                        "image_auc_max": roc_auc_score(anomalous, aggregate_map(maps, "max")),
                        "pixel_auc": roc_auc_score(masks.ravel(), maps_defect.ravel()),
                        "defect_image_auc": roc_auc_score(is_defect, aggregate_map(both)),
                        "defect_image_auc_max": roc_auc_score(is_defect, aggregate_map(both, "max")),
                    })  # fmt: skip
    summary: dict[str, dict[str, float]] = {}
    for n_shots in shots:
        for n_rot in n_rotations:
            sel = [r for r in rows if r["shots"] == n_shots and r["n_rotations"] == n_rot]
            summary[f"{n_shots}-shot, {n_rot} rotations"] = {
                key: round(float(np.mean([r[key] for r in sel])), 4)
                for key in ("image_auc", "image_auc_max", "pixel_auc", "defect_image_auc",
                            "defect_image_auc_max")
            }  # fmt: skip
    return {"summary": summary, "rows": rows}


def reproduce_subspacead_fewshot(quick: bool = True) -> dict[str, Any]:
    """Few-shot SubspaceAD on MNIST with the offline extractor (DINOv2 is not available).

    Checks the spec's qualitative claim that top-1 % aggregation is at least as good as
    the max on local defects, and reports one-class image ROC-AUC for 1, 5 and 10 shots
    and the effect of the paper's 30 rotations at 1 shot. No published MNIST number
    exists; the paper's MVTec-AD figures (image 97.1, pixel 97.5 at 1 shot) need DINOv2.
    """
    start = time.perf_counter()
    if quick:
        result = fewshot_mnist(shots=(1, 5), digits=(0, 1, 7), n_test=300, n_rotations=(0,))
    else:
        result = fewshot_mnist(shots=(1, 5, 10), n_test=2000, n_rotations=(0,))
        rotation = fewshot_mnist(shots=(1,), n_test=2000, n_rotations=(30,))
        result["summary"].update(rotation["summary"])
    summary = result["summary"]
    top_vs_max = [v["defect_image_auc"] - v["defect_image_auc_max"] for v in summary.values()]
    return {
        "published": {
            "MVTec-AD 1-shot image / pixel AUROC (DINOv2-giant)": [97.1, 97.5],
            "claim checked": "top-1% mean >= max aggregation on local defects",
        },
        "measured": summary,
        "passed": bool(min(top_vs_max) >= 0.0),
        "tolerance": "top-1% image ROC-AUC on defects >= max aggregation's",
        "details": {"seconds": round(time.perf_counter() - start, 1)},
    }


# --------------------------------------------------------------------------- EigenShield
def planted_spike_recovery(
    n_seeds: int = 100,
    n_samples: int = 1000,
    n_features: int = 200,
    strengths: Sequence[float] = (2.0, 4.0, 6.0, 8.0, 10.0),
) -> dict[str, float]:
    """Fraction of seeds where EigenShield finds exactly the planted spikes (and no spike in noise).

    Spiked Wishart: covariance ``I + sum_j s_j u_j u_j^T`` with random orthonormal
    ``u_j``; a spike strength ``s`` (in units of the noise variance) is detectable when
    ``s > sqrt(d / n)`` (the BBP threshold, 0.45 here).
    """
    exact = 0
    false = 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        basis = np.linalg.qr(rng.standard_normal((n_features, len(strengths))))[0]
        signal = rng.standard_normal((n_samples, len(strengths))) * np.sqrt(strengths) @ basis.T
        X = signal + rng.standard_normal((n_samples, n_features))
        found = EigenShield(quantile=1.0, random_state=seed).fit(X).n_spikes_
        exact += found == len(strengths)
        noise = rng.standard_normal((n_samples, n_features))
        false += EigenShield(quantile=1.0, random_state=seed).fit(noise).n_spikes_ > 0
    return {"exact_rate": exact / n_seeds, "false_spike_rate": false / n_seeds}


def _mlp(torch: Any, seed: int) -> Any:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )  # fmt: skip


def _train_mlp(torch: Any, X: Any, y: Any, epochs: int, seed: int) -> Any:
    model = _mlp(torch, seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), 128):
            batch = order[start : start + 128]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
            optimizer.step()
    return model.eval()


def pgd_linf(
    torch: Any, model: Any, X: Any, y: Any, eps: float = 0.1, steps: int = 20, seed: int = 0
) -> Any:
    """L-inf PGD (random start, step 2.5 eps / steps, pixels clipped to [0, 1])."""
    step = 2.5 * eps / steps
    generator = torch.Generator().manual_seed(seed)
    adv = (X + (torch.rand(X.shape, generator=generator) * 2 - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(adv), y)
        (grad,) = torch.autograd.grad(loss, adv)
        adv = torch.min(torch.max(adv.detach() + step * grad.sign(), X - eps), X + eps).clamp(0, 1)
    return adv.detach()


def _pca_filter(torch: Any, X: np.ndarray, k: int) -> Any:
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    shield = EigenShield()
    shield.mean_, shield.scale_ = mean, np.ones(X.shape[1])
    shield.components_ = np.ascontiguousarray(vt[:k])
    shield.n_features_in_ = X.shape[1]
    return shield.as_module()


def mnist_pgd_defence(
    *,
    n_train: int = 8000,
    n_test: int = 2000,
    epochs: int = 15,
    eps: float = 0.1,
    steps: int = 20,
    quantiles: Sequence[float] = (0.5, 0.2, 0.1),
    n_calibration: int = 2000,
    sites: Sequence[str] = ("input", "hidden"),
    perturbations: Sequence[str] = ("noise", "attack"),
    adaptive: bool = True,
    seed: int = 0,
    root: Any = None,
    torch_threads: int = 1,
) -> dict[str, Any]:
    """MLP on MNIST (test split: ``n_train`` / ``n_test``), L-inf PGD, EigenShield filters.

    Sites: the input pixels and the last hidden layer (128 units). EigenShield is
    calibrated on ``n_calibration`` training images with one of two perturbations pi:
    ``"noise"``, Gaussian noise at the bulk noise level (attack-agnostic), or
    ``"attack"``, PGD examples of the calibration images crafted against the
    undefended model. A PCA filter with the same number of directions is the baseline.
    Non-adaptive: test attacks crafted against the undefended model. Adaptive: PGD
    through the filtered model. The small MLP runs on ``torch_threads`` threads (one is
    fastest on a shared 2-core machine, where two spinning threads slow it 6 times).
    """
    torch = import_optional("torch", "torch")
    with _torch_threads(torch, torch_threads):
        return _mnist_pgd_defence(
            torch, n_train, n_test, epochs, eps, steps, quantiles, n_calibration, sites,
            perturbations, adaptive, seed, root,
        )  # fmt: skip


def _mnist_pgd_defence(
    torch: Any,
    n_train: int,
    n_test: int,
    epochs: int,
    eps: float,
    steps: int,
    quantiles: Sequence[float],
    n_calibration: int,
    sites: Sequence[str],
    perturbations: Sequence[str],
    adaptive: bool,
    seed: int,
    root: Any,
) -> dict[str, Any]:
    bunch = load("mnist_test", root)
    X = bunch.data.astype(np.float32)
    y = bunch.target
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = order[:n_train], order[n_train : n_train + n_test]
    Xtr, ytr = torch.from_numpy(X[train]), torch.from_numpy(y[train])
    Xte, yte = torch.from_numpy(X[test]), torch.from_numpy(y[test])
    model = _train_mlp(torch, Xtr, ytr, epochs, seed)

    def accuracy(net: Any, inputs: Any) -> float:
        with torch.no_grad():
            return round(float((net(inputs).argmax(1) == yte).float().mean()), 4)

    attack = pgd_linf(torch, model, Xte, yte, eps, steps, seed + 1)
    cal = Xtr[:n_calibration]
    cal_attack = (
        pgd_linf(torch, model, cal, ytr[:n_calibration], eps, steps, seed + 2)
        if "attack" in perturbations else None
    )  # fmt: skip
    rows: dict[str, dict[str, Any]] = {
        "none": {"k": 784, "clean": accuracy(model, Xte), "robust": accuracy(model, attack)}
    }
    if adaptive:
        rows["none"]["robust_adaptive"] = rows["none"]["robust"]
    body, head = torch.nn.Sequential(*list(model)[:4]), model[4]
    with torch.no_grad():
        hidden_train = body(Xtr).numpy()
    for site in sites:
        if site == "input":
            calibration, attacked, full = cal.numpy(), cal_attack, X[train]
        else:
            with torch.no_grad():
                calibration = body(cal).numpy()
                attacked = None if cal_attack is None else body(cal_attack)
            full = hidden_train
        for q in quantiles:
            nets: dict[str, tuple[Any, int, int]] = {}
            for kind in perturbations:
                pi = None if kind == "noise" or attacked is None else attacked.numpy()
                shield = EigenShield(pi, quantile=q, random_state=seed).fit(calibration)
                nets[f"EigenShield({kind} pi)"] = (
                    shield.as_module(),
                    shield.n_causal_,
                    shield.n_spikes_,
                )
            k = next(iter(nets.values()))[1]
            nets["PCA same k"] = (_pca_filter(torch, full, k), k, 0)
            for name, (filter_module, k_used, n_spikes) in nets.items():
                net = (
                    torch.nn.Sequential(filter_module, model)
                    if site == "input"
                    else torch.nn.Sequential(body, filter_module, head)
                )
                row = {
                    "k": int(k_used),
                    "n_spikes": int(n_spikes),
                    "clean": accuracy(net, Xte),
                    "robust": accuracy(net, attack),
                }
                if adaptive:
                    adv = pgd_linf(torch, net, Xte, yte, eps, steps, seed + 3)
                    row["robust_adaptive"] = accuracy(net, adv)
                rows[f"{site} {name} q={q}"] = row
    return rows


def reproduce_eigenshield(quick: bool = True) -> dict[str, Any]:
    """EigenShield: exact spike recovery and the MNIST PGD defence.

    Spec: planted spikes found exactly in >= 95 % of seeds with < 5 % false spikes; the
    defence raises robust accuracy by >= 10 points with clean accuracy within 2 points
    (checked for at least one EigenShield setting) and at least matches PCA with the
    same k (reported). ``quick`` uses 20 seeds and a smaller MLP run.
    """
    start = time.perf_counter()
    spikes = planted_spike_recovery(n_seeds=20 if quick else 100)
    if quick:
        defence = mnist_pgd_defence(
            n_train=2000, n_test=400, epochs=6, steps=10, quantiles=(0.1,),
            n_calibration=1000, sites=("input",), perturbations=("noise",), adaptive=False,
        )  # fmt: skip
    else:
        defence = mnist_pgd_defence()
    none = defence["none"]
    shields = {k: v for k, v in defence.items() if "EigenShield" in k}
    meets = {
        k: v["robust"] - none["robust"] >= 0.10 and v["clean"] >= none["clean"] - 0.02
        for k, v in shields.items()
    }
    versus_pca = {
        k: v["robust"]
        >= defence[k.split(" EigenShield")[0] + " PCA same k q=" + k.split("q=")[1]]["robust"]
        for k, v in shields.items()
    }
    return {
        "published": {
            "spikes found exactly": ">= 0.95 of seeds", "false spikes": "< 0.05",
            "defence (spec, small CNN)": "robust +10 points, clean within 2 points, >= PCA",
        },
        "measured": {"spikes": spikes, "defence": defence,
                     "meets +10/-2 points": meets, "robust >= PCA same k": versus_pca},
        "passed": bool(
            spikes["exact_rate"] >= 0.95 and spikes["false_spike_rate"] < 0.05 and any(meets.values())
        ),
        "tolerance": "rates and points as stated in the spec",
        "details": {"seconds": round(time.perf_counter() - start, 1)},
    }  # fmt: skip


class _torch_threads:
    def __init__(self, torch: Any, n: int) -> None:
        self.torch, self.n = torch, n

    def __enter__(self) -> None:
        self.before = self.torch.get_num_threads()
        self.torch.set_num_threads(self.n)

    def __exit__(self, *exc: Any) -> None:
        self.torch.set_num_threads(self.before)
