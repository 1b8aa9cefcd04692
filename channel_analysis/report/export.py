"""The executed notebook → one self-contained HTML page: no code, contents at the side, every
foreign HTML output sanitised, nothing fetched when the page is viewed.

Headings of levels 1–3 — markdown ones and those shown by
:func:`~channel_analysis.report.display.show_heading`, which is how a report gives its headings
in the reader's language — make the page's contents.
"""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from channel_analysis.faults import checkpoint
from channel_analysis.report.display import ESCAPED_MARK
from channel_analysis.report.runner import TEMPLATE_DIR, TEMPLATE_NAME, ReportFailed, _is_sentinel_cell, _nbformat
from channel_analysis.text.labels import check_lang, label

if TYPE_CHECKING:  # nbformat costs ~1 s to import; notebooks using show_table need not pay it
    from nbformat import NotebookNode


_OBJECT_REPR = re.compile(r"<[A-Za-z_][\w.]*(?:[: ].*)?>", re.DOTALL)  # <Axes: ...>, <Figure at 0x...>


_HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell", "papermill-error-cell-tag"}


def export_html(executed_notebook: Path, html_path: Path, *, title: str, lang: str = "en") -> Path:
    """The executed notebook → one self-contained HTML page at ``html_path``: no code, contents at the side.

    Hidden: every input, prompts, the parameters and injected-parameters cells,
    the sentinel, cells tagged ``remove-cell``, stderr and bare object reprs
    (``<Axes: …>``). HTML or Markdown output not built by this module's helpers
    is sanitised. Images are embedded; no script, style or font is fetched when
    the page is viewed (checked: :class:`ReportFailed` otherwise).
    """
    from nbconvert import HTMLExporter

    check_lang(lang)
    html_path, template = Path(html_path), TEMPLATE_DIR / TEMPLATE_NAME
    if not (template / "index.html.j2").is_file():
        raise ReportFailed(f"the report template is missing from {template}: reinstall channel-analysis")
    nb = _nbformat().read(executed_notebook, as_version=4)
    nb.cells = _visible_cells(nb.cells)
    toc = _annotate(nb.cells, lang)
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
        language_code=lang,
    )
    resources = {
        "metadata": {"name": title, "path": str(_source_folder(nb, Path(executed_notebook)))},
        "report": {"title": title, "toc": toc, "contents": label("contents", lang),
                   "css": (template / "report.css").read_text(encoding="utf-8")},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    loaded = external_references(body)
    if loaded:
        raise ReportFailed(f"{html_path.name} would load {', '.join(loaded[:3])} when viewed; not published")
    checkpoint(f"report:{html_path.stem}:html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    checkpoint(f"report:{html_path.stem}:html-written")
    return html_path


def _source_folder(nb: NotebookNode, executed: Path) -> Path:
    """Where the report notebook lives: markdown images are relative to it, not to the executed copy."""
    source = nb.metadata.get("papermill", {}).get("input_path")
    return Path(source).parent if isinstance(source, str) and Path(source).is_file() else executed.parent


def _visible_cells(cells: list[NotebookNode]) -> list[NotebookNode]:
    kept = []
    for cell in cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _HIDDEN_TAGS or _is_sentinel_cell(cell) or cell.cell_type == "raw":
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in map(_visible_output, cell.outputs) if o is not None]
            if not cell.outputs:
                continue
        kept.append(cell)
    return kept


def _visible_output(output: NotebookNode) -> NotebookNode | None:
    """An output as published, or None to drop it (stderr, errors, object reprs); foreign HTML sanitised."""
    if output.output_type == "stream":
        return output if output.name == "stdout" else None
    if output.output_type == "error":
        return None
    if output.get("metadata", {}).get(ESCAPED_MARK):
        return output
    data = {k: v for k, v in output.data.items() if k in ("text/html", "text/markdown", "image/png",
                                                             "image/jpeg", "text/plain")}
    for key in ("text/html", "text/markdown"):
        if key in data:
            without_css = re.sub(r"<style\b.*?</style\s*>", "", data[key], flags=re.DOTALL | re.IGNORECASE)
            data[key] = _sanitizer().sanitize_html_tags(without_css)
    if set(data) == {"text/plain"} and _OBJECT_REPR.fullmatch(data["text/plain"].strip()):
        return None
    if not data:
        return None
    output.data = data
    return output


@functools.cache
def _sanitizer():
    from bleach.sanitizer import ALLOWED_TAGS
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    tables = {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col"}
    text = {"p", "div", "span", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "sup", "sub", "small", "pre"}
    return SanitizeHTML(
        tags=sorted(set(ALLOWED_TAGS) | tables | text),
        attributes={"*": ["class", "title", "colspan", "rowspan"], "a": ["href", "title"]},
    )


def _annotate(cells: list[NotebookNode], lang: str) -> list[dict]:
    """Give markdown headings (levels 1–3) ids and charts their section as alt text; returns the contents."""
    toc: list[dict] = []
    section = ""
    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = _anchor_headings(cell.source, toc)
            section = toc[-1]["text"] if toc else section
            continue
        for output in cell.outputs:
            heading = output.get("metadata", {}).get(ESCAPED_MARK, {}).get("heading")
            if heading and "text/html" in output.get("data", {}):  # from show_heading
                section = _anchor_output_heading(output, int(heading), toc)
            elif "image/png" in output.get("data", {}):
                output.metadata["ca_alt"] = f"{label('chart', lang)}: {section}" if section else label("chart", lang)
    return toc


def _anchor_output_heading(output: NotebookNode, level: int, toc: list[dict]) -> str:
    """A heading shown by :func:`show_heading` gets an anchor and, at levels 1–3, a place in ``toc``."""
    text = str(output.metadata[ESCAPED_MARK].get("text", ""))
    level = min(max(level, 1), 4)
    if level > 3:
        return toc[-1]["text"] if toc else ""
    anchor = f"section-{len(toc) + 1}"
    toc.append({"level": level, "id": anchor, "text": text})
    output.data["text/html"] = (
        f'<h{level}><span id="{anchor}" class="ca-anchor"></span>{html.escape(text)}</h{level}>'
    )
    return text


def _anchor_headings(source: str, toc: list[dict]) -> str:
    """Prefix each ATX heading outside code fences with an anchor, appending it to ``toc``."""
    heading = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")
    lines, fenced = [], False
    for line in source.splitlines():
        fenced ^= line.lstrip().startswith(("```", "~~~"))
        match = None if fenced else heading.match(line)
        if match:
            anchor = f"section-{len(toc) + 1}"
            toc.append({"level": len(match[1]), "id": anchor, "text": _plain(match[2])})
            line = f'{match[1]} <span id="{anchor}" class="ca-anchor"></span>{match[2]}'
        lines.append(line)
    return "\n".join(lines)


def _plain(markdown: str) -> str:
    """Heading markdown → its text: links keep their words, emphasis and code marks go."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[*`]|(?<!\w)_|_(?!\w)", "", text).strip()


class _ReferenceFinder(HTMLParser):
    """Collects what a browser would load by itself: script src, stylesheets, images, frames, CSS and JS imports.

    Anything but an inline ``data:`` URI counts: a relative path breaks as soon as
    the page is mailed or moved, a URL needs the network.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        fetched = {"script": "src", "img": "src", "iframe": "src", "source": "src", "embed": "src",
                   "link": "href", "object": "data"}
        url = (attrs.get(fetched.get(tag, ""), "") or "").strip()
        if url and not url.startswith("data:"):
            self.found.append(url)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += re.findall(r"(?:@import|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", data)
        self.found += re.findall(r"import\(\s*['\"]((?:https?:)?//[^'\"]+)", data)


def external_references(page: str) -> list[str]:
    """What ``page`` would load besides itself when shown: URLs and file paths (empty: self-contained)."""
    finder = _ReferenceFinder()
    finder.feed(page)
    return finder.found
