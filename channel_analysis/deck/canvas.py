"""Drawing on slides for the management deck: the presentation (own default or a company's
template), text, figure cards, tables that fit, speaker notes, and CJK fonts on every run.

Native charts live in :mod:`channel_analysis.deck_charts`. Nothing here computes a figure.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE, PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Inches, Pt

# East Asian font on every run: PowerPoint on Windows has it; LibreOffice and PowerPoint
# elsewhere substitute another Chinese font (charset 134 = GB2312 tells them to).
CJK_FONT = "Microsoft YaHei"
CJK_CHARSET = "-122"
INK, MUTED, LIGHT = "222222", "666666", "F3F5F7"
ACCENT, GOOD, BAD, WARN = "1F5F8B", "3A9D5D", "C0392B", "E07B39"
GOOD_FILL, BAD_FILL, HEADER_FILL, BAND_FILL = "DCEFE2", "F7D9D5", "1F5F8B", "F5F7F9"
WIDE, HIGH = Inches(13.333), Inches(7.5)
_LAYOUT_NAMES = {
    "title": ("title slide", "标题幻灯片"),
    "title_only": ("title only", "仅标题"),
    "content": ("title and content", "标题和内容"),
    "blank": ("blank", "空白"),
}
_BODY = {PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT}
_FOOTERS = {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}
_TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in EMU."""

    left: int
    top: int
    width: int
    height: int

    def part(self, x: float, y: float, w: float, h: float) -> "Box":
        """The sub-box at fractions (x, y, w, h) of this one."""
        return Box(int(self.left + x * self.width), int(self.top + y * self.height), int(w * self.width),
                   int(h * self.height))  # fmt: skip

    @property
    def inches(self) -> float:
        return self.width / 914400


def set_cjk(rpr, lang: str) -> None:
    """Give run properties ``rpr`` (a:rPr / a:defRPr / a:endParaRPr) the East Asian font and language."""
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = etree.SubElement(rpr, qn("a:ea"))
        later = [rpr.find(qn(t)) for t in ("a:cs", "a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl", "a:extLst")]
        later = [e for e in later if e is not None]
        if later:
            later[0].addprevious(ea)
    ea.set("typeface", CJK_FONT)
    ea.set("charset", CJK_CHARSET)
    rpr.set("lang", "zh-CN" if lang == "zh" else "en-US")
    rpr.set("altLang", "en-US" if lang == "zh" else "zh-CN")


def style(run, *, size: float | None = None, bold: bool | None = None, colour: str | None = None,
          lang: str = "en") -> None:  # fmt: skip
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if colour is not None:
        run.font.color.rgb = RGBColor.from_string(colour)
    set_cjk(run._r.get_or_add_rPr(), lang)


def text_width(text: str) -> float:
    """Width of ``text`` in ems, on the generous side (CJK 1 em; Latin by letter class; renderers
    put a little space where Chinese meets Latin)."""
    total, wide_before = 0.0, None
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in "WF"
        if wide_before is not None and wide != wide_before and ch != " ":
            total += 0.2
        wide_before = wide
        if wide:
            total += 1.0
        elif ch.isupper() or ch in "%@&WMmw—":
            total += 0.68
        elif ch.isdigit():
            total += 0.56
        elif ch in "il.,;:'|!()[]/ ":
            total += 0.3
        else:
            total += 0.52
    return total


def _wrap_count(text: str, capacity: float) -> list[str]:
    """Greedy line breaking at spaces (anywhere between CJK characters) → the lines."""
    tokens, word = [], ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            tokens += [word, ch] if word else [ch]
            word = ""
        elif ch == " ":
            tokens += [word + " "] if word else [" "]
            word = ""
        else:
            word += ch
    tokens += [word] if word else []
    lines, line = [], ""
    for tok in tokens:
        if text_width((line + tok).rstrip()) <= capacity or not line:
            while text_width(tok) > capacity and not line:  # a word longer than the line
                cut = max(1, next(i for i in range(len(tok), 0, -1) if text_width(tok[:i]) <= capacity))
                lines.append(tok[:cut])
                tok = tok[cut:]
            line += tok
        else:
            lines.append(line.rstrip())
            line = tok.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def fit(text: str, width_in: float, size_pt: float, lines: int = 1, margin_in: float = 0.16) -> str:
    """``text`` shortened with an ellipsis so that it wraps into at most ``lines`` lines of a
    column ``width_in`` inches wide at ``size_pt`` points (unchanged when it already fits)."""
    text = " ".join(str(text).split())
    capacity = max(1.0, (width_in - margin_in) * 72 / size_pt * 0.94)
    if len(_wrap_count(text, capacity)) <= lines:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that still fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if len(_wrap_count(text[:mid].rstrip() + "…", capacity)) <= lines:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip(" ,;:·") + "…"


