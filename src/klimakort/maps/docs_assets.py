"""The files of the API documentation page (Swagger UI), vendored so ``/docs`` works offline.

An unmodified copy of ``swagger-ui-dist`` from the npm registry lives in
``klimakort/maps/vendor/swagger-ui/`` (Apache-2.0, ``vendor/LICENSE.swagger-ui``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from klimakort.errors import DataNotFoundError

#: served file name -> media type
DOCS_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@dataclass(frozen=True)
class DocsAsset:
    """A file of the documentation page as served: body, media type and ETag."""

    name: str
    body: bytes
    media_type: str
    etag: str


@lru_cache(maxsize=len(DOCS_ASSETS))
def docs_asset(name: str) -> DocsAsset:
    """A vendored Swagger UI file.

    Parameters
    ----------
    name : str
        One of :data:`DOCS_ASSETS`.

    Raises
    ------
    DataNotFoundError
        ``name`` is not a file of the documentation page.
    """
    if name not in DOCS_ASSETS:
        raise DataNotFoundError(
            f"the API documentation has no file {name!r}; it serves: {', '.join(DOCS_ASSETS)}"
        )
    ref = resources.files("klimakort.maps").joinpath("vendor").joinpath("swagger-ui").joinpath(name)
    body = ref.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return DocsAsset(name, body, DOCS_ASSETS[name], etag)
