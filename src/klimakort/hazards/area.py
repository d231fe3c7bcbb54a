"""Every hazard of a configured area, for chosen climate scenarios.

For each scenario (``present``, ``2050``, ``2100`` or an area override) klimakort
derives:

* cloudburst flood depth for the scenario's design rain (T-year, 1 hour, climate
  factor applied) routed over the bluespot network (fill–spill);
* sea-level inundation connected to the sea for the scenario's storm-surge level
  (present T-year return level + mean sea-level rise), land at risk if a barrier
  fails, and critical points;
* depth to groundwater with the scenario's groundwater rise, and its classes.

The rain-flow analysis and the minimum flooding level do not depend on the
scenario and are computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import xarray as xr

from klimakort.config.area import AreaConfig
from klimakort.errors import ConfigError
from klimakort.hazards.scenarios import Scenario, load_scenario
from klimakort.io.raster import check_same_grid, read_raster, write_cog
from klimakort.io.vector import read_vector, write_vector

if TYPE_CHECKING:  # the kernels load only when hazards are computed, not to read a store
    from klimakort.hazards.cloudburst import CloudburstResult
    from klimakort.hazards.groundwater import GroundwaterResult, HeadSurface
    from klimakort.hazards.sealevel import SeaLevelResult
    from klimakort.hydro.rainflow import Rainflow

Progress = Callable[[str], None]


@dataclass(frozen=True)
class HazardOptions:
    """Return periods used for the scenario hazards.

    Attributes
    ----------
    rain_return_period : int
        Design cloudburst return period (years), e.g. 100.
    surge_return_period : int
        Storm-surge return period (years), e.g. 100.
    sewer_mm : float
        Rain the sewer takes away during the event (mm).
    """

    rain_return_period: int = 100
    surge_return_period: int = 100
    sewer_mm: float = 0.0


@dataclass
class ScenarioHazards:
    """The hazards of one scenario."""

    scenario: Scenario
    rain_mm: float
    sea_level_m: float
    cloudburst: CloudburstResult
    sea: SeaLevelResult
    groundwater: GroundwaterResult | None


@dataclass
class AreaHazards:
    """Hazards of an area for several scenarios, with the shared rain-flow analysis."""

    area: AreaConfig
    terrain: xr.DataArray
    rainflow: Rainflow
    options: HazardOptions
    scenarios: dict[str, ScenarioHazards] = field(default_factory=dict)


def _layer(cfg: AreaConfig, key: str) -> gpd.GeoDataFrame | None:
    ref = cfg.layers.get(key)
    if ref is None:
        return None
    return read_vector(ref.path, crs=cfg.crs, layer=ref.layer, id_field=ref.id_field)


def _head(cfg: AreaConfig, dem: xr.DataArray) -> xr.DataArray | HeadSurface | None:
    gw = cfg.groundwater
    if gw is None:
        return None
    if gw.kind == "raster":
        head = read_raster(gw.path, expected_crs=cfg.crs)
        check_same_grid(dem, head, "groundwater head vs terrain")
        return head
    if not gw.field:
        raise ConfigError(f"groundwater.field: name the head field of {gw.path.name}")
    from klimakort.hazards.groundwater import head_surface_from_vector

    return head_surface_from_vector(read_vector(gw.path, crs=cfg.crs, layer=gw.layer), gw.field)


def runoff_coefficient(cfg: AreaConfig, dem: xr.DataArray) -> xr.DataArray | float:
    """The area's cloudburst runoff coefficient: from imperviousness, else 1.0 everywhere.

    Parameters
    ----------
    cfg : AreaConfig
        The area (its ``imperviousness`` raster, if any).
    dem : xarray.DataArray
        The terrain the coefficient must share a grid with (NaN = nodata).
    """
    if cfg.imperviousness is None:
        return 1.0
    imp = read_raster(cfg.imperviousness.path, expected_crs=cfg.crs)
    check_same_grid(dem, imp, "imperviousness vs terrain")
    # runoff coefficient: sealed surfaces shed 90 %, green surfaces still 20 % of a
    # cloudburst (saturated soil); a documented, simple rational-method choice
    coeff = (0.2 + 0.7 * imp.clip(0.0, 1.0)).where(np.isfinite(dem))
    coeff.attrs = {"source": f"0.2 + 0.7 x imperviousness ({cfg.imperviousness.path.name})"}
    return coeff


def compute_hazards(
    cfg: AreaConfig,
    scenarios: Sequence[str] = ("present", "2050", "2100"),
    options: HazardOptions | None = None,
    progress: Progress | None = None,
) -> AreaHazards:
    """Compute every hazard of ``cfg`` for ``scenarios``.

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    scenarios : sequence of str
        Scenario names; area.toml overrides are applied.
    options : HazardOptions, optional
        Return periods and sewer capacity.
    progress : callable, optional
        Step messages.

    Returns
    -------
    AreaHazards
    """
    options = options or HazardOptions()
    say = progress or (lambda _m: None)
    loaded = resolve_scenarios(cfg, scenarios)
    say("reading terrain, sea, barriers, groundwater and imperviousness")
    dem = read_raster(cfg.terrain.path, expected_crs=cfg.crs)
    sea = _layer(cfg, "sea")
    from klimakort.hydro.area import run_area_rainflow

    rf = run_area_rainflow(cfg, progress=say, terrain=dem, sea=sea)
    out = AreaHazards(area=cfg, terrain=dem, rainflow=rf, options=options)
    out.scenarios.update(compute_scenarios(cfg, dem, rf, loaded, options, say, sea=sea))
    return out


def resolve_scenarios(cfg: AreaConfig, names: Sequence[str]) -> list[Scenario]:
    """The scenarios ``names`` with the area's overrides applied."""
    return [load_scenario(name, cfg.scenarios.get(name)) for name in names]


