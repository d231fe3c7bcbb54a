"""A printable map sheet (PDF, or an HTML print page) of a parcel, a local plan or a bbox.

One A4 landscape sheet that a planner can attach to a political note or a local plan:

* the map: hillshaded terrain, the hazard layers asked for (``layers``, coloured as in the
  web map: :func:`klimakort.tiles.legend.legend`) for one scenario, parcel and building
  outlines, the parcel or plan in focus; a scale bar (round length, the printed scale
  ``1:N`` next to it), a north arrow (grid north of the area CRS) and the coordinates;
* beside it: the title, the scenario with its design values (rain, sea level,
  groundwater rise), the date, the legend of every layer drawn, the summary of the
  parcel's or plan's climate report (worst verdict, the findings that decide it) and the
  sources (layer names and file names relative to the area).

Rendered with matplotlib's own PDF backend (a ``Figure`` per call, no pyplot state: safe
in the API's thread pool); fonts are DejaVu Sans (shipped with matplotlib, æøå and ²).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from klimakort.errors import DataNotFoundError, ParameterError
from klimakort.io.atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from klimakort.service.workspace import Workspace

Lang = Literal["da", "en"]
Format = Literal["pdf", "png", "html"]

#: hazard layers drawn when none are asked for
DEFAULT_LAYERS: tuple[str, ...] = ("cloudburst_depth", "sea_depth")
#: most raster layers on one sheet
MAX_LAYERS = 4
#: A4 landscape, inches
SHEET_IN = (11.69, 8.27)
#: map frame on the sheet (figure fraction: left, bottom, width, height)
MAP_FRAME = (0.07, 0.08, 0.575, 0.84)
#: largest side (cells) a raster is drawn with (strided above it)
RASTER_MAX_CELLS = 1600
#: margin around a parcel or plan (m, at least; 15 % of the feature otherwise)
MARGIN_M = 60.0
#: the largest bbox printed (km²)
MAX_BBOX_KM2 = 400.0

TEXT: dict[str, dict[str, str]] = {
    "da": {
        "title": "Klimakort",
        "legend": "Signaturforklaring",
        "scenario": "Scenarie",
        "date": "Dato",
        "sources": "Kilder",
        "summary": "Klimarapport",
        "worst": "Samlet vurdering",
        "no_findings": "Ingen regler udløst.",
        "parcel": "Matrikel",
        "plan": "Lokalplan",
        "bbox": "Udsnit",
        "parcels": "Matrikelskel",
        "buildings": "Bygninger",
        "focus": "Valgt område",
        "scale": "Målestok ca.",
        "north": "N",
        "north_note": "Nord = kortnord",
        "rain": "Regn",
        "in_hour": "på 1 time",
        "sea": "Havniveau",
        "gw": "Grundvandsstigning",
        "synthetic": "SYNTETISKE DATA – ikke et rigtigt område",
        "present": "Nutid",
        "hillshade": "Skyggekort af terrænmodellen",
        "made_with": "Lavet med klimakort",
        "no_data": "ingen data / under tærskel",
    },
    "en": {
        "title": "Klimakort",
        "legend": "Legend",
        "scenario": "Scenario",
        "date": "Date",
        "sources": "Sources",
        "summary": "Climate report",
        "worst": "Overall verdict",
        "no_findings": "No rule triggered.",
        "parcel": "Parcel",
        "plan": "Local plan",
        "bbox": "Extent",
        "parcels": "Parcel boundaries",
        "buildings": "Buildings",
        "focus": "Selected area",
        "scale": "Scale approx.",
        "north": "N",
        "north_note": "North = grid north",
        "rain": "Rain",
        "in_hour": "in 1 hour",
        "sea": "Sea level",
        "gw": "Groundwater rise",
        "synthetic": "SYNTHETIC DATA – not a real area",
        "present": "Present",
        "hillshade": "Hillshade of the terrain model",
        "made_with": "Made with klimakort",
        "no_data": "no data / below threshold",
    },
}
VERDICTS: dict[str, dict[str, str]] = {
    "da": {"pass": "ok", "attention": "opmærksomhed", "applies": "gælder", "fail": "ikke ok"},
    "en": {"pass": "pass", "attention": "attention", "applies": "applies", "fail": "fail"},
}
_VERDICT_COLOUR = {
    "pass": "#1a9850",
    "attention": "#fdae61",
    "applies": "#74add1",
    "fail": "#d73027",
}
_VERDICT_RANK = {"fail": 0, "attention": 1, "applies": 2, "pass": 3}


@dataclass(frozen=True)
class PrintRequest:
    """What to print.

    Attributes
    ----------
    parcel, plan : str, optional
        A parcel id (matrikel) or a local plan (plannr/planid): the map centres on it and
        the sheet carries its climate report summary.
    bbox : (xmin, ymin, xmax, ymax), optional
        An extent instead (``bbox_crs``: CRS84 lon/lat or EPSG:25832).
    scenario : str, optional
        Climate scenario (the area's default when omitted).
    layers : tuple of str
        Raster layers drawn over the hillshade (at most :data:`MAX_LAYERS`).
    lang : {"da", "en"}
        Language of the sheet.
    title : str, optional
        Own title instead of "Klimakort – area".
    """

    parcel: str | None = None
    plan: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: str | None = None
    scenario: str | None = None
    layers: tuple[str, ...] = DEFAULT_LAYERS
    lang: Lang = "da"
    title: str | None = None
    today: date = field(default_factory=date.today)


@dataclass
class PrintSheet:
    """A rendered sheet with what it shows (for tests and the HTML page)."""

    figure: Figure
    title: str
    subject: str
    scenario: str
    bounds: tuple[float, float, float, float]
    scale_label: str
    scale_denominator: int
    legend_titles: list[str]
    sources: list[dict[str, str]]
    report: dict[str, Any] | None

    def to_bytes(self, fmt: Format = "pdf", *, dpi: int = 150) -> bytes:
        """The sheet as PDF (vector text) or PNG bytes."""
        buf = io.BytesIO()
        if fmt == "pdf":
            meta = {"Title": self.title, "Subject": self.subject, "Creator": "klimakort"}
            self.figure.savefig(buf, format="pdf", metadata=meta)
        elif fmt == "png":
            self.figure.savefig(buf, format="png", dpi=dpi)
        else:
            raise ParameterError(f"format {fmt!r}: use pdf or png")
        return buf.getvalue()


# --------------------------------------------------------------------------- extent


def _check_request(ws: Workspace, req: PrintRequest) -> list[str]:
    chosen = [n for n, v in (("parcel", req.parcel), ("plan", req.plan), ("bbox", req.bbox)) if v]
    if len(chosen) > 1:
        raise ParameterError(f"give one of parcel, plan and bbox, not {' and '.join(chosen)}")
    if req.lang not in TEXT:
        raise ParameterError(f"lang must be da or en, got {req.lang!r}")
    layers = list(dict.fromkeys(req.layers))
    if len(layers) > MAX_LAYERS:
        raise ParameterError(f"at most {MAX_LAYERS} layers on one sheet, got {len(layers)}")
    for layer in layers:
        if layer == "hillshade":
            raise ParameterError("the hillshade is always drawn: leave it out of layers")
        ws.raster_layer(layer)  # DataNotFoundError names the known layers
    return layers


def _bbox_in_area(ws: Workspace, bbox: Sequence[float], bbox_crs: str | None) -> tuple[float, ...]:
    from klimakort.io.geojson_input import transformer
    from klimakort.service.crs import EPSG25832_URI, parse_crs

    if len(bbox) != 4:
        raise ParameterError(f"bbox needs 4 numbers (xmin, ymin, xmax, ymax), got {len(bbox)}")
    x0, y0, x1, y1 = (float(v) for v in bbox)
    if not (x0 < x1 and y0 < y1) or not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ParameterError(f"bbox {list(bbox)} must have xmin < xmax and ymin < ymax")
    crs = parse_crs(bbox_crs, param="bbox-crs")
    if crs != EPSG25832_URI:
        if not (-180 <= x0 <= 180 and -90 <= y0 <= 90 and -180 <= x1 <= 180 and -90 <= y1 <= 90):
            raise ParameterError(f"bbox {list(bbox)} is not lon/lat; send bbox-crs=EPSG:25832")
        x0, y0, x1, y1 = transformer(crs, str(ws.cfg.crs)).transform_bounds(x0, y0, x1, y1)
    if (x1 - x0) * (y1 - y0) / 1e6 > MAX_BBOX_KM2:
        raise ParameterError(
            f"bbox covers more than {MAX_BBOX_KM2:.0f} km²; print a smaller extent"
        )
    a = ws.bounds
    if x1 <= a[0] or x0 >= a[2] or y1 <= a[1] or y0 >= a[3]:
        raise DataNotFoundError(f"bbox {list(bbox)} lies outside the area {ws.name}")
    return (x0, y0, x1, y1)


def _framed(
    bounds: Sequence[float], aspect: float, pad: float
) -> tuple[float, float, float, float]:
    """``bounds`` padded by ``pad`` and widened to the map frame's aspect (width/height)."""
    x0, y0, x1, y1 = bounds
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    w, h = x1 - x0, y1 - y0
    if w / h < aspect:
        extra = (h * aspect - w) / 2
        x0, x1 = x0 - extra, x1 + extra
    else:
        extra = (w / aspect - h) / 2
        y0, y1 = y0 - extra, y1 + extra
    return (x0, y0, x1, y1)


def _report(ws: Workspace, req: PrintRequest, scenario: str) -> dict[str, Any] | None:
    from klimakort.constraints.report import parcel_report, plan_report

    if req.parcel:
        return parcel_report(ws.cfg, ws.hz, req.parcel, scenario, sites=ws.stored_sites())
    if req.plan:
        return plan_report(ws.cfg, ws.hz, req.plan, scenario, sites=ws.stored_sites())
    return None


# --------------------------------------------------------------------------- drawing


def _crop(da: Any, bounds: Sequence[float]) -> Any:
    x0, y0, x1, y1 = bounds
    ys = da.y.values
    ysl = slice(y1, y0) if ys[0] > ys[-1] else slice(y0, y1)
    return da.sel(x=slice(x0, x1), y=ysl)


def _extent(da: Any) -> tuple[float, float, float, float]:
    dx, dy = (abs(float(r)) for r in da.rio.resolution())
    return (
        float(da.x.min()) - dx / 2,
        float(da.x.max()) + dx / 2,
        float(da.y.min()) - dy / 2,
        float(da.y.max()) + dy / 2,
    )


def _strided(da: Any) -> Any:
    step = max(1, math.ceil(max(da.shape[-2:]) / RASTER_MAX_CELLS))
    return da if step == 1 else da.isel(x=slice(None, None, step), y=slice(None, None, step))


def _draw_raster(
    ax: Axes, ws: Workspace, layer: str, scenario: str, bounds: Sequence[float]
) -> bool:
    from klimakort.tiles.colormap import resolve_style, to_index

    info = ws.raster_layer(layer)
    da = _crop(ws.raster(layer, scenario), bounds)
    if da.size == 0 or min(da.shape[-2:]) < 2:
        return False
    da = _strided(da)
    values = np.asarray(da.values, dtype=np.float64)
    if values.ndim == 3:
        values = values[0]
    if layer == "hillshade":
        ax.imshow(
            values, cmap="gray", vmin=0, vmax=255, extent=_extent(da), alpha=0.75,
            interpolation="bilinear", zorder=1,
        )  # fmt: skip
        return True
    style = resolve_style(info)
    rgba = style.palette[to_index(values, style)]
    ax.imshow(rgba, extent=_extent(da), interpolation="nearest", alpha=0.85, zorder=2)
    return True


def outline_path(geoms: Any) -> Any:
    """One matplotlib ``Path`` of every ring of ``geoms`` (drawn in one go: a sheet of a
    whole area has thousands of parcels, and one path per parcel makes PDFs slow)."""
    import shapely
    from matplotlib.path import Path as MplPath

    lines = shapely.get_parts(shapely.boundary(shapely.get_parts(np.asarray(geoms))))
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return None
    xy, index = shapely.get_coordinates(lines, return_index=True)
    codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
    codes[np.r_[0, np.flatnonzero(np.diff(index)) + 1]] = MplPath.MOVETO
    return MplPath(xy, codes)


def _draw_vectors(ax: Axes, ws: Workspace, bounds: Sequence[float], focus: Any | None) -> list[str]:
    """Parcel and building outlines, the feature in focus; the vector legend entries drawn."""
    import shapely
    from matplotlib.patches import PathPatch

    box = shapely.box(bounds[0], bounds[1], bounds[2], bounds[3])
    drawn = []
    for cid, face, edge, lw, z in (
        ("buildings", "#bbbbbb", "#333333", 0.4, 3),
        ("parcels", "none", "#555555", 0.45, 4),
    ):
        if cid not in ws.collections:
            continue
        gdf = ws.features(cid)
        geoms = gdf.geometry.values[gdf.geometry.intersects(box).to_numpy()]
        path = outline_path(geoms) if len(geoms) else None
        if path is None:
            continue
        if face != "none":
            ax.add_artist(PathPatch(path, facecolor=face, edgecolor="none", alpha=0.7, zorder=z))
        ax.add_artist(PathPatch(path, facecolor="none", edgecolor=edge, linewidth=lw, zorder=z))
        drawn.append(cid)
    if focus is not None:
        path = outline_path([focus])
        if path is not None:
            ax.add_patch(PathPatch(path, facecolor="none", edgecolor="#000000", lw=3.2, zorder=5))
            ax.add_patch(PathPatch(path, facecolor="none", edgecolor="#ffd400", lw=1.8, zorder=6))
            drawn.append("focus")
    return drawn


def nice_length(max_m: float) -> float:
    """The largest 1, 2 or 5 × 10^k metres not above ``max_m``."""
    if max_m <= 0:
        raise ParameterError("the scale bar needs a positive length")
    k = math.floor(math.log10(max_m))
    for m in (5, 2, 1):
        if m * 10**k <= max_m:
            return float(m * 10**k)
    return float(10 ** (k - 1) * 5)


def length_label(metres: float) -> str:
    """``500 m``, ``1 km``, ``2.5 km``."""
    if metres >= 1000:
        km = metres / 1000
        return f"{km:g} km"
    return f"{metres:g} m"


def _scale_bar(ax: Axes, bounds: Sequence[float], t: dict[str, str], denominator: int) -> str:
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = bounds
    length = nice_length((x1 - x0) / 4)
    h = (y1 - y0) * 0.012
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    ax.add_patch(
        Rectangle(
            (bx - (x1 - x0) * 0.015, by - h * 2.2), length + (x1 - x0) * 0.03, h * 6.4,
            facecolor="white", edgecolor="none", alpha=0.85, zorder=9,
        )
    )  # fmt: skip
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 4, by), length / 4, h,
                facecolor="black" if i % 2 == 0 else "white", edgecolor="black", lw=0.6, zorder=10,
            )
        )  # fmt: skip
    label = length_label(length)
    ax.text(bx, by + h * 1.5, "0", fontsize=7, ha="center", va="bottom", zorder=11)
    ax.text(bx + length, by + h * 1.5, label, fontsize=7, ha="center", va="bottom", zorder=11)
    ax.text(
        bx + length / 2, by - h * 0.6, f"{t['scale']} 1:{denominator:,}".replace(",", "."),
        fontsize=6.5, ha="center", va="top", zorder=11,
    )  # fmt: skip
    return label


