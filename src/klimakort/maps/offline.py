"""Make folium's HTML self-contained: inline the vendored JS/CSS, drop the rest.

folium's templates load Leaflet and friends from CDNs, so a saved map is blank on a
machine without internet. klimakort ships the few assets its maps use (see
``vendor/README.md``) and inlines them; CDN assets the maps do not use (Bootstrap,
Font Awesome, awesome-markers) are removed. Any other external ``<script>`` or
stylesheet left in the page raises, so a folium upgrade cannot silently bring a CDN
back.
"""

from __future__ import annotations

import re
from importlib import resources

from klimakort.errors import KlimakortError

#: URL fragment -> vendored file that replaces it
_INLINE: dict[str, str] = {
    "/leaflet.js": "leaflet.js",
    "/leaflet.css": "leaflet.css",
    "leaflet.groupedlayercontrol.min.js": "leaflet.groupedlayercontrol.min.js",
    "leaflet.groupedlayercontrol.min.css": "leaflet.groupedlayercontrol.min.css",
    "/d3.min.js": "d3.min.js",
    "/jquery-": "jquery.min.js",
}
#: URL fragments of assets the maps do not use
_DROP = ("bootstrap", "fontawesome", "awesome-markers", "awesome.rotate", "glyphicons")

_TAG = re.compile(
    r'<script[^>]*\bsrc="(?P<js>https?://[^"]+)"[^>]*>\s*</script>'
    r'|<link[^>]*\bhref="(?P<css>https?://[^"]+)"[^>]*/?>'
)


def _asset(name: str) -> str:
    return resources.files("klimakort.maps").joinpath("vendor").joinpath(name).read_text("utf-8")


def _replace(match: re.Match[str]) -> str:
    url = match.group("js") or match.group("css")
    if any(d in url for d in _DROP):
        return ""
    for fragment, name in _INLINE.items():
        if fragment in url:
            body = _asset(name).replace("</script", "<\\/script")
            return f"<script>{body}</script>" if match.group("js") else f"<style>{body}</style>"
    raise KlimakortError(f"map asset {url} is not vendored; the map would not work offline")


def make_offline(html: str) -> str:
    """Return ``html`` with every external script/stylesheet inlined or removed."""
    return _TAG.sub(_replace, html)