def compute_scenarios(
    cfg: AreaConfig,
    dem: xr.DataArray,
    rf: Rainflow,
    scenarios: Sequence[Scenario],
    options: HazardOptions,
    progress: Progress | None = None,
    *,
    sea: gpd.GeoDataFrame | None = None,
) -> dict[str, ScenarioHazards]:
    """The hazards of ``scenarios`` over an area's terrain and its rain-flow analysis.

    Parameters
    ----------
    cfg : AreaConfig
        The area (sea, barriers, groundwater and imperviousness are read from it).
    dem : xarray.DataArray
        The area's terrain as read (before burn-in).
    rf : Rainflow
        The rain-flow analysis of the conditioned terrain.
    scenarios : sequence of Scenario
        Resolved scenarios (:func:`resolve_scenarios`).
    options : HazardOptions
        Return periods and sewer capacity.
    progress : callable, optional
        Step messages.
    sea : GeoDataFrame, optional
        The sea layer when the caller has read it already.

    Returns
    -------
    dict
        Scenario name -> :class:`ScenarioHazards`, in the order given.
    """
    from klimakort.hazards.cloudburst import cloudburst
    from klimakort.hazards.groundwater import groundwater_depth
    from klimakort.hazards.sealevel import sealevel_analysis

    say = progress or (lambda _m: None)
    if sea is None:
        sea = _layer(cfg, "sea")
    barriers = _layer(cfg, "barriers")
    crest = (cfg.layers["barriers"].crest_field or "crest_m") if barriers is not None else "crest_m"
    head = _head(cfg, dem)
    runoff = runoff_coefficient(cfg, rf.terrain)
    out: dict[str, ScenarioHazards] = {}
    for sc in scenarios:
        rain = sc.design_rain_mm(options.rain_return_period)
        level = sc.still_water_level(options.surge_return_period)
        say(f"{sc.name}: cloudburst {rain:.1f} mm (T{options.rain_return_period})")
        cb = cloudburst(rf, rain, runoff=runoff, sewer_mm=options.sewer_mm, scenario=sc.name)
        say(f"{sc.name}: sea level {level:.2f} m DVR90 (T{options.surge_return_period})")
        sea_res = sealevel_analysis(dem, level, sea, barriers, crest_field=crest)
        gw = None
        if head is not None:
            say(f"{sc.name}: groundwater (+{sc.groundwater_rise_m.value:.2f} m)")
            gw = groundwater_depth(dem, head, rise=sc.groundwater_rise_m.value)
        out[sc.name] = ScenarioHazards(sc, rain, level, cb, sea_res, gw)
    return out