def _north_arrow(ax: Axes, t: dict[str, str]) -> None:
    ax.annotate(
        "", xy=(0.94, 0.95), xytext=(0.94, 0.86), xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "white", "width": 4, "headwidth": 12},
        zorder=12,
    )  # fmt: skip
    ax.text(
        0.94, 0.965, t["north"], transform=ax.transAxes, ha="center", va="bottom",
        fontsize=12, fontweight="bold", zorder=12,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
    )  # fmt: skip


def _legend_entry(
    fig: Figure, ws: Workspace, layer: str, lang: Lang, top: float
) -> tuple[float, str]:
    """Draw one raster legend at ``top`` (figure fraction); return the next top and title."""
    from matplotlib.colors import to_rgba

    from klimakort.tiles.legend import legend

    lg = legend(ws.raster_layer(layer), lang=lang)
    title = str(lg["title"]) + (f" ({lg['units']})" if lg.get("units") else "")
    fig.text(0.675, top, title, fontsize=7.5, fontweight="bold", va="top")
    top -= 0.022
    if lg["type"] == "classes":
        for entry in lg["entries"]:
            fig.patches.append(_swatch(fig, 0.675, top - 0.012, entry["color"]))
            fig.text(0.695, top, str(entry["label"]), fontsize=7, va="top")
            top -= 0.02
        return top - 0.006, title
    stops = lg["stops"]
    ax = fig.add_axes((0.675, top - 0.016, 0.26, 0.014))
    ramp = np.array([[to_rgba(s["color"]) for s in stops]])
    ax.imshow(ramp, aspect="auto", interpolation="bilinear", extent=(0, len(stops) - 1, 0, 1))
    ax.set_yticks([])
    ax.set_xticks(range(len(stops)), [str(s["label"]) for s in stops], fontsize=6.5)
    ax.tick_params(length=2, pad=1)
    for spine in ax.spines.values():
        spine.set_linewidth(0.4)
    return top - 0.05, title


