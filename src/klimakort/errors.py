"""Error hierarchy of klimakort.

Every error raised on purpose by klimakort derives from :class:`KlimakortError`.
Each class carries the HTTP status that the API answers with (one mapping, here),
so that ``api/`` never has to guess.
"""

from __future__ import annotations


class KlimakortError(Exception):
    """Root of all klimakort errors.

    Attributes
    ----------
    http_status : int
        HTTP status code the API uses for this error.
    title : str
        Short, stable, human-readable summary (problem+json ``title``).
    """

    http_status: int = 500
    title: str = "klimakort error"


class InputError(KlimakortError):
    """Invalid user input (parameters out of range, malformed values)."""

    http_status = 422
    title = "Invalid input"


class ParameterError(InputError):
    """A numeric or categorical parameter is out of its allowed range."""

    title = "Parameter out of range"


class CRSError(InputError):
    """A dataset has no CRS, a geographic CRS where a projected one is needed, or a mismatch."""

    title = "Coordinate reference system problem"


class GridMismatchError(InputError):
    """Two rasters that must share a grid (shape, transform, CRS) do not."""

    title = "Raster grids do not match"


class NoDataError(InputError):
    """A dataset holds no valid data where data is required."""

    title = "No valid data"


class GeometryError(InputError):
    """Geometries that are invalid and could not be repaired, or of the wrong type."""

    title = "Invalid geometry"


class ConfigError(InputError):
    """An area configuration (area.toml) is invalid; the message names the key."""

    title = "Invalid area configuration"


class DataNotFoundError(KlimakortError):
    """A file, layer or feature that was asked for does not exist."""

    http_status = 404
    title = "Not found"


class RequestTooLargeError(InputError):
    """A request asks for more than the service allows (bbox area, feature count, zoom)."""

    http_status = 413
    title = "Request too large"


class UnauthorizedError(KlimakortError):
    """A write request without a valid API key."""

    http_status = 401
    title = "API key required"


class ConflictError(KlimakortError):
    """A write that conflicts with the stored state (a duplicate ``site_id``)."""

    http_status = 409
    title = "Conflict"


class ReadOnlyError(ConflictError):
    """A write to a service or layer that cannot be edited."""

    title = "Read-only"


def http_status_for(exc: BaseException) -> int:
    """Return the HTTP status for an exception (500 for anything not a KlimakortError)."""
    if isinstance(exc, KlimakortError):
        return exc.http_status
    return 500
