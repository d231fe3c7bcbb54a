"""Feature queries: CRS and bbox parameters, paging limits, and a cached index per collection.

:class:`FeatureIndex` holds one collection of a workspace at one revision: the frame in
the storage CRS, its CRS84 copy (coordinates rounded to 7 decimals, about 1 cm) and
an STRtree per CRS, all built on first use. :func:`feature_index` keeps one index per
(workspace, collection) and rebuilds it when :meth:`Workspace.revision` changes.
:func:`run_query` answers an :class:`ItemsQuery` (bbox, CQL2-text or CQL2-JSON filter with
spatial functions in the filter CRS, offset, limit).
"""

from __future__ import annotations

import functools
import math
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import ProjError

from klimakort.errors import ParameterError, RequestTooLargeError
from klimakort.features import cql2, cql2_json
from klimakort.io.crs_uri import CRS84, crs_uri
from klimakort.io.geojson_input import transformer

if TYPE_CHECKING:
    from klimakort.service import Workspace

#: decimals of CRS84 output coordinates (1e-7 degrees is about 1 cm)
CRS84_DECIMALS = 7
#: decimals of projected output coordinates (mm)
PROJECTED_DECIMALS = 3
_CRS84_RANGE = (-180.0, -90.0, 180.0, 90.0)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse ``minx,miny,maxx,maxy`` (6 numbers: the heights are dropped).

    Raises
    ------
    ParameterError
        Not 4 (or 6) finite numbers, or a minimum above its maximum.
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise ParameterError(
            f"bbox={text!r} must be 4 comma-separated numbers: minx,miny,maxx,maxy"
        ) from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(n) for n in nums):
        raise ParameterError(
            f"bbox={text!r} must be 4 comma-separated numbers: minx,miny,maxx,maxy"
        )
    x0, y0, x1, y1 = nums
    if x0 > x1 or y0 > y1:
        raise ParameterError(
            f"bbox={text!r}: the minimum is above the maximum; order is minx,miny,maxx,maxy"
        )
    return (x0, y0, x1, y1)


@functools.lru_cache(maxsize=16)
def _valid_range(uri: str) -> tuple[float, float, float, float]:
    """Coordinates accepted in a CRS: lon/lat limits, or the projected area of use
    widened by half its size on every side."""
    if uri == CRS84:
        return _CRS84_RANGE
    crs = CRS.from_user_input(uri)
    aou = crs.area_of_use
    if aou is None:  # pragma: no cover - every EPSG CRS has one
        return (-math.inf, -math.inf, math.inf, math.inf)
    x0, y0, x1, y1 = transformer(CRS84, uri).transform_bounds(*aou.bounds, densify_pts=21)
    dx, dy = (x1 - x0) / 2, (y1 - y0) / 2
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


def check_bbox(
    bbox: tuple[float, float, float, float], bbox_crs: str, storage: CRS, max_km2: float
) -> None:
    """Refuse a bbox outside its CRS's range, or larger than ``max_km2``.

    Raises
    ------
    ParameterError
        Coordinates out of range for ``bbox_crs``.
    RequestTooLargeError
        The bbox covers more than ``max_km2`` (measured in the storage CRS).
    """
    lo_x, lo_y, hi_x, hi_y = _valid_range(bbox_crs)
    x0, y0, x1, y1 = bbox
    if x0 < lo_x or y0 < lo_y or x1 > hi_x or y1 > hi_y:
        raise ParameterError(
            f"bbox {list(bbox)} is outside the range of {bbox_crs} "
            f"({lo_x:.6g},{lo_y:.6g},{hi_x:.6g},{hi_y:.6g}); check the axis order "
            f"(x/lon first) and bbox-crs"
        )
    storage_uri = crs_uri(storage)
    if bbox_crs != storage_uri:
        try:
            tr = transformer(bbox_crs, storage_uri)
            x0, y0, x1, y1 = tr.transform_bounds(*bbox, densify_pts=21)
        except ProjError as exc:
            raise ParameterError(f"bbox {list(bbox)} cannot be transformed: {exc}") from None
    km2 = (x1 - x0) * (y1 - y0) / 1e6
    if not km2 <= max_km2:
        raise RequestTooLargeError(
            f"bbox covers {km2:,.0f} km², more than the {max_km2:,.0f} km² this service "
            "allows per request; ask for a smaller bbox"
        )


#: the filter languages ``filter-lang`` may name (the first is the default)
FILTER_LANGS: tuple[str, ...] = ("cql2-text", "cql2-json")


