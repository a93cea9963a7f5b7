"""The main job end to end: `subspacekit analyze --quick` writes a report that opens cleanly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from subspacekit.cli import main

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

# Injected into a copy of the report: on load, record in the title how many images
# decoded and whether any script error fired. The report itself carries no script.
CHECK_SCRIPT = """<script>
var errors = 0;
window.addEventListener('error', function () { errors += 1; }, true);
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.title = 'CHECK images=' + imgs.length + ' loaded=' + ok + ' errors=' + errors;
});
</script>"""


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("analyze") / "report"
    assert main(["analyze", "--quick", "--quiet", "--out", str(out)]) == 0
    return out


def test_report_files_and_numbers(report_dir):
    files = {p.name for p in report_dir.iterdir()}
    assert {
        "report.html",
        "report.json",
        "dimension_spectrum.png",
        "cka.png",
        "probes.png",
        "attributes.png",
    } <= files
    data = json.loads((report_dir / "report.json").read_text())
    layers = data["layers"]
    assert len(layers) == 7  # embeddings + 6 transformer layers of MiniLM
    cka = np.array(data["cka"])
    assert np.allclose(cka, cka.T) and np.allclose(np.diag(cka), 1.0)
    for g in data["geometry"]:
        low, high = g["twonn_ci"]
        assert 1.0 < low <= g["twonn"] <= high < g["n_features"]
    # Every attribute of the bundled corpus is decodable well above chance somewhere.
    for attribute, acc in data["probe_accuracy"].items():
        assert max(acc) > data["chance"][attribute] + 0.2, attribute
    # LEACE erasure removes each attribute's own linear signal (near chance) ...
    names = data["erasure"]["erased"]
    M = np.array(data["erasure"]["accuracy"])
    chance = np.array([data["chance"][a] for a in names])
    assert np.all(np.diag(M) < chance + 0.1)
    html = (report_dir / "report.html").read_text()
    assert "Subspace map of" in html and html.count("data:image/png;base64,") == 4


def test_report_opens_in_headless_chromium(report_dir, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    page = tmp_path / "check.html"
    page.write_text(
        (report_dir / "report.html").read_text().replace("</body>", CHECK_SCRIPT + "</body>")
    )
    profile = tmp_path / "profile"
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run(
        [
            *common,
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "CHECK images=4 loaded=4 errors=0" in dom.stdout
    console_errors = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "error" in line.lower())
    ]
    assert not console_errors, console_errors
    shot = tmp_path / "screenshot.png"
    subprocess.run(
        [
            *common,
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            (report_dir / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000
    keep = Path(__file__).resolve().parents[1] / "out"
    keep.mkdir(exist_ok=True)
    shutil.copy(shot, keep / "report-screenshot.png")


def test_existing_out_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "exists"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["analyze", "--quick", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    texts = tmp_path / "t.txt"
    texts.write_text("\n".join(f"sentence number {i}" for i in range(30)))
    labels = tmp_path / "l.csv"
    labels.write_text("a\n" + "\n".join(str(i % 2) for i in range(29)))
    cases = [
        ["analyze", "--texts", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o1")],
        ["analyze", "--texts", str(texts), "--labels", str(labels), "--out", str(tmp_path / "o2")],
        ["analyze", "--layers", "x,y", "--out", str(tmp_path / "o3")],
    ]
    for argv in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("subspacekit: error:") and err.count("\n") == 1, err
    main(cases[1])
    assert "29 label rows but" in capsys.readouterr().err


def test_module_runs_as_script():
    out = subprocess.run(
        [sys.executable, "-m", "subspacekit.cli", "analyze", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--labels" in out.stdout and "--force" in out.stdout
