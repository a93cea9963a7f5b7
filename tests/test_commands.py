"""Thin CLI commands on users' own arrays: planted answers and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from subspacekit.cli import main


def run_json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_id_recovers_planted_dimension(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5)) @ rng.standard_normal((5, 20))
    np.save(tmp_path / "x.npy", X)
    out = run_json(capsys, ["id", str(tmp_path / "x.npy")])
    assert abs(out["value"] - 5) < 0.6
    assert out["ci"][0] < out["value"] < out["ci"][1]


def test_mi_on_correlated_gaussians(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(3000)
    y = 0.9 * x + np.sqrt(1 - 0.81) * rng.standard_normal(3000)
    np.savetxt(tmp_path / "x.csv", x[:, None], delimiter=",", header="x", comments="")
    np.save(tmp_path / "y.npy", y)
    out = run_json(capsys, ["mi", str(tmp_path / "x.csv"), str(tmp_path / "y.npy")])
    assert abs(out["value"] - (-0.5 * np.log(1 - 0.81))) < 0.05


def test_compare_is_rotation_invariant(tmp_path, capsys):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 12))
    Q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    np.savez(tmp_path / "pair.npz", a=X)
    np.save(tmp_path / "y.npy", X @ Q)
    assert (
        main(
            [
                "compare",
                str(tmp_path / "pair.npz"),
                str(tmp_path / "y.npy"),
                "--json",
                "--measures",
                "cka,angles",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["cka"] == pytest.approx(1.0, abs=1e-10)
    assert max(out["angles"]) < 1e-4


def test_detect_flags_planted_outliers(tmp_path, capsys):
    rng = np.random.default_rng(3)
    basis = rng.standard_normal((3, 10))
    train = rng.standard_normal((1000, 3)) @ basis + 0.05 * rng.standard_normal((1000, 10))
    test = rng.standard_normal((50, 3)) @ basis + 0.05 * rng.standard_normal((50, 10))
    test[:5] += 3.0 * rng.standard_normal((5, 10))
    np.save(tmp_path / "train.npy", train)
    np.save(tmp_path / "test.npy", test)
    out = run_json(capsys, ["detect", str(tmp_path / "train.npy"), str(tmp_path / "test.npy")])
    flagged = np.array(out["flagged"])
    assert flagged[:5].all() and flagged[5:].sum() <= 2


def test_bad_files_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("1,2\n3,x\n")
    np.savez(tmp_path / "two.npz", a=np.ones((3, 2)), b=np.ones((3, 2)))
    np.save(tmp_path / "a.npy", np.ones((10, 2)))
    np.save(tmp_path / "b.npy", np.ones((11, 2)))
    cases = {
        ("id", str(tmp_path / "missing.npy")): "file not found",
        ("id", str(tmp_path / "bad.csv")): "could not read",
        ("id", str(tmp_path / "two.npz")): "--key",
        ("mi", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")): "must match",
    }
    for argv, expected in cases.items():
        assert main(list(argv)) == 2
        err = capsys.readouterr().err
        assert err.startswith("subspacekit: error:") and err.count("\n") == 1
        assert expected in err, err


def test_cluster_recovers_planted_subspaces(tmp_path, capsys):
    from subspacekit.data.synthetic import union_of_subspaces

    X, labels, _ = union_of_subspaces(3, 4, 30, 40, random_state=0)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", labels)
    out_file = tmp_path / "labels.npy"
    out = run_json(
        capsys,
        [
            "cluster",
            str(tmp_path / "x.npy"),
            "--n-clusters",
            "3",
            "--y",
            str(tmp_path / "y.npy"),
            "--out",
            str(out_file),
        ],
    )
    assert out["scores"]["acc"] == pytest.approx(1.0)
    assert np.array_equal(np.load(out_file), np.array(out["labels"]))
    # The labels file is not replaced without --force.
    assert (
        main(["cluster", str(tmp_path / "x.npy"), "--n-clusters", "3", "--out", str(out_file)]) == 2
    )
    assert "overwrite" in capsys.readouterr().err
