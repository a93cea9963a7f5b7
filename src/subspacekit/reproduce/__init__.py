"""Paper claims implemented in subspacekit, each runnable with ``subspacekit reproduce``.

A claim names the paper, what it states, the published figure and the tolerance
within which our measurement must land. Its runner is a function
``reproduce_<name>(quick: bool) -> dict`` in a module of this package that returns at
least ``published``, ``measured``, ``passed`` and ``tolerance`` (and usually
``details``). Runners are imported only when run, so listing claims is instant and
needs no optional dependency.

Examples
--------
>>> ids = [claim.id for claim in list_claims()]
>>> len(ids) == len(set(ids))
True
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any

from subspacekit.errors import ValidationError

__all__ = ["CLAIMS", "Claim", "get_claim", "list_claims", "run_claim"]


@dataclass(frozen=True)
class Claim:
    """One reproducible claim of a paper (or of a classical method on a benchmark)."""

    id: str
    paper: str
    claim: str
    published: str
    runner: str  # "module:function" inside subspacekit.reproduce
    needs: str = ""  # optional extra the runner needs, e.g. "torch"
    #: Why the claim is not (yet) reproduced here; empty when our figure reaches the paper's.
    not_reproduced: str = ""

    def one_line(self) -> str:
        """``id  paper — claim (published: ...)`` on one line."""
        status = f" [NOT REPRODUCED: {self.not_reproduced}]" if self.not_reproduced else ""
        return f"{self.id}\t{self.paper} — {self.claim} (published: {self.published}){status}"


CLAIMS: list[Claim] = []


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (ids must be unique)."""
    if any(c.id == claim.id for c in CLAIMS):
        raise ValidationError(f"duplicate claim id {claim.id!r}")
    CLAIMS.append(claim)
    return claim


def list_claims() -> list[Claim]:
    """All registered claims, in registration order."""
    from subspacekit.reproduce import registry  # noqa: F401  (fills CLAIMS)

    return list(CLAIMS)


def get_claim(claim_id: str) -> Claim:
    """The claim with this id; the error lists the known ids."""
    claims = {c.id: c for c in list_claims()}
    if claim_id not in claims:
        import difflib

        close = difflib.get_close_matches(claim_id, list(claims), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(
            f"unknown claim {claim_id!r}{hint} (see 'subspacekit reproduce --list')"
        )
    return claims[claim_id]


def run_claim(claim_id: str, quick: bool = False) -> dict[str, Any]:
    """Run a claim and return its result dictionary (with ``id`` and ``seconds`` added)."""
    claim = get_claim(claim_id)
    module_name, func_name = claim.runner.split(":")
    module = importlib.import_module(f"subspacekit.reproduce.{module_name}")
    start = time.perf_counter()
    result = dict(getattr(module, func_name)(quick=quick))
    result.setdefault("published", claim.published)
    result["id"] = claim.id
    result["paper"] = claim.paper
    result["claim"] = claim.claim
    result["quick"] = quick
    result["seconds"] = round(time.perf_counter() - start, 2)
    missing = {"measured", "passed"} - set(result)
    if missing:
        raise RuntimeError(f"runner {claim.runner} returned no {sorted(missing)}")
    return result
