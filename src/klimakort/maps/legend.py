"""Class legends (coloured boxes with labels) for folium maps."""

from __future__ import annotations

import html
from collections.abc import Sequence

import branca
import folium


def class_legend(
    m: folium.Map, title: str, items: Sequence[tuple[str, str]], *, position: int = 0
) -> None:
    """Add a fixed legend box listing ``(colour, label)`` items.

    Parameters
    ----------
    m : folium.Map
        The map.
    title : str
        Legend title (include the units).
    items : sequence of (colour, label)
        Classes from top to bottom.
    position : int
        Stacking slot from the bottom-left corner (0, 1, 2, ...).
    """
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:10px;margin-right:6px;'
        f'background:{html.escape(color)};border:1px solid #555"></span>'
        f"{html.escape(label)}</div>"
        for color, label in items
    )
    box = (
        f'<div class="klimakort-legend" style="position:absolute;left:10px;'
        f"bottom:{70 + 130 * position}px;z-index:9999;background:rgba(255,255,255,.9);"
        "padding:6px 8px;border-radius:4px;font:12px/1.4 sans-serif;"
        f'box-shadow:0 1px 4px rgba(0,0,0,.3)"><b>{html.escape(title)}</b>{rows}</div>'
    )
    m.get_root().html.add_child(branca.element.Element(box))  # type: ignore[attr-defined]


def link_box(m: folium.Map, title: str, links: Sequence[tuple[str, str]]) -> None:
    """Add a fixed box of ``(href, label)`` links (e.g. to example reports) at the bottom right.

    Parameters
    ----------
    m : folium.Map
        The map.
    title : str
        Box title.
    links : sequence of (href, label)
        Relative or absolute links, opened in a new tab.
    """
    rows = "".join(
        f'<div><a href="{html.escape(href)}" target="_blank">{html.escape(label)}</a></div>'
        for href, label in links
    )
    box = (
        '<div class="klimakort-links" style="position:absolute;left:10px;bottom:210px;'
        "z-index:9999;background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;"
        'font:12px/1.5 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
        f"<b>{html.escape(title)}</b>{rows}</div>"
    )
    m.get_root().html.add_child(branca.element.Element(box))  # type: ignore[attr-defined]