def _swatch(
    fig: Figure, x: float, y: float, colour: str, *, edge: str = "#333333", fill: bool = True
) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x, y), 0.014, 0.012, transform=fig.transFigure, figure=fig,
        facecolor=colour if fill else "none", edgecolor=edge, linewidth=0.8 if fill else 1.6,
    )  # fmt: skip


def _vector_legend(fig: Figure, drawn: Sequence[str], t: dict[str, str], top: float) -> float:
    styles = {
        "parcels": ("none", "#555555", False),
        "buildings": ("#bbbbbb", "#333333", True),
        "focus": ("none", "#ffd400", False),
    }
    for key in drawn:
        face, edge, fill = styles[key]
        fig.patches.append(_swatch(fig, 0.675, top - 0.012, face, edge=edge, fill=fill))
        fig.text(0.695, top, t[key], fontsize=7, va="top")
        top -= 0.02
    fig.patches.append(_swatch(fig, 0.675, top - 0.012, "#9a9a9a", edge="none"))
    fig.text(0.695, top, t["hillshade"], fontsize=7, va="top")
    return top - 0.03


def _scenario_lines(ws: Workspace, scenario: str, t: dict[str, str]) -> list[str]:
    sh = ws.hz.scenarios[scenario]
    name = t["present"] if scenario == "present" else scenario
    opts = ws.hz.options
    return [
        f"{t['scenario']}: {name}",
        f"{t['rain']}: {sh.rain_mm:.0f} mm {t['in_hour']} (T{opts.rain_return_period})",
        f"{t['sea']}: {sh.sea_level_m:.2f} m DVR90 (T{opts.surge_return_period})",
        f"{t['gw']}: +{sh.scenario.groundwater_rise_m.value:.2f} m",
    ]


