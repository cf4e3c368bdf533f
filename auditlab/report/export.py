"""Executed notebook -> one self-contained HTML file: no code, no network."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from auditlab.report.errors import ReportFailed

TEMPLATE_NAME = "auditlab"
# A tag that makes the browser fetch something: a script, stylesheet, image or frame.
_FETCHING_TAG = re.compile(
    r"<(?:script|img|iframe|link|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?([^\"'\s>]+)",
    re.IGNORECASE,
)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?([^\"')\s;]+)", re.IGNORECASE)


def export_html(notebook: nbformat.NotebookNode, out: str | Path, *, title: str) -> Path:
    """Return the path of the HTML file written from an executed notebook.

    Code cells and prompts are left out; the page loads nothing from the
    network (checked: ``ReportFailed`` if anything would be fetched).

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Hi")])
    >>> export_html(nb, "/tmp/hi.html", title="Hi").name
    'hi.html'
    """
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(resources.files("auditlab.report").joinpath("templates"))],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    fetched = external_references(body)
    if fetched:
        raise ReportFailed(
            f"the HTML would load {len(fetched)} resource(s) from outside the file, "
            f"e.g. {fetched[0]!r}; a report must render with no network"
        )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def external_references(html: str) -> list[str]:
    """Return every URL the page would fetch that is not inside the file itself.

    ``data:`` URIs and in-page anchors are inside the file.

    >>> external_references('<script src="https://cdn.example/x.js"></script><a href="#top">')
    ['https://cdn.example/x.js']
    """
    urls = [*_FETCHING_TAG.findall(html), *_CSS_IMPORT.findall(html)]
    return [url for url in urls if not url.startswith(("data:", "#"))]
