"""The command line: version, help, the demo analysis and error handling."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from subspacekit import __version__
from subspacekit.cli import main, run_demo


def test_version_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "subspacekit.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"subspacekit {__version__}"
    out = subprocess.run(
        [sys.executable, "-m", "subspacekit.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "demo" in out.stdout and "usage: subspacekit" in out.stdout


def test_demo_is_a_real_analysis(capsys):
    result = run_demo(n_components=8)
    text = capsys.readouterr().out
    assert "Principal angles" in text and "3 vs 8" in text
    D = result["distances"]
    # A distance matrix: zero diagonal, symmetric, positive off the diagonal.
    assert abs(D.diagonal()).max() < 1e-7
    off_diagonal = D[~np.eye(len(D), dtype=bool)]
    assert abs(D - D.T).max() < 1e-10 and off_diagonal.min() > 0.5
    # Class subspaces separate digits: nearest-subspace accuracy is far above chance.
    assert result["accuracy"] > 0.95


def test_bad_option_is_one_line_error(capsys):
    assert main(["demo", "--n-components", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("subspacekit: error:") and err.count("\n") == 1
