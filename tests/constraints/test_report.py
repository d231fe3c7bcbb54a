"""Climate reports on the synthetic sample: content, JSON schema, HTML, CLI and speed."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
import typer
from shapely.geometry import Polygon
from typer.testing import CliRunner

from klimakort.config import load_area
from klimakort.config.area import AreaConfig, LayerRef
from klimakort.constraints.report import (
    parcel_report,
    plan_report,
    polygon_report,
    render_html,
    validate_report,
    write_report,
)
from klimakort.constraints.rules import VERDICT_ORDER, load_rules
from klimakort.errors import DataNotFoundError, GeometryError, InputError
from klimakort.hazards.area import AreaHazards, compute_hazards
from klimakort.sample import write_sample

SCENARIO = "2100"


@dataclass
class Sample:
    cfg: AreaConfig
    hz: AreaHazards
    parcels: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    plan_geom: Polygon
    dirty_parcel: str
    root: Path


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("report")
    cfg = load_area(write_sample(root / "sample", cell=8.0))
    parcels = gpd.read_file(cfg.layers["parcels"].path)
    buildings = gpd.read_file(cfg.layers["buildings"].path)
    # a local plan over a block of built parcels near the town centre
    built = parcels[parcels["matrikel_id"].isin(buildings["parcel_id"])]
    centre = built.geometry.union_all().centroid
    plan_geom = centre.buffer(120.0)
    plans = gpd.GeoDataFrame(
        {"planid": [1001], "plannr": ["L 7"], "plannavn": ["Klimatilpasset boligområde"]},
        geometry=[plan_geom],
        crs=parcels.crs,
    )
    plans.to_file(root / "local_plans.geojson")
    # contaminated soil over one parcel far from the plan
    dirty = built.iloc[len(built) // 3]
    soil = gpd.GeoDataFrame(
        {"lokalitet": ["V2-1"]}, geometry=[dirty.geometry.buffer(-0.5)], crs=parcels.crs
    )
    soil.to_file(root / "soil.geojson")
    layers = dict(cfg.layers)
    layers["local_plans"] = LayerRef(path=root / "local_plans.geojson")
    layers["contaminated_soil"] = LayerRef(path=root / "soil.geojson")
    cfg = cfg.model_copy(update={"layers": layers})
    hz = compute_hazards(cfg, (SCENARIO,))
    return Sample(cfg, hz, parcels, buildings, plan_geom, str(dirty["matrikel_id"]), root)


def _verdicts(report: dict[str, Any]) -> set[str]:
    return {f["verdict"] for f in report["findings"]}


def test_parcel_report_follows_schema_and_lists_its_buildings(sample: Sample) -> None:
    pid = str(sample.buildings["parcel_id"].iloc[0])
    rep = parcel_report(sample.cfg, sample.hz, pid, SCENARIO)
    validate_report(rep)
    json.dumps(rep, allow_nan=False)  # strict JSON
    assert rep["kind"] == "parcel" and rep["id"] == pid
    assert rep["scenario"]["name"] == SCENARIO
    expected = set(sample.buildings.loc[sample.buildings["parcel_id"] == pid, "building_id"])
    assert {b["id"] for b in rep["buildings"]} == expected
    for b in rep["buildings"]:
        rules = {f["rule_id"] for f in b["findings"]}
        assert "building_flood" in rules  # buildings carry the 1 m buffer measures
        assert b["measures"]["floor_level_m"] is not None  # existing floor from the layer
        worst = max((f["verdict"] for f in b["findings"]), key=VERDICT_ORDER.index)
        assert b["worst_verdict"] == worst
    assert "building_flood" not in {f["rule_id"] for f in rep["findings"]}
    assert rep["feature"]["area_m2"] == pytest.approx(
        float(sample.parcels.loc[sample.parcels["matrikel_id"] == pid].geometry.area.iloc[0])
    )


def test_floor_level_recommendation_respects_sea_level(sample: Sample) -> None:
    pid = str(sample.buildings["parcel_id"].iloc[5])
    rep = parcel_report(sample.cfg, sample.hz, pid, SCENARIO)
    sea = sample.hz.scenarios[SCENARIO].sea_level_m
    for b in rep["buildings"]:
        (fl,) = [f for f in b["findings"] if f["rule_id"] == "floor_level"]
        d = fl["details"]
        assert d["recommended_level_m"] >= sea + 0.30 - 1e-9
        terrain = b["measures"]["terrain_mean_m"]
        assert d["margin_to_terrain_m"] == pytest.approx(d["recommended_level_m"] - terrain)
        assert fl["unit"] == "m DVR90"


def test_findings_name_their_source_files(sample: Sample) -> None:
    pid = str(sample.buildings["parcel_id"].iloc[0])
    rep = parcel_report(sample.cfg, sample.hz, pid, SCENARIO)
    by_rule = {f["rule_id"]: f for f in rep["findings"]}
    gw_paths = {s["path"] for s in by_rule["basements"]["sources"]}
    assert sample.cfg.groundwater is not None
    base = sample.cfg.base_dir
    assert gw_paths == {sample.cfg.groundwater.path.relative_to(base).as_posix()}
    dh = by_rule["district_heating"]
    if dh["verdict"] == "applies":
        zones = sample.cfg.layers["heating_zones"].path
        assert dh["sources"][0]["path"] == zones.relative_to(base).as_posix()
    assert all((base / s["path"]).exists() for s in by_rule["basements"]["sources"])


def _all_sources(report: dict[str, Any]) -> list[dict[str, str]]:
    out = list(report["sources"])
    for f in report["findings"]:
        out += f["sources"]
    for entry in report["buildings"] + report.get("parcels", []):
        for f in entry["findings"]:
            out += f["sources"]
    return out


def test_sources_show_layer_and_file_relative_to_the_area(sample: Sample) -> None:
    """No server path in a report: files inside the area folder are relative to it, files
    elsewhere show their name."""
    pid = str(sample.buildings["parcel_id"].iloc[0])
    reports = [
        parcel_report(sample.cfg, sample.hz, pid, SCENARIO),
        plan_report(sample.cfg, sample.hz, "L 7", SCENARIO),
    ]
    for rep in reports:
        sources = _all_sources(rep)
        assert sources
        for src in sources:
            assert not Path(src["path"]).is_absolute(), src
            assert str(sample.root) not in src["path"] and str(sample.root) not in src["layer"]
            assert src["layer"].strip()
        paths = {s["path"] for s in sources}
        assert "rasters/terrain.tif" in paths, paths
        html = render_html(rep)
        assert str(sample.root) not in html and str(sample.cfg.base_dir) not in html
    # the contaminated-soil file lies outside the area folder: its name only
    dirty = parcel_report(sample.cfg, sample.hz, sample.dirty_parcel, SCENARIO)
    assert "soil.geojson" in {s["path"] for s in _all_sources(dirty)}


def test_contaminated_parcel_is_unsuitable_for_infiltration(sample: Sample) -> None:
    rep = parcel_report(sample.cfg, sample.hz, sample.dirty_parcel, SCENARIO)
    assert rep["measures"]["contaminated"] is True
    (inf,) = [f for f in rep["findings"] if f["rule_id"] == "infiltration"]
    assert inf["verdict"] == "fail"
    assert inf["measure"] == "contaminated"
    other = str(sample.buildings["parcel_id"].iloc[0])
    assert (
        parcel_report(sample.cfg, sample.hz, other, SCENARIO)["measures"]["contaminated"] is False
    )


def test_unknown_parcel_lists_close_matches(sample: Sample) -> None:
    pid = str(sample.buildings["parcel_id"].iloc[0])
    wrong = pid[:-1] + ("x" if pid[-1] != "x" else "y")
    with pytest.raises(DataNotFoundError, match=re.escape(pid)):
        parcel_report(sample.cfg, sample.hz, wrong, SCENARIO)


def test_unknown_scenario(sample: Sample) -> None:
    pid = str(sample.buildings["parcel_id"].iloc[0])
    with pytest.raises(DataNotFoundError, match="2050"):
        parcel_report(sample.cfg, sample.hz, pid, "2050")


def test_plan_report_counts_and_affected_parcels(sample: Sample) -> None:
    rep = plan_report(sample.cfg, sample.hz, "L 7", SCENARIO)
    validate_report(rep)
    assert rep["name"] == "Klimatilpasset boligområde"
    pts = sample.parcels.geometry.representative_point()
    inside = set(sample.parcels.loc[pts.within(sample.plan_geom), "matrikel_id"])
    assert rep["summary"]["parcels"] == len(inside)
    assert sum(rep["summary"]["parcels_by_verdict"].values()) == len(inside)
    bpts = sample.buildings.geometry.representative_point()
    assert rep["summary"]["buildings"] == int(bpts.within(sample.plan_geom).sum())
    affected = sum(rep["summary"]["parcels_by_verdict"][v] for v in ("attention", "fail"))
    assert len(rep["parcels"]) == affected
    for p in rep["parcels"]:
        assert p["id"] in inside
        assert p["worst_verdict"] in ("attention", "fail")
        assert all(b["worst_verdict"] in ("attention", "fail") for b in p["buildings"])
    assert rep["feature"]["area_m2"] == pytest.approx(sample.plan_geom.area, rel=1e-6)


def test_unknown_plan_lists_close_matches(sample: Sample) -> None:
    with pytest.raises(DataNotFoundError, match="L 7"):
        plan_report(sample.cfg, sample.hz, "L7", SCENARIO)


def test_plan_report_needs_a_plan_layer(sample: Sample) -> None:
    layers = {k: v for k, v in sample.cfg.layers.items() if k != "local_plans"}
    cfg = sample.cfg.model_copy(update={"layers": layers})
    with pytest.raises(DataNotFoundError, match="local_plans"):
        plan_report(cfg, sample.hz, "L 7", SCENARIO)


def test_polygon_report_from_geometry_and_file_agree(sample: Sample) -> None:
    from_geom = polygon_report(sample.cfg, sample.hz, sample.plan_geom, SCENARIO)
    validate_report(from_geom)
    from_file = polygon_report(sample.cfg, sample.hz, sample.root / "local_plans.geojson")
    assert from_file["name"] == "local_plans"
    assert from_file["summary"] == from_geom["summary"]
    plan = plan_report(sample.cfg, sample.hz, "L 7", SCENARIO)
    assert from_geom["summary"] == plan["summary"]
    assert from_geom["findings"] == plan["findings"]


def test_polygon_must_be_a_polygon(sample: Sample) -> None:
    with pytest.raises(GeometryError):
        polygon_report(sample.cfg, sample.hz, shapely.Point(0, 0), SCENARIO)


def test_schema_rejects_a_broken_report(sample: Sample) -> None:
    rep = parcel_report(sample.cfg, sample.hz, str(sample.buildings["parcel_id"].iloc[0]))
    rep["findings"][0]["verdict"] = "maybe"
    with pytest.raises(InputError, match="findings/0/verdict"):
        validate_report(rep)
    del rep["scenario"]
    with pytest.raises(InputError):
        validate_report(rep)


def test_html_is_self_contained_with_map_and_table(sample: Sample, tmp_path: Path) -> None:
    rep = parcel_report(sample.cfg, sample.hz, str(sample.buildings["parcel_id"].iloc[0]))
    path = write_report(rep, tmp_path / "out" / "report.html", "html", hz=sample.hz)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    titles = {r["id"]: r["title_da"] for r in rep["rules"]}
    for f in rep["findings"]:
        assert titles[f["rule_id"]] in text  # the rule's title, not its code name
    assert "rasters/terrain.tif" in text and str(sample.cfg.terrain.path) not in text
    assert "syntetiske data" in text
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp leftovers
    assert "data:image/png" not in render_html(rep, None)


def test_json_roundtrip(sample: Sample, tmp_path: Path) -> None:
    rep = plan_report(sample.cfg, sample.hz, "L 7", SCENARIO)
    path = write_report(rep, tmp_path / "plan.json", "json")
    assert json.loads(path.read_text(encoding="utf-8")) == rep
    with pytest.raises(InputError):
        write_report(rep, tmp_path / "plan.pdf", "pdf")  # type: ignore[arg-type]


def test_user_rules_change_the_report(sample: Sample, tmp_path: Path) -> None:
    user = tmp_path / "rules.toml"
    user.write_text("[basements.thresholds.depth]\nvalue = 0.0\n", encoding="utf-8")
    pid = str(sample.buildings["parcel_id"].iloc[0])
    rep = parcel_report(sample.cfg, sample.hz, pid, rules=load_rules(user))
    (b,) = [f for f in rep["findings"] if f["rule_id"] == "basements"]
    assert b["threshold"] == 0.0
    assert b["verdict"] == ("fail" if b["measured"] <= 0.0 else "pass")


def test_parcel_report_is_fast(sample: Sample) -> None:
    pid = str(sample.buildings["parcel_id"].iloc[10])
    parcel_report(sample.cfg, sample.hz, pid)  # warm the layer cache
    t0 = time.perf_counter()
    parcel_report(sample.cfg, sample.hz, pid)
    assert time.perf_counter() - t0 < 2.0  # the brief asks < 1 s; slack for loaded CI


@pytest.fixture
def cli(sample: Sample, monkeypatch: pytest.MonkeyPatch) -> tuple[typer.Typer, list[Any]]:
    from klimakort.cli import report_cmds
    from klimakort.hazards import area as hazards_area

    calls: list[Any] = []

    def fake_compute(cfg: AreaConfig, scenarios: Any, *a: Any, **kw: Any) -> AreaHazards:
        calls.append(tuple(scenarios))
        return sample.hz

    monkeypatch.setattr(hazards_area, "compute_hazards", fake_compute)
    app = typer.Typer()
    report_cmds.register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command so that "report" stays a sub-command
        pass

    return app, calls


def _area_toml(sample: Sample) -> Path:
    """The sample's area.toml plus the test's local-plans layer (beside it: relative paths)."""
    src = Path(sample.cfg.source or "")
    toml = src.with_name("with_plans.toml")
    plans = json.dumps(str(sample.root / "local_plans.geojson"))
    text = src.read_text(encoding="utf-8")
    # the sample has local plans of its own: point its layer at the test's plans instead
    text = text.replace('path = "layers/local_plans.gpkg"', f"path = {plans}")
    assert plans in text
    toml.write_text(text, encoding="utf-8")
    return toml


def test_cli_parcel_json(
    cli: tuple[typer.Typer, list[Any]], sample: Sample, tmp_path: Path
) -> None:
    app, calls = cli
    pid = str(sample.buildings["parcel_id"].iloc[0])
    out = tmp_path / "r.json"
    res = CliRunner().invoke(
        app, ["report", str(_area_toml(sample)), "--parcel", pid, "--out", str(out), "--no-cache"]
    )
    assert res.exit_code == 0, res.output
    assert calls == [("2100",)]
    rep = json.loads(out.read_text(encoding="utf-8"))
    validate_report(rep)
    assert rep["id"] == pid


def test_cli_plan_html(cli: tuple[typer.Typer, list[Any]], sample: Sample, tmp_path: Path) -> None:
    app, _ = cli
    out = tmp_path / "plan.html"
    args = ["report", str(_area_toml(sample)), "--plan", "L 7", "--format", "html"]
    res = CliRunner().invoke(app, [*args, "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "Affected parcels" in page and "<html lang='en'>" in page
    assert "Berørte matrikler" not in page


@pytest.mark.parametrize(
    "extra", [[], ["--parcel", "a", "--plan", "b"], ["--parcel", "a", "--format", "pdf"]]
)
def test_cli_rejects_bad_choices(
    cli: tuple[typer.Typer, list[Any]], sample: Sample, extra: list[str]
) -> None:
    app, _ = cli
    res = CliRunner().invoke(app, ["report", str(_area_toml(sample)), *extra])
    assert res.exit_code != 0
    assert isinstance(res.exception, InputError)


# --------------------------------------------------------------------------- language


def _visible_text(page: str, lang: str) -> str:
    """What a reader sees of an HTML report, less what is not language: no style, no tags,
    no file names, and no quoted citation that the page marks as written in another
    language (``lang="en"`` spans)."""
    import html as html_mod

    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<img[^>]*>", " ", page)
    other = "en" if lang == "da" else "da"
    page = re.sub(rf'<span lang="{other}">.*?</span>', " ", page, flags=re.S)
    page = re.sub(r"<code class=path>.*?</code>", " ", page)  # file names are data
    return html_mod.unescape(re.sub(r"<[^>]+>", " ", page))


def _code_names() -> set[str]:
    from klimakort.constraints.overlay import COLUMNS
    from klimakort.constraints.report_text import MEASURES, SCENARIO_VALUES

    rules = load_rules()
    names = set(COLUMNS) | set(MEASURES) | set(SCENARIO_VALUES) | set(rules)
    names |= {t for r in rules.values() for t in r.thresholds}
    return names | {"parcel", "plan", "polygon"} - {"plan"}


def _other_vocabulary(lang: str, reports: list[dict[str, Any]]) -> set[str]:
    """Texts klimakort writes in the other language and not in ``lang``."""
    from klimakort.constraints.report_text import vocabulary

    other = "en" if lang == "da" else "da"
    rules = load_rules()
    words = vocabulary(other)  # type: ignore[arg-type]
    words |= {r.title(other) for r in rules.values()} | {r.text(other) for r in rules.values()}
    words |= {r.source_in(other) for r in rules.values()}
    for rep in reports:
        found = rep["findings"] + [f for e in rep["buildings"] for f in e["findings"]]
        found += [f for e in rep.get("parcels", []) for f in e["findings"]]
        words |= {f[f"explanation_{other}"] for f in found}
    mine = vocabulary(lang)  # type: ignore[arg-type]
    mine |= {r.title(lang) for r in rules.values()} | {r.text(lang) for r in rules.values()}
    return {w for w in words - mine if w.strip() and not w.replace(" ", "").isdigit()}


@pytest.mark.parametrize("lang", ["da", "en"])
def test_report_is_wholly_in_one_language(sample: Sample, lang: str) -> None:
    """Every verdict, rule title, field label and unit of a page in the chosen language:
    no text of the other language's vocabulary and no code name anywhere."""
    pid = str(sample.buildings["parcel_id"].iloc[0])
    reports = [
        parcel_report(sample.cfg, sample.hz, pid, SCENARIO, lang=lang),
        parcel_report(sample.cfg, sample.hz, sample.dirty_parcel, SCENARIO, lang=lang),
        plan_report(sample.cfg, sample.hz, "L 7", SCENARIO, lang=lang),
        polygon_report(sample.cfg, sample.hz, sample.plan_geom.buffer(-40), SCENARIO, lang=lang),
    ]
    foreign = _other_vocabulary(lang, reports)
    # a code name that is also a word of the page's language (``sea``) may be read as one
    from klimakort.constraints.report_text import vocabulary

    rules = load_rules()
    texts = vocabulary(lang) | {r.title(lang) + " " + r.text(lang) for r in rules.values()}  # type: ignore[arg-type]
    own_words = {w.lower() for t in texts for w in re.findall(r"\w+", t)}
    codes = {c for c in _code_names() if c.lower() not in own_words}
    for rep in reports:
        assert rep["lang"] == lang
        validate_report(rep)
        page = render_html(rep, sample.hz)
        assert f"<html lang='{lang}'>" in page
        text = _visible_text(page, lang)
        hits = sorted(w for w in foreign if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.I))
        assert hits == [], f"{rep['kind']} report in {lang} shows {hits}"
        tokens = {t.lower() for t in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
        assert not tokens & codes, f"code names in the {lang} page: {sorted(tokens & codes)}"
        assert not [t for t in tokens if "_" in t], sorted(t for t in tokens if "_" in t)


def test_report_language_is_checked(sample: Sample) -> None:
    from klimakort.errors import ParameterError

    pid = str(sample.buildings["parcel_id"].iloc[0])
    with pytest.raises(ParameterError, match="lang"):
        parcel_report(sample.cfg, sample.hz, pid, SCENARIO, lang="de")
