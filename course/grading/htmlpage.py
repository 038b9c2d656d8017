"""Self-contained HTML pages for instructors' reports: inline CSS, figures embedded as PNG, no script and
nothing fetched, so a page can be mailed or opened offline. Every text is escaped."""

from __future__ import annotations

import base64
import html
import io
from typing import Any, Iterable

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .6em 0; } td, th { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f2f2f2; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flag { color: #a40000; font-weight: 600; } .note { background: #fff8dc; border-left: 4px solid #e0b000;
padding: .6em 1em; } code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; white-space: pre-wrap; margin: 0; }
mark { background: #ffd27f; } .pair td { vertical-align: top; width: 50%; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def table(header: Iterable[str], rows: Iterable[Iterable[Any]], raw: bool = False) -> str:
    """An HTML table; numbers right-aligned. ``raw`` cells are already HTML (escaped by the caller)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for v in row:
            cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{v if raw else esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def figure(fig: Any, alt: str) -> str:
    """A matplotlib figure as an embedded PNG (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<p><img alt="{esc(alt)}" src="data:image/png;base64,{data}"></p>'


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")