def filter_lang(value: str | None) -> str:
    """The ``filter-lang`` parameter checked (default ``cql2-text``).

    Raises
    ------
    ParameterError
        A language other than :data:`FILTER_LANGS`.
    """
    if value is None or value.strip() == "":
        return FILTER_LANGS[0]
    lang = value.strip().lower()
    if lang not in FILTER_LANGS:
        raise ParameterError(
            f"filter-lang={value!r} is not supported; use {' or '.join(FILTER_LANGS)}"
        )
    return lang


def parse_filter(text: str, lang: str = "cql2-text") -> cql2.Expr:
    """Parse a filter in ``lang`` (one of :data:`FILTER_LANGS`)."""
    if filter_lang(lang) == "cql2-json":
        return cql2_json.parse_cql2_json(text)
    return cql2.parse_cql2(text)


def check_paging(limit: int, offset: int, max_features: int) -> None:
    """Refuse ``limit`` outside 1..max_features and a negative ``offset``."""
    if not 1 <= limit <= max_features:
        raise ParameterError(f"limit={limit} must be between 1 and {max_features}")
    if offset < 0:
        raise ParameterError(f"offset={offset} must be 0 or more")


def _round_coords(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


@dataclass
class FeatureIndex:
    """One collection at one revision, in the storage CRS and (lazily) CRS84.

    Attributes
    ----------
    cid : str
        Collection id.
    revision : int
        :meth:`Workspace.revision` when built.
    frame : GeoDataFrame
        Features in the storage CRS with the text ``fid`` column.
    storage_uri : str
        URI of the storage CRS.
    """

    cid: str
    revision: int
    frame: gpd.GeoDataFrame
    storage_uri: str
    _frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)
    _trees: dict[str, shapely.STRtree] = field(default_factory=dict, repr=False)
    _positions: dict[str, int] | None = field(default=None, repr=False)
    _properties: pd.DataFrame | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def in_crs(self, uri: str) -> gpd.GeoDataFrame:
        """The features in ``uri`` (CRS84 or the storage CRS), coordinates rounded."""
        with self._lock:
            if uri not in self._frames:
                if uri == self.storage_uri:
                    gdf = self.frame
                    decimals = PROJECTED_DECIMALS
                else:
                    gdf = self.frame.to_crs(CRS.from_user_input(uri))
                    decimals = CRS84_DECIMALS if uri == CRS84 else PROJECTED_DECIMALS
                geoms = _round_coords(np.asarray(gdf.geometry.array), decimals)
                self._frames[uri] = gdf.set_geometry(
                    gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
                )
            return self._frames[uri]

    def tree(self, uri: str) -> shapely.STRtree:
        """STRtree over the geometries in ``uri``."""
        frame = self.in_crs(uri)
        with self._lock:
            if uri not in self._trees:
                self._trees[uri] = shapely.STRtree(np.asarray(frame.geometry.array))
            return self._trees[uri]

    def bbox_rows(self, bbox: tuple[float, float, float, float], uri: str) -> np.ndarray:
        """Row positions (ascending) of features intersecting ``bbox`` given in ``uri``."""
        rows = self.tree(uri).query(shapely.box(*bbox), predicate="intersects")
        return np.sort(rows)

    def properties(self, columns: list[str], rows: np.ndarray) -> pd.DataFrame:
        """The property ``columns`` (at least) of ``rows`` (positions) as a plain data frame."""
        with self._lock:
            if self._properties is None:
                geom = self.frame.geometry.name
                self._properties = pd.DataFrame(
                    {c: self.frame[c] for c in self.frame.columns if c != geom}
                )
        if len(rows) == len(self._properties):
            return self._properties  # every row: no copy (the evaluator only reads)
        return self._properties[columns].iloc[rows]

    def position(self, fid: str) -> int | None:
        """Row position of the feature with id ``fid`` (None when unknown)."""
        with self._lock:
            if self._positions is None:
                self._positions = {f: i for i, f in enumerate(self.frame["fid"].tolist())}
            return self._positions.get(fid)

    def extent(self, uri: str) -> list[float] | None:
        """Bounds ``[minx, miny, maxx, maxy]`` of all features in ``uri`` (None if empty).

        In another CRS than the storage CRS this is the (densified) transform of the
        storage bounds: it contains every feature without reprojecting them all.
        """
        if len(self.frame) == 0:
            return None
        x0, y0, x1, y1 = (float(v) for v in self.frame.total_bounds)
        if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
            return None
        if uri != self.storage_uri:
            tr = transformer(self.storage_uri, uri)
            x0, y0, x1, y1 = tr.transform_bounds(x0, y0, x1, y1, densify_pts=21)
        # outwards to the output decimals, so the rounded features stay inside
        f = 10.0 ** (CRS84_DECIMALS if uri == CRS84 else PROJECTED_DECIMALS)
        return [
            math.floor(x0 * f) / f,
            math.floor(y0 * f) / f,
            math.ceil(x1 * f) / f,
            math.ceil(y1 * f) / f,
        ]


