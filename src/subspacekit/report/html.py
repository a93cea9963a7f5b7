"""A small report builder: sections of text, tables and figures, written atomically.

The HTML file embeds every figure as a base64 PNG so it can be mailed or opened
offline as one file; the same PNGs are written beside it, and ``report.json`` holds
every number shown, so nothing in the report exists only as pixels.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from subspacekit.core.backend import import_optional
from subspacekit.errors import OverwriteError

__all__ = ["Report"]

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
 body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
        color: #1d1d1f; line-height: 1.45; }
 h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
 .summary { background: #f4f7fb; border-left: 4px solid #3b6ea5; padding: .6em 1em; }
 table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
 th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
 th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
 figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
 figcaption { font-size: .9em; color: #555; }
 .meta { color: #777; font-size: .85em; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="meta">{{ subtitle }}</p>
{% if summary %}<div class="summary" id="summary"><ul>
{% for line in summary %}<li>{{ line }}</li>
{% endfor %}</ul></div>{% endif %}
{% for section in sections %}
<h2 id="{{ section.slug }}">{{ section.title }}</h2>
{% for block in section.blocks %}
{% if block.kind == "text" %}<p>{{ block.text }}</p>
{% elif block.kind == "table" %}<table>
<tr>{% for h in block.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in block.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% elif block.kind == "figure" %}<figure><img src="data:image/png;base64,{{ block.data }}" alt="{{ block.caption }}" data-file="{{ block.file }}">
<figcaption>{{ block.caption }}</figcaption></figure>
{% endif %}{% endfor %}{% endfor %}
</body>
</html>
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3f}" if abs(value) < 1e4 else f"{value:.3g}"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        return v if np.isfinite(v) else None
    return value


@dataclass
class _Section:
    title: str
    slug: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


class Report:
    """Collects summary lines, sections, tables and matplotlib figures.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> r = Report("Example")
    >>> r.summary("One line of summary.")
    >>> _ = r.section("Numbers").table(["layer", "value"], [[0, 1.5], [1, 2.25]])
    >>> out = r.write(pathlib.Path(tempfile.mkdtemp()) / "rep")
    >>> sorted(p.name for p in out.iterdir())
    ['report.html', 'report.json']
    """

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self._summary: list[str] = []
        self._sections: list[_Section] = []
        self._figures: dict[str, bytes] = {}
        self.data: dict[str, Any] = {}

    def summary(self, line: str) -> None:
        """Add a plain-language line to the summary at the top."""
        self._summary.append(line)

    def section(self, title: str) -> Report:
        """Start a new section; later text/table/figure calls go into it."""
        slug = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")
        self._sections.append(_Section(title, slug))
        return self

    def _current(self) -> _Section:
        if not self._sections:
            self.section("Results")
        return self._sections[-1]

    def text(self, text: str) -> Report:
        """Add a paragraph."""
        self._current().blocks.append({"kind": "text", "text": text})
        return self

    def table(self, header: list[str], rows: list[list[Any]]) -> Report:
        """Add a table (numbers formatted to 3 decimals)."""
        self._current().blocks.append(
            {"kind": "table", "header": header, "rows": [[_fmt(c) for c in r] for r in rows]}
        )
        return self

    def figure(self, fig: Any, name: str, caption: str) -> Report:
        """Add a matplotlib figure, saved as ``<name>.png`` and embedded in the HTML."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt = import_optional("matplotlib.pyplot", "report")
        plt.close(fig)
        png = buf.getvalue()
        file = f"{name}.png"
        self._figures[file] = png
        self._current().blocks.append(
            {
                "kind": "figure",
                "data": base64.b64encode(png).decode(),
                "caption": caption,
                "file": file,
            }
        )
        return self

    def render(self) -> str:
        """The HTML text."""
        jinja2 = import_optional("jinja2", "report")
        env = jinja2.Environment(autoescape=True)
        return str(
            env.from_string(_TEMPLATE).render(
                title=self.title,
                subtitle=self.subtitle,
                summary=self._summary,
                sections=self._sections,
            )
        )

    def write(self, out_dir: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write ``report.html``, ``report.json`` and the PNGs into ``out_dir`` atomically.

        Everything is written into a temporary folder beside ``out_dir`` and moved in
        place at the end; an existing ``out_dir`` is replaced only with
        ``overwrite=True`` (:class:`OverwriteError` otherwise).
        """
        out = Path(out_dir)
        if out.exists() and not overwrite:
            raise OverwriteError(f"{out} exists; pass overwrite=True (--force) to replace it")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            (tmp / "report.html").write_text(self.render(), encoding="utf-8")
            payload = {"title": self.title, "summary": self._summary, **_jsonable(self.data)}
            (tmp / "report.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
            for file, png in self._figures.items():
                (tmp / file).write_bytes(png)
            if out.exists():
                trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
                os.replace(out, trash / out.name)
                os.replace(tmp, out)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return out