def _cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in "WF" for ch in text)


def _row_height(texts: Sequence[str], capacity: Sequence[float], size: float) -> float:
    """Inches a table row needs: its tallest cell (a line with Chinese in it is set looser), plus margins."""
    heights = [sum(1.45 if _cjk(line) else 1.22 for line in _wrap_count(t, c)) for t, c in zip(texts, capacity)]
    return max(heights) * size / 72 + 0.1


def _header_size(header: Sequence[str], widths_in: Sequence[float], size: float) -> float:
    """A header font size at which no word of a header is wider than its column."""
    for n in (size, size - 1, size - 2, size - 3):
        words = [max((text_width(w) for w in h.split()), default=0) * n / 72 for h in header]
        if all(w <= (c - 0.16) * 0.94 for w, c in zip(words, widths_in)):
            return n
    return size - 3


class Canvas:
    """A presentation to draw on: the house default (16:9) or ``template``'s masters and layouts."""

    def __init__(self, template: Path | None, lang: str):
        self.lang = lang
        self.templated = template is not None
        self.prs = Presentation(str(template)) if template else Presentation()
        if template:
            self._remove_slides()
        else:
            self._widen()
        self.layouts = {key: self._layout(key) for key in _LAYOUT_NAMES}

    # ---- presentation and layouts ----------------------------------------------------

    @property
    def width(self) -> int:
        return self.prs.slide_width

    @property
    def height(self) -> int:
        return self.prs.slide_height

    def _remove_slides(self) -> None:
        ids = self.prs.slides._sldIdLst
        for sld in list(ids):
            self.prs.part.drop_rel(sld.rId)
            ids.remove(sld)

    def _widen(self) -> None:
        """python-pptx's default is 4:3; make it 16:9 and stretch its masters' placeholders."""
        ratio = WIDE / self.prs.slide_width
        self.prs.slide_width, self.prs.slide_height = WIDE, HIGH
        for master in self.prs.slide_masters:
            for holder in [*master.placeholders, *(p for lay in master.slide_layouts for p in lay.placeholders)]:
                if holder._element.spPr.find(qn("a:xfrm")) is not None:
                    holder.left, holder.width = int(holder.left * ratio), int(holder.width * ratio)

    def _layout(self, key: str):
        """The layout for ``key`` by its usual name (English or Chinese), else by its placeholders."""
        layouts = [lay for m in self.prs.slide_masters for lay in m.slide_layouts]
        for lay in layouts:
            if lay.name.strip().lower() in _LAYOUT_NAMES[key]:
                return lay

        def kinds(lay):
            return [p.placeholder_format.type for p in lay.placeholders if p.placeholder_format.type not in _FOOTERS]

        tests = {
            "title": lambda k: PP_PLACEHOLDER.CENTER_TITLE in k or (PP_PLACEHOLDER.SUBTITLE in k and set(k) & _TITLES),
            "title_only": lambda k: len(k) == 1 and k[0] in _TITLES,
            "content": lambda k: bool(set(k) & _TITLES) and bool(set(k) & _BODY),
            "blank": lambda k: not k,
        }
        return next((lay for lay in layouts if tests[key](kinds(lay))), None)

    def content_box(self) -> Box:
        """Where a slide's body goes: the template's content placeholder, else below the title."""
        lay = self.layouts["content"]
        body = next((p for p in lay.placeholders if p.placeholder_format.type in _BODY), None) if lay else None
        if self.templated and body is not None and body.width and body.height:
            return Box(body.left, body.top, body.width, body.height)
        title = self._title_box()
        top = title.top + title.height + Inches(0.12)
        return Box(title.left, top, title.width, self.height - top - Inches(0.55))

    def _title_box(self) -> Box:
        lay = self.layouts["title_only"] or self.layouts["content"]
        holder = next((p for p in lay.placeholders if p.placeholder_format.type in _TITLES), None) if lay else None
        if holder is not None and holder.width:
            return Box(holder.left, holder.top, holder.width, holder.height)
        return Box(Inches(0.5), Inches(0.3), self.width - Inches(1.0), Inches(0.9))

    # ---- slides --------------------------------------------------------------------

    def title_slide(self, title: str, subtitle: str):
        lay = self.layouts["title"] or self.layouts["title_only"] or self.prs.slide_layouts[0]
        slide = self.prs.slides.add_slide(lay)
        titles = [p for p in slide.placeholders if p.placeholder_format.type in _TITLES]
        subs = [p for p in slide.placeholders if p.placeholder_format.type in (PP_PLACEHOLDER.SUBTITLE, *_BODY)]
        box = Box(Inches(0.8), int(self.height * 0.3), self.width - Inches(1.6), Inches(1.4))
        self.write(titles[0] if titles else self._textbox(slide, box), [title], size=36, bold=True)
        sub_box = Box(box.left, box.top + box.height + Inches(0.2), box.width, Inches(1.2))
        target = subs[0] if subs else self._textbox(slide, sub_box)
        self.write(target, subtitle.split("\n"), size=16, colour=MUTED)
        self._drop_empty(slide)
        return slide

    def slide(self, title: str, footer: str | None = None):
        """A new slide with ``title`` on the template's title-only (or title+content, or blank) layout."""
        lay = next(lay for lay in (self.layouts["title_only"], self.layouts["content"], self.layouts["blank"],
                                   self.prs.slide_layouts[0]) if lay is not None)  # fmt: skip
        slide = self.prs.slides.add_slide(lay)
        holder = next((p for p in slide.placeholders if p.placeholder_format.type in _TITLES), None)
        if holder is None:
            b = self._title_box()
            holder = slide.shapes.add_textbox(b.left, b.top, b.width, b.height)
        size = 26 if text_width(title) < 40 else 22
        colour = None if self.templated else ACCENT  # a template's title keeps its own colour
        self.write(holder, [title], size=size, bold=True, colour=colour, anchor=MSO_ANCHOR.MIDDLE, align=PP_ALIGN.LEFT)
        self._drop_empty(slide)
        if footer and not self.templated:
            b = Box(Inches(0.5), self.height - Inches(0.45), self.width - Inches(1.0), Inches(0.3))
            self.text(slide, b, [f"{footer} · {len(self.prs.slides)}"], size=9, colour=MUTED, align=PP_ALIGN.RIGHT)
        return slide

    def _drop_empty(self, slide) -> None:
        """Remove placeholders left empty (a template's body or date), so no prompt text shows."""
        for p in list(slide.placeholders):
            if p.placeholder_format.type not in _TITLES and not (p.has_text_frame and p.text_frame.text.strip()):
                p._element.getparent().remove(p._element)

    # ---- text ----------------------------------------------------------------------

    def write(self, shape, paragraphs: Sequence, *, size: float = 12, bold: bool = False, colour: str | None = INK,
              align=None, anchor=None, spacing: float | None = None):  # fmt: skip
        """Replace ``shape``'s text. A paragraph is a string or a list of (text, {size, bold, colour}) runs."""
        tf = shape.text_frame
        tf.word_wrap = True
        if anchor is not None:
            tf.vertical_anchor = anchor
        tf.clear()
        for i, para in enumerate(paragraphs):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            if align is not None:
                p.alignment = align
            if spacing is not None and i:
                p.space_before = Pt(spacing)
            for text, opts in [(para, {})] if isinstance(para, str) else para:
                run = p.add_run()
                run.text = text
                style(run, size=opts.get("size", size), bold=opts.get("bold", bold),
                      colour=opts.get("colour", colour), lang=self.lang)  # fmt: skip
            set_cjk(p._p.get_or_add_endParaRPr(), self.lang)
        return shape

    @staticmethod
    def _textbox(slide, box: Box):
        return slide.shapes.add_textbox(box.left, box.top, box.width, box.height)

    def text(self, slide, box: Box, paragraphs: Sequence, *, name: str | None = None, **kw):
        shape = self._textbox(slide, box)
        tf = shape.text_frame
        tf.margin_left = tf.margin_right = Inches(0.05)
        if name:
            shape.name = name
        return self.write(shape, paragraphs, **kw)

    def card(self, slide, box: Box, value: str, caption: str, note: str = "", *, name: str,
             note_colour: str = MUTED, value_colour: str = ACCENT):  # fmt: skip
        """A figure card: the big number, what it is, and a line of context (e.g. vs last year)."""
        shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, box.left, box.top, box.width, box.height)
        shape.name = name
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor.from_string(LIGHT)
        shape.line.fill.background()
        shape.shadow.inherit = False
        tf = shape.text_frame
        tf.margin_left = tf.margin_right = Inches(0.1)
        width = box.inches
        big = next((n for n in (26, 22, 18) if fit(value, width, n, margin_in=0.2) == value), 15)
        paras = [[(fit(value, width, big, margin_in=0.2), {"size": big, "bold": True, "colour": value_colour})],
                 [(fit(caption, width, 11, lines=2), {"size": 11, "colour": INK})]]  # fmt: skip
        if note:
            paras.append([(fit(note, width, 10, lines=2), {"size": 10, "colour": note_colour})])
        return self.write(shape, paras, align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.MIDDLE, spacing=2)

    def notes(self, slide, lines: Sequence[str]) -> None:
        """Speaker notes: the figures behind the slide, one per line."""
        tf = slide.notes_slide.notes_text_frame
        tf.text = "\n".join(lines)
        for p in tf.paragraphs:
            for r in p.runs:
                set_cjk(r._r.get_or_add_rPr(), self.lang)

    # ---- tables ----------------------------------------------------------------------

    def table(self, slide, box: Box, header: Sequence[str], rows: Sequence[Sequence[str]], *,
              widths: Sequence[float], size: float = 11, lines: Sequence[int] | int = 1,
              fills: dict[tuple[int, int], str] | None = None, colours: dict[tuple[int, int], str] | None = None,
              align_right: Sequence[int] = (), name: str = "table"):  # fmt: skip
        """A table at ``box`` with fixed column ``widths`` (fractions); every cell's text is
        shortened with an ellipsis to fit ``lines`` lines, so the table never grows off the slide.
        ``fills`` / ``colours`` colour body cells by (row, column)."""
        lines = [lines] * len(header) if isinstance(lines, int) else list(lines)
        col_w = [int(box.width * w / sum(widths)) for w in widths]
        smallest = size - 1.5
        while True:  # a smaller font, then fewer lines in the longest cells, until the table fits its box
            capacity = [max(1.0, (w / 914400 - 0.16) * 72 / size * 0.94) for w in col_w]
            head = _header_size(header, [w / 914400 for w in col_w], size)
            head_capacity = [max(1.0, (w / 914400 - 0.16) * 72 / head * 0.94) for w in col_w]
            texts = [[fit(h, w / 914400, head, 2) for h, w in zip(header, col_w)]]
            texts += [[fit(v, w / 914400, size, n) for v, w, n in zip(row, col_w, lines)] for row in rows]
            row_h = [Inches(_row_height(texts[0], head_capacity, head))]
            row_h += [Inches(_row_height(row, capacity, size)) for row in texts[1:]]
            if sum(row_h) <= box.height or max(lines) == 1:
                break
            if size > smallest:
                size -= 0.5
            else:
                lines = [n - 1 if n == max(lines) else n for n in lines]
        frame = slide.shapes.add_table(len(texts), len(header), box.left, box.top, box.width, sum(row_h))
        frame.name = name
        table = frame.table
        table.horz_banding = False
        for j, w in enumerate(col_w):
            table.columns[j].width = w
        for i, h in enumerate(row_h):
            table.rows[i].height = h
        for i, values in enumerate(texts):
            for j, text in enumerate(values):
                cell = table.cell(i, j)
                cell.margin_left = cell.margin_right = Inches(0.06)
                cell.margin_top = cell.margin_bottom = Inches(0.03)
                cell.vertical_anchor = MSO_ANCHOR.MIDDLE
                fill = HEADER_FILL if i == 0 else (fills or {}).get((i - 1, j), BAND_FILL if i % 2 == 0 else "FFFFFF")
                colour = "FFFFFF" if i == 0 else (colours or {}).get((i - 1, j), INK)
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(fill)
                align = PP_ALIGN.RIGHT if j in align_right else PP_ALIGN.LEFT
                self.write(cell, [text], size=head if i == 0 else size, bold=i == 0, colour=colour, align=align)
        return frame