_INDEXES: weakref.WeakKeyDictionary[Any, dict[str, FeatureIndex]] = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()


def feature_index(ws: Workspace, cid: str) -> FeatureIndex:
    """The cached :class:`FeatureIndex` of ``cid``, rebuilt when its revision changes.

    Raises
    ------
    DataNotFoundError
        Unknown collection.
    """
    ws.collection(cid)
    rev = ws.revision(cid)
    with _INDEX_LOCK:
        per_ws = _INDEXES.setdefault(ws, {})
        idx = per_ws.get(cid)
        if idx is not None and idx.revision == rev:
            return idx
    frame = ws.features(cid)
    idx = FeatureIndex(cid, rev, frame, crs_uri(ws.crs))
    with _INDEX_LOCK:
        _INDEXES.setdefault(ws, {})[cid] = idx
    return idx


def queryable_columns(frame: gpd.GeoDataFrame) -> list[str]:
    """The properties of a collection: every column but ``fid`` and the geometry."""
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else "geometry"
    return [str(c) for c in frame.columns if c not in ("fid", geom)]


@dataclass(frozen=True)
class ItemsQuery:
    """Parameters of an items request, already checked.

    Attributes
    ----------
    bbox : tuple of float or None
        minx, miny, maxx, maxy in ``bbox_crs``.
    bbox_crs : str
        URI of the bbox CRS.
    crs : str
        URI of the output CRS.
    limit, offset : int
        Paging.
    filter : str or None
        CQL2 filter in ``filter_lang``.
    filter_lang : str
        ``cql2-text`` or ``cql2-json``.
    filter_crs : str
        URI of the CRS of the filter's geometry literals.
    """

    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: str = CRS84
    crs: str = CRS84
    limit: int = 100
    offset: int = 0
    filter: str | None = None
    filter_lang: str = "cql2-text"
    filter_crs: str = CRS84


@dataclass(frozen=True)
class QueryResult:
    """Features of one page and the number matched by the whole query."""

    features: gpd.GeoDataFrame
    number_matched: int


def geometry_column(index: FeatureIndex, uri: str, rows: np.ndarray) -> cql2.GeometryColumn:
    """The geometries of ``rows`` in ``uri``, pre-selected by the STRtree of ``uri``."""
    values = np.asarray(index.in_crs(uri).geometry.array)[rows]
    tree = index.tree(uri)

    def near(geom: shapely.Geometry) -> np.ndarray:
        mask = np.zeros(len(index.frame), dtype=bool)
        mask[tree.query(geom)] = True
        return mask[rows]

    return cql2.GeometryColumn(values, near)


def match_rows(index: FeatureIndex, query: ItemsQuery) -> np.ndarray:
    """Row positions (ascending) matching the bbox and filter of ``query``.

    The bbox, and the geometry literals every match must meet (a spatial function
    AND-ed at the top of the filter), select rows through the STRtree first; the
    filter is then evaluated on those rows only.
    """
    expr = None
    if query.filter is not None and query.filter.strip():
        expr = parse_filter(query.filter, query.filter_lang)
        cql2.check_properties(expr, [*queryable_columns(index.frame), cql2.GEOMETRY])
    if query.bbox is not None:
        rows = index.bbox_rows(query.bbox, query.bbox_crs)
    else:
        rows = np.arange(len(index.frame))
    if expr is None:
        return rows
    for geom in cql2.spatial_prefilters(expr):
        near = np.zeros(len(index.frame), dtype=bool)
        near[index.tree(query.filter_crs).query(geom)] = True
        rows = rows[near[rows]]
    if len(rows):
        props = index.properties(sorted(cql2.properties(expr) - {cql2.GEOMETRY}), rows)
        geometry = None
        if cql2.has_spatial(expr):
            geometry = geometry_column(index, query.filter_crs, rows)
        rows = rows[cql2.evaluate(expr, props, geometry)]
    return rows


def run_query(index: FeatureIndex, query: ItemsQuery) -> QueryResult:
    """Answer an items query: matching rows, then one page of them in ``query.crs``."""
    rows = match_rows(index, query)
    page = rows[query.offset : query.offset + query.limit]
    return QueryResult(index.in_crs(query.crs).iloc[page], len(rows))
