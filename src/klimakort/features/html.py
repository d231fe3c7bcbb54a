"""Simple HTML pages (``f=html``) of the OGC API - Features documents, in Danish.

Self-contained pages (inline CSS, no scripts or external assets) built from the
same dicts as the JSON answers, with every value escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;
color:#1b1b1b;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.5rem}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
nav a{margin-right:1rem}.muted{color:#666}code{font-size:.85rem}
.scroll{overflow-x:auto}
"""


def _e(value: Any) -> str:
    """Escaped text of a value (``–`` for missing)."""
    if value is None:
        return '<span class="muted">–</span>'
    if isinstance(value, float):
        return escape(f"{value:.6g}")
    return escape(str(value))


def _a(href: str, text: str) -> str:
    return f'<a href="{escape(href, quote=True)}">{escape(text)}</a>'


def _json_href(links: Iterable[dict[str, Any]]) -> str | None:
    """The JSON ``self`` link among ``links``."""
    return next((lk["href"] for lk in links if lk.get("rel") == "self"), None)


def page(title: str, body: str, *, json_href: str | None = None, home: str = "/") -> str:
    """A complete HTML document."""
    nav = [_a(home, "Forside"), _a(home.rstrip("/") + "/collections?f=html", "Samlinger")]
    if json_href:
        nav.append(_a(json_href, "Som JSON"))
    return (
        '<!DOCTYPE html>\n<html lang="da">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} – klimakort</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<nav>{''.join(nav)}</nav>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _links_list(links: Iterable[dict[str, Any]]) -> str:
    items = "".join(
        f"<li>{_a(lk['href'], lk.get('title') or lk['href'])} "
        f'<span class="muted">({escape(lk.get("rel", ""))}, {escape(lk.get("type", ""))})</span>'
        "</li>"
        for lk in links
        if not lk.get("templated")
    )
    return f"<ul>{items}</ul>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(v)}</td>'
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{v if isinstance(v, _Raw) else _e(v)}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


class _Raw(str):
    """Markup that is inserted as it is (already escaped)."""


def landing_html(doc: dict[str, Any], base: str) -> str:
    """The landing page."""
    body = f"<p>{escape(doc.get('description', ''))}</p><h2>Links</h2>{_links_list(doc['links'])}"
    return page(doc["title"], body, json_href=_json_href(doc["links"]), home=base + "/")


def conformance_html(doc: dict[str, Any], base: str) -> str:
    """The conformance declaration."""
    items = "".join(f"<li><code>{escape(c)}</code></li>" for c in doc["conformsTo"])
    return page(
        "Overensstemmelsesklasser",
        f"<ul>{items}</ul>",
        json_href=base + "/conformance",
        home=base + "/",
    )


def _collection_rows(c: dict[str, Any]) -> list[tuple[str, Any]]:
    bbox = c["extent"]["spatial"]["bbox"]
    rows: list[tuple[str, Any]] = [
        ("Id", c["id"]),
        ("Titel", c["title"]),
        ("Engelsk titel", c.get("title_en")),
        ("Beskrivelse", c.get("description")),
        ("Udstrækning (lon/lat)", ", ".join(f"{v:.5f}" for v in bbox[0]) if bbox else None),
        ("Lagrings-CRS", c.get("storageCrs")),
        ("CRS", ", ".join(c.get("crs", []))),
        ("Kan redigeres", "ja" if c.get("editable") else "nej"),
    ]
    if c.get("scenarios"):
        rows.append(("Scenarier", ", ".join(c["scenarios"])))
    return rows


def collections_html(doc: dict[str, Any], base: str) -> str:
    """The list of collections."""
    rows = [
        (
            _Raw(_a(f"{base}/collections/{c['id']}?f=html", c["id"])),
            c["title"],
            c.get("description", ""),
            _Raw(_a(f"{base}/collections/{c['id']}/items?f=html", "Objekter")),
        )
        for c in doc["collections"]
    ]
    body = _table(["Id", "Titel", "Beskrivelse", ""], rows)
    return page("Samlinger", body, json_href=base + "/collections", home=base + "/")


def collection_html(doc: dict[str, Any], base: str) -> str:
    """One collection."""
    body = (
        _table(["Egenskab", "Værdi"], _collection_rows(doc))
        + "<h2>Links</h2>"
        + _links_list(doc["links"])
    )
    return page(doc["title"], body, json_href=_json_href(doc["links"]), home=base + "/")


def items_html(
    title: str,
    features: list[dict[str, Any]],
    *,
    number_matched: int,
    offset: int,
    links: list[dict[str, Any]],
    base: str,
    item_base: str,
    json_href: str | None = None,
) -> str:
    """A page of features: one row per feature, one column per property.

    ``links`` are the page's HTML links (``self`` is replaced by ``json_href``).
    """
    columns: list[str] = []
    for f in features:
        for k in f.get("properties") or {}:
            if k not in columns:
                columns.append(k)
    rows = [
        [
            _Raw(_a(f"{item_base}/{quote(str(f['id']), safe='')}?f=html", str(f["id"]))),
            (f.get("geometry") or {}).get("type"),
            *[(f.get("properties") or {}).get(c) for c in columns],
        ]
        for f in features
    ]
    n = len(features)
    first = offset + 1 if n else offset
    summary = (
        f"<p>Viser {first}–{offset + n} af {number_matched} objekter.</p>"
        if n
        else f"<p>Ingen objekter på denne side ({number_matched} i alt).</p>"
    )
    nav = " ".join(
        _a(lk["href"], label)
        for rel, label in (("prev", "« Forrige"), ("next", "Næste »"))
        for lk in links
        if lk["rel"] == rel
    )
    body = summary + (f"<p>{nav}</p>" if nav else "") + _table(["Id", "Geometri", *columns], rows)
    return page(title, body, json_href=json_href, home=base + "/")


def item_html(title: str, feature: dict[str, Any], *, base: str) -> str:
    """One feature: its properties as a two-column table."""
    props = feature.get("properties") or {}
    geom = feature.get("geometry") or {}
    rows = [("Id", feature.get("id")), ("Geometri", geom.get("type")), *props.items()]
    body = (
        _table(["Egenskab", "Værdi"], rows)
        + "<h2>Links</h2>"
        + _links_list(feature.get("links", []))
    )
    return page(title, body, json_href=_json_href(feature.get("links", [])), home=base + "/")
