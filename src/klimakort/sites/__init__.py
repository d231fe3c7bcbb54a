"""Planned sites: validation and editable stores (GeoPackage or PostGIS).

:func:`open_store` picks the store of an area: its ``[layers.planned_sites]`` GeoPackage,
or a PostGIS table when a database URL is given. Clients' GeoJSON is checked by
:func:`klimakort.sites.validate.site_from_feature` before it reaches a store, and stores
check every site again, so nothing invalid is ever written.
"""

from __future__ import annotations

import logging
from pathlib import Path

from klimakort.config.area import AreaConfig
from klimakort.errors import ConflictError, ReadOnlyError
from klimakort.sites.base import Site, SiteStore
from klimakort.sites.gpkg import GpkgSiteStore

log = logging.getLogger(__name__)

__all__ = [
    "ConflictError",
    "GpkgSiteStore",
    "ReadOnlyError",
    "Site",
    "SiteStore",
    "area_bounds",
    "open_store",
]

#: where a GeoPackage is created for an area without planned sites (relative to area.toml)
DEFAULT_GPKG = Path("layers") / "planned_sites.gpkg"


def area_bounds(cfg: AreaConfig) -> tuple[float, float, float, float]:
    """Bounds (xmin, ymin, xmax, ymax) of the area's terrain model (header read only)."""
    import rasterio

    with rasterio.open(cfg.terrain.path) as src:
        b = src.bounds
    return (float(b.left), float(b.bottom), float(b.right), float(b.top))


def _gpkg_store(cfg: AreaConfig, bounds: tuple[float, float, float, float]) -> GpkgSiteStore:
    ref = cfg.layers.get("planned_sites")
    if ref is None:
        path = cfg.base_dir / DEFAULT_GPKG
        if not path.exists():
            GpkgSiteStore.create_empty(path, cfg.crs)
            log.warning(
                "area %r has no [layers.planned_sites]: created an empty GeoPackage at %s "
                "for planned sites (add it to area.toml to use it in analyses)",
                cfg.name,
                path,
            )
        else:
            log.info("area %r: planned sites in %s (not named in area.toml)", cfg.name, path)
        return GpkgSiteStore(path, cfg.crs, bounds=bounds)
    fields = {"site_id": ref.id_field, "measure": ref.measure_field, "name": ref.name_field}
    return GpkgSiteStore(
        ref.path,
        cfg.crs,
        layer=ref.layer,
        fields={k: v for k, v in fields.items() if v},
        bounds=bounds,
    )


def open_store(
    cfg: AreaConfig,
    database_url: str | None,
    *,
    seed: bool = True,
    table: str = "planned_sites",
) -> SiteStore:
    """The planned-site store of an area.

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    database_url : str or None
        None: the area's planned-sites GeoPackage (``[layers.planned_sites]``; an empty
        ``layers/planned_sites.gpkg`` beside area.toml is created, with a warning, when the
        area names none). A PostgreSQL URL: a PostGIS table.
    seed : bool
        With PostGIS, copy the area's GeoPackage sites into a table never written before.
    table : str
        PostGIS table name.

    Returns
    -------
    SiteStore
        A :class:`GpkgSiteStore` or a :class:`~klimakort.sites.postgis.PostgisSiteStore`.
    """
    bounds = area_bounds(cfg)
    if not database_url:
        return _gpkg_store(cfg, bounds)
    from klimakort.sites.postgis import PostgisSiteStore

    source = None
    if seed and "planned_sites" in cfg.layers:
        source = _gpkg_store(cfg, bounds)
    return PostgisSiteStore(database_url, cfg.crs, table=table, seed_from=source, bounds=bounds)