def _tags(sh: ScenarioHazards, keys: Sequence[str]) -> dict[str, str]:
    src = sh.scenario.sources()
    return {f"source_{k}": src[k] for k in keys if k in src}


def write_hazards(
    hz: AreaHazards, out_dir: str | Path, progress: Progress | None = None
) -> dict[str, Path]:
    """Write every scenario's hazards as COGs/GeoPackages under ``out_dir/SCENARIO/``.

    Returns
    -------
    dict
        ``"SCENARIO/product"`` -> path.
    """
    from klimakort.hazards.cloudburst import write_cloudburst

    say = progress or (lambda _m: None)
    out = Path(out_dir)
    written: dict[str, Path] = {}
    opts = hz.options
    area = hz.area.name
    first = next(iter(hz.scenarios.values()), None)
    if first is not None:  # the same for every scenario: written once
        written["min_flood_level"] = write_cog(
            first.sea.min_flood_level,
            out / "min_flood_level.tif",
            units="m DVR90",
            source=f"klimakort priority flood from the sea (barriers at crest), {area}",
            description="lowest sea level that floods the cell (-inf = sea, +inf = never)",
            resampling="NEAREST",
        )
    for name, sh in hz.scenarios.items():
        d = out / name
        say(f"writing {name}")
        files = write_cloudburst(sh.cloudburst, d / "cloudburst")
        written.update({f"{name}/{k}": v for k, v in files.items()})
        sea_tags = {
            "sea_level_m": f"{sh.sea_level_m:.3f}",
            "return_period": str(opts.surge_return_period),
            **_tags(sh, ["sea_level_rise_m", f"storm_surge_m.{opts.surge_return_period}"]),
        }
        written[f"{name}/sea_depth"] = write_cog(
            sh.sea.depth,
            d / "sea_inundation_depth.tif",
            units="m",
            scenario=name,
            source=f"klimakort sea-level inundation connected to the sea, {area}",
            description="depth of connected sea inundation",
            extra_tags=sea_tags,
        )
        written[f"{name}/sea_at_risk"] = write_cog(
            sh.sea.at_risk,
            d / "sea_at_risk.tif",
            units="1 = at risk if a barrier fails",
            scenario=name,
            source=f"klimakort low land below the sea level, {area}",
            extra_tags=sea_tags,
        )
        written[f"{name}/critical_points"] = write_vector(
            sh.sea.critical_points, d / "critical_points.gpkg"
        )
        if sh.groundwater is not None:
            gw_tags = {
                "rise_m": f"{sh.scenario.groundwater_rise_m.value:.3f}",
                **_tags(sh, ["groundwater_rise_m"]),
            }
            written[f"{name}/groundwater_depth"] = write_cog(
                sh.groundwater.depth,
                d / "groundwater_depth.tif",
                units="m below terrain",
                scenario=name,
                source=f"klimakort terrain - groundwater head, {area}",
                extra_tags=gw_tags,
            )
            written[f"{name}/groundwater_classes"] = write_cog(
                sh.groundwater.classes,
                d / "groundwater_classes.tif",
                units="class 1: 0-1 m, 2: 1-2 m, 3: 2-3 m, 4: >3 m",
                scenario=name,
                source=f"klimakort groundwater depth classes, {area}",
                extra_tags=gw_tags,
            )
    return written