def _summary_lines(report: dict[str, Any], lang: Lang, t: dict[str, str]) -> list[tuple[str, str]]:
    worst = str(report.get("worst_verdict", "pass"))
    lines = [(f"{t['worst']}: {VERDICTS[lang].get(worst, worst)}", worst)]
    findings = sorted(
        report.get("findings", []), key=lambda f: _VERDICT_RANK.get(str(f.get("verdict")), 9)
    )
    shown = [f for f in findings if f.get("verdict") != "pass"][:5]
    if not shown:
        lines.append((t["no_findings"], "pass"))
    for f in shown:
        text = str(f.get(f"explanation_{lang}") or f.get("explanation_da") or f.get("rule_id"))
        verdict = str(f.get("verdict"))
        wrapped = textwrap.wrap(f"• {VERDICTS[lang].get(verdict, verdict)}: {text}", 66)
        lines.extend((w, verdict if i == 0 else "") for i, w in enumerate(wrapped[:3]))
    return lines


def _relative(path: str, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except (ValueError, OSError):
        return Path(path).name if Path(path).is_absolute() else path


def sheet_sources(ws: Workspace, layers: Sequence[str], scenario: str) -> list[dict[str, str]]:
    """Layer names and files (relative to the area) of what a sheet shows."""
    cfg = ws.cfg
    base = cfg.base_dir
    out = [
        {
            "layer": "terrain model (DVR90), hillshade",
            "path": _relative(str(cfg.terrain.path), base),
        }
    ]
    sh = ws.hz.scenarios[scenario]
    for layer in layers:
        info = ws.raster_layer(layer)
        if layer.startswith(("cloudburst", "bluespot", "accumulation")):
            what = f"{info.title['en']} ({scenario}: {sh.rain_mm:.0f} mm rain)"
            path = cfg.terrain.path
        elif layer.startswith("sea"):
            what = f"{info.title['en']} ({scenario}: {sh.sea_level_m:.2f} m DVR90)"
            sea = cfg.layers.get("sea")
            path = sea.path if sea else cfg.terrain.path
        elif layer.startswith("groundwater") and cfg.groundwater is not None:
            what = f"{info.title['en']} ({scenario})"
            path = cfg.groundwater.path
        else:
            what, path = info.title["en"], cfg.terrain.path
        out.append({"layer": what, "path": _relative(str(path), base)})
    for key in ("parcels", "buildings", "local_plans"):
        ref = cfg.layers.get(key)
        if ref is not None:
            out.append({"layer": key, "path": _relative(str(ref.path), base)})
    src = sh.scenario.sources()
    if src:
        first = next(iter(src.values()))
        out.append({"layer": f"scenario {scenario}", "path": f"scenarios_default.toml ({first})"})
    return out


def _text_column(
    fig: Figure,
    ws: Workspace,
    req: PrintRequest,
    scenario: str,
    subject: str,
    layers: Sequence[str],
    drawn: Sequence[str],
    report: dict[str, Any] | None,
) -> tuple[list[str], list[dict[str, str]]]:
    t = TEXT[req.lang]
    title = req.title or f"{t['title']} – {ws.name}"
    lines = textwrap.wrap(title, 34)[:2]
    top = 0.96
    for line in lines:
        fig.text(0.675, top, line, fontsize=13, fontweight="bold", va="top")
        top -= 0.033
    for line in textwrap.wrap(subject, 48)[:2]:
        fig.text(0.675, top, line, fontsize=10, va="top")
        top -= 0.027
    top -= 0.005
    for line in [*_scenario_lines(ws, scenario, t), f"{t['date']}: {req.today.isoformat()}"]:
        fig.text(0.675, top, line, fontsize=8, va="top")
        top -= 0.02
    top -= 0.01
    fig.text(0.675, top, t["legend"], fontsize=10, fontweight="bold", va="top")
    top -= 0.03
    titles = [t["legend"]]
    for layer in layers:
        top, lt = _legend_entry(fig, ws, layer, req.lang, top)
        titles.append(lt)
    top = _vector_legend(fig, drawn, t, top)
    sources = sheet_sources(ws, layers, scenario)
    lines = [f"{s['layer']}: {s['path']}" for s in sources]
    wrapped = [w for line in lines for w in textwrap.wrap(line, 78)]
    floor = 0.035 + 0.0145 * len(wrapped) + 0.035  # the sources block sits below this
    if report is not None:
        fig.text(0.675, top, t["summary"], fontsize=10, fontweight="bold", va="top")
        top -= 0.026
        for line, verdict in _summary_lines(report, req.lang, t):
            if top < floor + 0.018:
                fig.text(0.675, top, "…", fontsize=7, va="top")
                top -= 0.018
                break
            first = line.startswith(t["worst"])
            colour = _VERDICT_COLOUR.get(verdict, "black") if first else "black"
            fig.text(
                0.675, top, line, fontsize=7, va="top", color=colour,
                fontweight="bold" if first else "normal",
            )  # fmt: skip
            top -= 0.018
        top -= 0.01
    y = min(top, floor) - 0.035
    fig.text(0.675, y + 0.022, t["sources"], fontsize=8, fontweight="bold", va="top")
    for line in wrapped:
        fig.text(0.675, y, line, fontsize=5.8, va="top", color="#333333")
        y -= 0.0145
    return titles, sources


def print_sheet(ws: Workspace, req: PrintRequest) -> PrintSheet:
    """Render the sheet of ``req`` for the served area.

    Raises
    ------
    ParameterError
        Two of parcel/plan/bbox, too many or unknown layers, a bbox out of range.
    DataNotFoundError
        Unknown parcel, plan, layer or scenario; a bbox outside the area.
    """
    import shapely
    from matplotlib.figure import Figure

    layers = _check_request(ws, req)
    scenario = ws.scenario(req.scenario)
    t = TEXT[req.lang]
    report = _report(ws, req, scenario)
    fig = Figure(figsize=SHEET_IN)
    frame_w, frame_h = MAP_FRAME[2] * SHEET_IN[0], MAP_FRAME[3] * SHEET_IN[1]
    aspect = frame_w / frame_h
    focus = None
    if report is not None:
        focus = shapely.geometry.shape(report["feature"]["geometry"])
        fb = focus.bounds
        pad = max(MARGIN_M, 0.15 * max(fb[2] - fb[0], fb[3] - fb[1]))
        bounds = _framed(fb, aspect, pad)
        kind = t["parcel"] if req.parcel else t["plan"]
        subject = f"{kind} {report.get('id') or req.parcel or req.plan}"
        if report.get("name"):
            subject += f" – {report['name']}"
    elif req.bbox is not None:
        bounds = _framed(_bbox_in_area(ws, req.bbox, req.bbox_crs), aspect, 0.0)
        subject = t["bbox"]
    else:
        bounds = _framed(ws.bounds, aspect, 0.0)
        subject = ws.name
    ax = fig.add_axes(MAP_FRAME)
    _draw_raster(ax, ws, "hillshade", scenario, bounds)
    for layer in layers:
        _draw_raster(ax, ws, layer, scenario, bounds)
    drawn = _draw_vectors(ax, ws, bounds, focus)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    ax.set_facecolor("#f4f4f0")
    ax.tick_params(labelsize=6, length=2)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel(f"E (m, {ws.cfg.crs})", fontsize=6.5)
    ax.set_ylabel(f"N (m, {ws.cfg.crs})", fontsize=6.5)
    denominator = _round_scale((bounds[2] - bounds[0]) / (frame_w * 0.0254))
    scale_label = _scale_bar(ax, bounds, t, denominator)
    _north_arrow(ax, t)
    if ws.cfg.synthetic:
        ax.text(
            0.5, 0.985, t["synthetic"], transform=ax.transAxes, ha="center", va="top",
            fontsize=8, color="#b2182b", fontweight="bold", zorder=12,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5},
        )  # fmt: skip
    fig.text(
        MAP_FRAME[0], 0.025, f"{t['made_with']} · {t['north_note']}", fontsize=6, color="#555555"
    )
    titles, sources = _text_column(fig, ws, req, scenario, subject, layers, drawn, report)
    return PrintSheet(
        figure=fig,
        title=req.title or f"{t['title']} – {ws.name}",
        subject=subject,
        scenario=scenario,
        bounds=tuple(float(v) for v in bounds),  # type: ignore[arg-type]
        scale_label=scale_label,
        scale_denominator=denominator,
        legend_titles=titles,
        sources=sources,
        report=report,
    )


