"""Shared fixtures: the shared data folder and fixed thread counts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _data_root() -> Path:
    env = os.environ.get("SUBSPACEKIT_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The shared benchmark data folder (``SUBSPACEKIT_DATA`` or ``../shared/data``)."""
    root = _data_root()
    if not root.is_dir():
        pytest.fail(f"shared data folder not found at {root}; set SUBSPACEKIT_DATA")
    return root


@pytest.fixture(autouse=True, scope="session")
def _fixed_threads() -> None:
    # Two shared cores: fix torch's thread count so timings and results are repeatable.
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(2)
