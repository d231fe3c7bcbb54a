"""Map layers of the scenario hazards: cloudburst, sea level and groundwater."""

from __future__ import annotations

import xarray as xr

from klimakort.hazards.area import AreaHazards
from klimakort.maps.webmap import RasterStyle, WebMap

CLOUDBURST = RasterStyle("Blues", 0.0, 1.0, "m", opacity=0.85)
SEA = RasterStyle("RdPu", 0.0, 2.0, "m", opacity=0.8)
AT_RISK = RasterStyle("Oranges", 0.0, 1.0, "at risk", opacity=0.6)
GROUNDWATER = RasterStyle("YlGnBu_r", 0.0, 3.0, "m below terrain", opacity=0.75)


def _positive(da: xr.DataArray, threshold: float = 0.0) -> xr.DataArray:
    """Only cells above ``threshold`` (the rest transparent)."""
    return da.where(da > threshold)


def add_hazards(web: WebMap, hz: AreaHazards, *, shown: str | None = "2100") -> None:
    """Add each scenario's hazards as a layer group ``Hazards SCENARIO``.

    Parameters
    ----------
    web : WebMap
        The map.
    hz : AreaHazards
        Computed hazards.
    shown : str, optional
        Scenario whose cloudburst and sea layers are visible when the map opens.
    """
    first = True
    for name, sh in hz.scenarios.items():
        group = f"Hazards {name}"
        show = name == shown
        rain = f"{sh.rain_mm:.0f} mm, T{hz.options.rain_return_period}"
        web.add_raster(
            _positive(sh.cloudburst.flood_depth, 0.01),
            f"Cloudburst depth {name} ({rain})",
            group,
            CLOUDBURST,
            show=show,
            legend=first,
            caption="Cloudburst flood depth",
        )
        level = f"{sh.sea_level_m:.2f} m DVR90, T{hz.options.surge_return_period}"
        web.add_raster(
            _positive(sh.sea.depth),
            f"Sea inundation {name} ({level})",
            group,
            SEA,
            show=show,
            legend=first,
            caption="Sea inundation depth",
        )
        web.add_raster(
            _positive(sh.sea.at_risk.where(sh.sea.at_risk == 1).astype("float32")),
            f"Low land at risk if a barrier fails {name}",
            group,
            AT_RISK,
            legend=False,
        )
        if sh.groundwater is not None:
            rise = sh.scenario.groundwater_rise_m.value
            web.add_raster(
                sh.groundwater.depth,
                f"Depth to groundwater {name} (+{rise:.2f} m)",
                group,
                GROUNDWATER,
                legend=first,
                caption="Depth to groundwater",
            )
        web.add_vector(
            sh.sea.critical_points,
            f"Critical points {name}",
            group,
            color="#ae017e",
            tooltip=("level_m", "extra_area_m2"),
            show=show,
        )
        first = False