def _round_scale(denominator: float) -> int:
    """A printed scale rounded to two significant digits (1:4.800, 1:12.000)."""
    if denominator <= 0 or not math.isfinite(denominator):
        raise ParameterError("the map has no extent")
    digits = max(0, math.floor(math.log10(denominator)) - 1)
    return int(round(denominator / 10**digits) * 10**digits)


def print_html(sheet: PrintSheet, pdf_href: str, *, lang: Lang = "da") -> str:
    """An HTML print page: the sheet as an image, the PDF link, print CSS (A4 landscape)."""
    import base64

    png = base64.b64encode(sheet.to_bytes("png", dpi=110)).decode("ascii")
    t = TEXT[lang]
    label = "Hent PDF" if lang == "da" else "Download PDF"
    print_label = "Udskriv" if lang == "da" else "Print"
    esc = _html_escape
    sources = "".join(
        f"<li>{esc(s['layer'])}: <code>{esc(s['path'])}</code></li>" for s in sheet.sources
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{esc(sheet.title)} – {esc(sheet.subject)}</title>"
        "<style>@page{size:A4 landscape;margin:8mm}body{font-family:sans-serif;margin:1em}"
        "img{width:100%;max-width:1280px;border:1px solid #ccc}.kk-print-bar{margin:.5em 0}"
        "@media print{.kk-print-bar,.kk-print-sources{display:none}body{margin:0}"
        "img{border:none;max-width:none}}</style></head><body>"
        f'<div class="kk-print-bar"><a id="kk-print-pdf" href="{esc(pdf_href)}">{label}</a> · '
        f'<button type="button" onclick="window.print()">{print_label}</button></div>'
        f'<img id="kk-print-sheet" alt="{esc(sheet.title)}: {esc(sheet.subject)}" '
        f'src="data:image/png;base64,{png}">'
        f'<section class="kk-print-sources"><h2>{esc(t["sources"])}</h2>'
        f"<ul>{sources}</ul></section>"
        "</body></html>"
    )


def _html_escape(text: str) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def write_print(ws: Workspace, req: PrintRequest, out: str | Path) -> Path:
    """Render ``req`` and write it atomically: ``.pdf`` or ``.png`` by the file suffix."""
    dest = Path(out)
    fmt = dest.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise ParameterError(f"{dest}: write a .pdf or a .png")
    data = print_sheet(ws, req).to_bytes(fmt)  # type: ignore[arg-type]
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return dest
