/* klimakort map: one Leaflet app for the served map (/map) and the standalone map.html.
 *
 * window.KLIMAKORT_CONFIG (built by klimakort.maps.service_map / standalone) says which:
 *   mode "server":     raster tiles, legends, GeoJSON, point values and reports from the API
 *   mode "standalone": image overlays, legends, GeoJSON and value grids embedded in the page
 * Strings live in i18n.js (window.KLIMAKORT_I18N), Danish first.
 */
(function () {
  "use strict";

  const CFG = window.KLIMAKORT_CONFIG;
  const I18N = window.KLIMAKORT_I18N;
  const SERVER = CFG.mode === "server";

  const state = {
    lang: CFG.lang || "da",
    scenario: CFG.default_scenario,
    rasters: {},      // id -> {info, on, opacity, layer}
    vectors: {},      // id -> {info, on, layer, loadedKey, seq}
    clicked: [],      // features hit by the current map click
    drawing: false,
    drawnGeometry: null,
    report: null,
    compare: null,    // {layerId, left, right, control, leftLayer, rightLayer}
    legends: {},      // "id|lang" -> legend JSON (or a promise)
    grids: {},        // "layer|scenario" -> Promise<Float32Array|null>
    highlight: null,
  };

  // ------------------------------------------------------------------ helpers

  function t(key) {
    const table = I18N[state.lang] || I18N.da;
    return key in table ? table[key] : (I18N.da[key] || key);
  }
  function tr(obj) {
    if (!obj) return "";
    if (typeof obj === "string") return obj;
    return obj[state.lang] || obj.da || obj.en || "";
  }
  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  /** Escaped text whose `code` spans become <code> elements (no literal backticks shown). */
  function md(value) {
    return esc(value).replace(/`([^`]+)`/g, "<code>$1</code>");
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else if (k === "html") node.innerHTML = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach((c) => c && node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return node;
  }
  function url(path, params) {
    const q = Object.entries(params || {})
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
    return CFG.api + path + (q ? "?" + q : "");
  }
  async function getJSON(href, init) {
    const r = await fetch(href, Object.assign({ headers: { Accept: "application/json" } }, init || {}));
    if (!r.ok) {
      let detail = r.status + " " + r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return r.json();
  }
  function fmt(value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return t("nodata");
    if (typeof value !== "number") return String(value);
    const d = digits === undefined ? (Math.abs(value) >= 100 ? 0 : 2) : digits;
    return value.toLocaleString(state.lang === "da" ? "da-DK" : "en-GB",
      { maximumFractionDigits: d, minimumFractionDigits: 0 });
  }
  function scenarioLabel(name) {
    const key = "scenario_" + name;
    const label = t(key);
    return label === key ? name : label;
  }
  function download(name, obj) {
    const blob = new Blob([JSON.stringify(obj)], { type: "application/geo+json" });
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  // ------------------------------------------------------------------ map

  const [W, S, E, N] = CFG.bounds;
  const areaBounds = L.latLngBounds([S, W], [N, E]);
  const map = L.map("kk-map", {
    zoomControl: true, minZoom: CFG.min_zoom || 8, maxZoom: CFG.max_zoom || 20,
    maxBounds: areaBounds.pad(1.5),
  });
  map.fitBounds(areaBounds);
  map.attributionControl.setPrefix(false);
  let attribution = null;
  function setAttribution() {
    if (attribution) map.attributionControl.removeAttribution(attribution);
    attribution = esc("klimakort" + (CFG.area.synthetic ? " · " + t("synthetic_short") : ""));
    map.attributionControl.addAttribution(attribution);
  }
  L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
  map.createPane("kkImages").style.zIndex = 250;
  map.createPane("kkLeft").style.zIndex = 260;
  map.createPane("kkRight").style.zIndex = 261;
  map.createPane("kkHighlight").style.zIndex = 650;
  const canvas = L.canvas({ padding: 0.3 });
  // the base layer: the configured Danish base map (basemap.js), or OpenStreetMap
  const osm = window.KlimakortBasemap ? KlimakortBasemap.create(map, CFG) : L.tileLayer(
    CFG.basemap_url || "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    { maxZoom: 19, attribution: "© OpenStreetMap", className: "kk-basemap" });

  if (window.proj4 && CFG.crs && CFG.crs.proj4) proj4.defs(CFG.crs.name, CFG.crs.proj4);
  function toAreaCrs(latlng) {
    if (!window.proj4 || !CFG.crs) return null;
    return proj4("EPSG:4326", CFG.crs.name, [latlng.lng, latlng.lat]);
  }

  const Coords = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd() {
      this._div = L.DomUtil.create("div", "kk-coords");
      this._div.id = "kk-coords";
      this._div.textContent = CFG.crs ? CFG.crs.name : "";
      return this._div;
    },
    update(latlng) {
      const xy = toAreaCrs(latlng);
      this._div.textContent = xy
        ? `E ${fmt(xy[0], 0)}  N ${fmt(xy[1], 0)}  (${CFG.crs.name})`
        : `${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)}`;
    },
  });
  const coords = new Coords().addTo(map);
  map.on("mousemove", (e) => coords.update(e.latlng));

  // ------------------------------------------------------------------ raster layers

  function rasterSource(info, scenario) {
    const sc = info.scenario_dependent ? scenario : null;
    if (SERVER) {
      return url(`/rasters/${info.id}/tiles/WebMercatorQuad/{z}/{x}/{y}.png`, { scenario: sc });
    }
    return info.images[sc || "_"];
  }
  function makeRaster(info, scenario, pane) {
    const entry = state.rasters[info.id];
    const opts = { opacity: entry ? entry.opacity : info.opacity, className: "kk-raster kk-raster-" + info.id };
    if (SERVER) {
      return L.tileLayer(rasterSource(info, scenario), Object.assign(opts, {
        pane: pane || "tilePane", bounds: areaBounds, maxZoom: CFG.max_zoom || 20,
        maxNativeZoom: CFG.max_native_zoom || 20, zIndex: info.z || 1,
      }));
    }
    const img = rasterSource(info, scenario);
    return L.imageOverlay(img.url, [[img.bounds[1], img.bounds[0]], [img.bounds[3], img.bounds[2]]],
      Object.assign(opts, { pane: pane || "kkImages", zIndex: info.z || 1 }));
  }
  function setRasterScenario(entry) {
    if (!entry.layer || !entry.info.scenario_dependent) return;
    const src = rasterSource(entry.info, state.scenario);
    if (SERVER) entry.layer.setUrl(src);
    else entry.layer.setUrl(src.url);
  }
  function setRaster(id, on) {
    const entry = state.rasters[id];
    entry.on = on;
    const box = document.getElementById("kk-r-" + id);
    if (box) box.checked = on;
    const extra = document.getElementById("kk-extra-" + id);
    if (extra) extra.hidden = !on;
    if (on && !entry.layer) entry.layer = makeRaster(entry.info, state.scenario);
    if (on && !(state.compare && state.compare.layerId === id)) entry.layer.addTo(map);
    if (!on && entry.layer) map.removeLayer(entry.layer);
    renderLegend(id);
  }

  // legends ---------------------------------------------------------------

  async function legendOf(id) {
    const key = id + "|" + state.lang;
    if (!(key in state.legends)) {
      const info = state.rasters[id].info;
      state.legends[key] = SERVER
        ? getJSON(url(`/rasters/${id}/legend`, { lang: state.lang })).catch(() => null)
        : Promise.resolve((info.legends || {})[state.lang] || null);
    }
    return state.legends[key];
  }
  async function renderLegend(id) {
    const box = document.getElementById("kk-legend-" + id);
    if (!box) return;
    const entry = state.rasters[id];
    box.hidden = !entry.on || entry.info.id === "hillshade";
    if (box.hidden) return;
    const lang = state.lang;
    const lg = await legendOf(id);
    // the panel may have been rebuilt (language switch) while the legend loaded
    if (!box.isConnected || lang !== state.lang) return;
    if (!lg) { box.textContent = t("no_legend"); return; }
    box.innerHTML = "";
    if (lg.type === "classes") {
      (lg.entries || []).forEach((e) => box.appendChild(el("div", {}, [
        el("span", { class: "kk-swatch", style: `background:${e.color}` }), e.label])));
      return;
    }
    const stops = lg.stops || [];
    const colors = stops.map((s) => s.color).join(",");
    box.appendChild(el("div", { class: "kk-units", text: unitLabel(lg.units) + (lg.scale === "log" ? " (log)" : "") }));
    box.appendChild(el("div", { class: "kk-bar", style: `background:linear-gradient(to right,${colors})` }));
    box.appendChild(el("div", { class: "kk-ticks" }, stops.map((s) => el("span", { text: s.label }))));
  }

  // ------------------------------------------------------------------ vector layers

  const STYLES = {
    parcels: { color: "#444", weight: 0.7, fillOpacity: 0, opacity: 0.8 },
    buildings: { color: "#333", weight: 0.5, fillColor: "#999", fillOpacity: 0.6 },
    local_plans: { color: "#7b3294", weight: 2, dashArray: "6 4", fillOpacity: 0.05 },
    heating_zones: { color: "#d7301f", weight: 1.5, fillOpacity: 0.06 },
    heating_mains: { color: "#d7301f", weight: 1.5 },
    planned_sites: { color: "#1b7837", weight: 2, fillColor: "#5aae61", fillOpacity: 0.45 },
    candidate_sites: { color: "#b35806", weight: 2, fillColor: "#fdb863", fillOpacity: 0.35 },
    bluespots: { color: "#2166ac", weight: 0.8, fillOpacity: 0.1 },
    flowpaths: { color: "#1f78b4", weight: 1.2, opacity: 0.8 },
    flooded_areas: { color: "#08519c", weight: 0.4, fillOpacity: 0.35 },
    public_land: { color: "#4d9221", weight: 1, fillOpacity: 0.08 },
    institutions: { color: "#c51b7d", weight: 1.5, fillOpacity: 0.2 },
    roads: { color: "#777", weight: 1.5 },
    streams: { color: "#2b8cbe", weight: 2 },
    lakes: { color: "#2b8cbe", weight: 1, fillColor: "#a6cee3", fillOpacity: 0.6 },
    barriers: { color: "#8c510a", weight: 3 },
  };
  const FLOOD_COLORS = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"];
  function styleOf(id, feature) {
    const base = Object.assign({ color: "#555", weight: 1, fillOpacity: 0.15 }, STYLES[id] || {});
    if (id === "flooded_areas" && feature && feature.properties) {
      const k = Math.max(1, Math.min(4, Number(feature.properties.depth_class) || 1));
      base.fillColor = FLOOD_COLORS[k - 1];
    }
    if (id === "candidate_sites" && feature && feature.properties && feature.properties.chosen) {
      // the sites the portfolio chose: green, like the planned sites they may become
      Object.assign(base, { color: "#00441b", weight: 3, fillColor: "#41ab5d", fillOpacity: 0.6 });
    }
    return base;
  }

  function makeVector(info) {
    return L.geoJSON(null, {
      style: (f) => styleOf(info.id, f),
      renderer: info.canvas ? canvas : undefined,
      pointToLayer: (f, latlng) => L.circleMarker(latlng, Object.assign({ radius: 5 }, styleOf(info.id, f))),
      onEachFeature: (f, layer) => layer.on("click", () => state.clicked.push({ info, feature: f })),
    });
  }
  function scenarioFilter(info, features) {
    if (!info.scenario_dependent) return features;
    return features.filter((f) => String(f.properties.scenario) === state.scenario);
  }
  function vectorNote(id, text) {
    const note = document.getElementById("kk-note-" + id);
    if (note) { note.textContent = text || ""; note.hidden = !text; }
  }
  async function loadVector(id) {
    const entry = state.vectors[id];
    const info = entry.info;
    if (!entry.on) return;
    if (!SERVER) {
      const key = state.scenario;
      if (entry.loadedKey === key) return;
      entry.layer.clearLayers();
      entry.layer.addData(scenarioFilter(info, info.data.features));
      entry.loadedKey = key;
      return;
    }
    const params = { limit: info.limit || CFG.max_features || 10000 };
    if (info.scenario_dependent) {
      params.filter = `scenario='${state.scenario}'`;
      params["filter-lang"] = "cql2-text";
    }
    let key = state.scenario;
    if (info.load === "bbox") {
      if (map.getZoom() < info.minzoom) {
        entry.layer.clearLayers();
        entry.loadedKey = null;
        vectorNote(id, t("zoom_in_to_see"));
        return;
      }
      const b = map.getBounds().pad(0.2);
      params.bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
      key += "|" + params.bbox;
    }
    if (entry.loadedKey === key) return;
    const seq = ++entry.seq;
    vectorNote(id, t("loading"));
    try {
      const fc = await getJSON(url(`/collections/${id}/items`, params));
      if (seq !== entry.seq || !entry.on) return;
      entry.layer.clearLayers();
      entry.layer.addData(scenarioFilter(info, fc.features || []));
      entry.loadedKey = key;
      vectorNote(id, "");
    } catch (err) {
      if (seq === entry.seq) vectorNote(id, t("load_failed") + ": " + err.message);
    }
  }
  function setVector(id, on) {
    const entry = state.vectors[id];
    entry.on = on;
    const box = document.getElementById("kk-v-" + id);
    if (box) box.checked = on;
    if (on) { entry.layer.addTo(map); loadVector(id); } else { map.removeLayer(entry.layer); vectorNote(id, ""); }
  }
  let moveTimer = null;
  map.on("moveend", () => {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(() => Object.keys(state.vectors).forEach((id) => {
      if (state.vectors[id].info.load === "bbox") loadVector(id);
    }), 150);
  });

  // ------------------------------------------------------------------ layer panel

  function buildLayerPanel() {
    const root = document.getElementById("kk-layers");
    root.innerHTML = "";
    root.appendChild(el("label", { class: "kk-check kk-layer" }, [
      el("input", { type: "checkbox", id: "kk-basemap", checked: map.hasLayer(osm),
        onchange: (e) => (e.target.checked ? osm.addTo(map).bringToBack() : map.removeLayer(osm)) }),
      t("basemap")]));
    CFG.groups.forEach((g) => {
      const rasters = CFG.rasters.filter((r) => r.group === g.id);
      const vectors = CFG.collections.filter((c) => c.group === g.id);
      if (!rasters.length && !vectors.length) return;
      const box = el("div", { class: "kk-group", "data-group": g.id }, [
        el("div", { class: "kk-group-title", text: tr(g.title) })]);
      rasters.forEach((info) => {
        const entry = state.rasters[info.id];
        box.appendChild(el("div", { class: "kk-layer", "data-layer": info.id }, [
          el("label", { class: "kk-check" }, [
            el("input", { type: "checkbox", id: "kk-r-" + info.id, checked: entry.on,
              onchange: (e) => setRaster(info.id, e.target.checked) }),
            tr(info.title),
            info.scenario_dependent ? el("span", { class: "kk-sc", title: t("scenario"), text: "◷" }) : null]),
          el("div", { id: "kk-extra-" + info.id, hidden: !entry.on }, [
          el("div", { class: "kk-opacity" }, [
            t("opacity"),
            el("input", { type: "range", min: 0, max: 100, value: Math.round(entry.opacity * 100),
              id: "kk-o-" + info.id, "aria-label": t("opacity"),
              oninput: (e) => {
                entry.opacity = e.target.value / 100;
                if (entry.layer) entry.layer.setOpacity(entry.opacity);
                if (state.compare && state.compare.layerId === info.id) {
                  state.compare.leftLayer.setOpacity(entry.opacity);
                  state.compare.rightLayer.setOpacity(entry.opacity);
                }
              } })]),
          el("div", { class: "kk-legend", id: "kk-legend-" + info.id, hidden: !entry.on }),
          ]),
        ]));
      });
      vectors.forEach((info) => {
        const entry = state.vectors[info.id];
        const st = styleOf(info.id, null);
        box.appendChild(el("div", { class: "kk-layer", "data-collection": info.id }, [
          el("label", { class: "kk-check" }, [
            el("input", { type: "checkbox", id: "kk-v-" + info.id, checked: entry.on,
              onchange: (e) => setVector(info.id, e.target.checked) }),
            el("span", { class: "kk-vswatch",
              style: `border-color:${st.color};background:${st.fillColor || "transparent"}` }),
            tr(info.title)]),
          el("div", { class: "kk-layer-note", id: "kk-note-" + info.id, hidden: true }),
        ]));
      });
      root.appendChild(box);
      // legends once their boxes are in the document (renderLegend finds them by id)
      rasters.forEach((info) => renderLegend(info.id));
    });
  }

  // ------------------------------------------------------------------ scenario

  function buildScenarioSelects() {
    const fill = (sel, value) => {
      sel.innerHTML = "";
      CFG.scenarios.forEach((s) => sel.appendChild(el("option", { value: s, text: scenarioLabel(s) })));
      sel.value = value;
    };
    fill(document.getElementById("kk-scenario"), state.scenario);
    const cmpLayer = document.getElementById("kk-compare-layer");
    const current = cmpLayer.value;
    cmpLayer.innerHTML = "";
    CFG.rasters.filter((r) => r.scenario_dependent).forEach((r) =>
      cmpLayer.appendChild(el("option", { value: r.id, text: tr(r.title) })));
    cmpLayer.value = current || CFG.compare_layer || cmpLayer.options[0].value;
    const left = document.getElementById("kk-compare-left");
    const right = document.getElementById("kk-compare-right");
    fill(left, left.value || CFG.scenarios[0]);
    fill(right, right.value || CFG.scenarios[CFG.scenarios.length - 1]);
  }
  function setScenario(name) {
    if (!CFG.scenarios.includes(name)) throw new Error("unknown scenario " + name);
    state.scenario = name;
    document.getElementById("kk-scenario").value = name;
    Object.values(state.rasters).forEach(setRasterScenario);
    Object.keys(state.vectors).forEach((id) => {
      if (state.vectors[id].info.scenario_dependent) { state.vectors[id].loadedKey = null; loadVector(id); }
    });
    map.closePopup();
    if (state.drawnGeometry) runReport(state.drawnGeometry);
  }

  // ------------------------------------------------------------------ side by side

  function stopCompare() {
    const c = state.compare;
    if (!c) return;
    c.control.remove();
    map.removeLayer(c.leftLayer);
    map.removeLayer(c.rightLayer);
    state.compare = null;
    const entry = state.rasters[c.layerId];
    if (entry.on && entry.layer) entry.layer.addTo(map);
  }
  function startCompare() {
    stopCompare();
    const layerId = document.getElementById("kk-compare-layer").value;
    const left = document.getElementById("kk-compare-left").value;
    const right = document.getElementById("kk-compare-right").value;
    const entry = state.rasters[layerId];
    if (entry.layer) map.removeLayer(entry.layer);
    const leftLayer = makeRaster(entry.info, left, "kkLeft");
    const rightLayer = makeRaster(entry.info, right, "kkRight");
    // the plugin clips each layer's container; panes sit at the layer origin for both
    // tile layers and image overlays, so clipping the panes works for both
    leftLayer.getContainer = () => map.getPane("kkLeft");
    rightLayer.getContainer = () => map.getPane("kkRight");
    leftLayer.addTo(map);
    rightLayer.addTo(map);
    const control = L.control.sideBySide(leftLayer, rightLayer).addTo(map);
    state.compare = { layerId, left, right, control, leftLayer, rightLayer };
  }
  function onCompareChange() {
    const on = document.getElementById("kk-compare").checked;
    document.getElementById("kk-compare-opts").hidden = !on;
    if (on) startCompare(); else stopCompare();
  }

  // ------------------------------------------------------------------ point popup

  function valueRows(values) {
    return CFG.rasters.filter((r) => r.id in values && r.id !== "hillshade").map((r) => {
      const v = values[r.id];
      let shown = esc(fmt(v));
      if (r.classes && v !== null && v !== undefined) {
        const cls = r.classes[String(Math.round(v))];
        // a class layer's 0 is "none of the classes" (e.g. not low land behind a barrier)
        shown = cls ? esc(tr(cls)) : Math.round(v) === 0 ? "–" : shown;
      } else if (v !== null && v !== undefined) {
        shown += " " + esc(unitLabel(r.units));
      }
      return `<tr><td>${esc(tr(r.title))}</td><td class="kk-v">${shown}</td></tr>`;
    }).join("");
  }
  function unitLabel(units) {
    const table = t("units");
    return table && typeof table === "object" && units in table ? table[units] : units;
  }
  /** Label and unit of a feature property in the current language (its own name when unknown). */
  function fieldLabel(key) {
    const known = (t("fields") || {})[key];
    return known ? { label: known[0], unit: known[1] || "" } : { label: key, unit: "" };
  }
  function propValue(key, v) {
    if (typeof v === "boolean") return t(v ? "yes" : "no");
    if (typeof v === "number") {
      const unit = fieldLabel(key).unit;
      const shown = Number.isInteger(v) && !unit ? String(v) : fmt(v);
      return unit ? shown + " " + unit : shown;
    }
    const values = t("values") || {};
    return typeof v === "string" && v in values ? values[v] : String(v);
  }
  /** Rows of a feature's properties, labelled; ``omit`` lists fields already shown (the id). */
  function propsTable(props, omit, limit) {
    const hidden = new Set(["fid", "synthetic", "geometry", "collection"].concat(omit || []));
    return Object.entries(props || {})
      .filter(([k, v]) => !hidden.has(k) && v !== null && v !== "" && typeof v !== "object")
      .slice(0, limit || 8)
      .map(([k, v]) => `<tr><td>${esc(fieldLabel(k).label)}</td><td class="kk-v">${esc(propValue(k, v))}</td></tr>`)
      .join("");
  }
  function hitsHtml(hits, skip) {
    const seen = new Set();
    return hits.filter((h) => {
      const key = h.info.id + "|" + (h.feature.id || JSON.stringify(h.feature.properties));
      if (seen.has(key) || (skip && skip(h))) return false;
      seen.add(key);
      return true;
    }).map((h) => `<h3>${esc(tr(h.info.title))}</h3><table>${propsTable(h.feature.properties)}</table>`)
      .join("");
  }
  function coordLine(latlng) {
    const xy = toAreaCrs(latlng);
    const where = xy ? `E ${fmt(xy[0], 0)}, N ${fmt(xy[1], 0)}` : "";
    return `<div class="kk-sub">${esc(where)} · ${esc(t("scenario"))}: ${esc(scenarioLabel(state.scenario))}</div>`;
  }
  function parcelReportUrl(id) {
    return url(`/parcels/${encodeURIComponent(id)}/report`, { f: "html", scenario: state.scenario });
  }
  async function serverPopup(latlng, hits) {
    const p = await getJSON(url("/point", { x: latlng.lng.toFixed(7), y: latlng.lat.toFixed(7),
      crs: "CRS84", scenario: state.scenario }));
    const values = {};
    Object.entries(p.values || {}).forEach(([k, v]) => { values[k] = v && typeof v === "object" ? v.value : v; });
    let parcel = `<p>${esc(t("point_no_parcel"))}</p>`;
    if (p.parcel_id) {
      parcel = `<p><b>${esc(t("point_parcel"))}:</b> ${esc(p.parcel_id)}<br>` +
        `<a class="kk-parcel-report" target="_blank" rel="noopener" href="${esc(parcelReportUrl(p.parcel_id))}">` +
        `${esc(t("point_report"))} ↗</a></p>`;
    }
    return `<div class="kk-popup"><h3>${esc(t("point_title"))}</h3>${coordLine(latlng)}` +
      `<table>${valueRows(values)}</table>${parcel}` +
      hitsHtml(hits, (h) => h.info.id === "parcels") + "</div>";
  }

  // standalone: values from embedded grids ----------------------------------

  async function inflate(b64) {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }
  /** Undo encode_grid's "delta-shuffle": low bytes then high bytes of row deltas. */
  function unshuffle(bytes, cols) {
    const n = bytes.length / 2;
    const raw = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const d = bytes[i] | (bytes[n + i] << 8);
      raw[i] = i % cols === 0 ? d : (raw[i - 1] + d) & 0xffff;
    }
    return raw;
  }
  function gridValues(layerId, scenario) {
    const g = CFG.grids;
    const byScenario = g && g.layers[layerId];
    if (!byScenario) return Promise.resolve(null);
    const key = layerId + "|" + (scenario in byScenario ? scenario : "_");
    if (!(key in state.grids)) {
      const spec = byScenario[scenario in byScenario ? scenario : "_"];
      state.grids[key] = inflate(spec.data).then((buf) => {
        if (spec.dtype === "f32") return new Float32Array(buf);
        const raw = spec.filter === "delta-shuffle" ? unshuffle(new Uint8Array(buf), g.shape[1])
          : new Uint16Array(buf);
        const out = new Float32Array(raw.length);
        for (let i = 0; i < raw.length; i++) out[i] = raw[i] === 65535 ? NaN : spec.offset + spec.scale * raw[i];
        return out;
      });
    }
    return state.grids[key];
  }
  async function sampleGrids(latlng) {
    const g = CFG.grids;
    const xy = toAreaCrs(latlng);
    if (!g || !xy) return null;
    const [x0, dx, y0, dy] = g.transform;
    const col = Math.floor((xy[0] - x0) / dx);
    const row = Math.floor((xy[1] - y0) / dy);
    if (row < 0 || col < 0 || row >= g.shape[0] || col >= g.shape[1]) return {};
    const values = {};
    for (const r of CFG.rasters) {
      const arr = await gridValues(r.id, state.scenario);
      if (arr) {
        const v = arr[row * g.shape[1] + col];
        values[r.id] = Number.isFinite(v) ? v : null;
      }
    }
    return values;
  }
  function pointInRing(x, y, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function featureContains(f, lng, lat) {
    const g = f.geometry;
    if (!g) return false;
    const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    return polys.some((rings) => pointInRing(lng, lat, rings[0]) &&
      !rings.slice(1).some((hole) => pointInRing(lng, lat, hole)));
  }
  // fields that make up the parcel id shown in the popup's heading
  const PARCEL_ID_FIELDS = ["parcel_id", "matrikel_id", "ejerlavskode", "matrikelnummer"];
  function parcelsData() {
    const p = CFG.collections.find((c) => c.id === "parcels");
    return p && p.data ? p.data.features : [];
  }
  async function standalonePopup(latlng, hits) {
    const values = await sampleGrids(latlng);
    let body;
    if (values === null || !Object.keys(values).length) {
      body = `<p>${md(values === null ? t("point_needs_server") : t("point_outside"))}</p>`;
    } else {
      body = `<table>${valueRows(values)}</table>`;
      const g = CFG.grids;
      if (g.step > 1) {
        body += `<p class="kk-sub">${esc(t("point_coarse").replace("{cell}", fmt(g.cell, 1))
          .replace("{native}", fmt(g.native_cell, 1)))}</p>`;
      }
    }
    const parcel = parcelsData().find((f) => featureContains(f, latlng.lng, latlng.lat));
    let parcelHtml = `<p>${esc(t("point_no_parcel"))}</p>`;
    if (parcel) {
      parcelHtml = `<h3>${esc(t("point_parcel"))} ${esc(parcel.properties.parcel_id || parcel.id)}</h3>` +
        `<table>${propsTable(parcel.properties, PARCEL_ID_FIELDS)}</table>`;
    }
    return `<div class="kk-popup"><h3>${esc(t("point_title"))}</h3>${coordLine(latlng)}${body}${parcelHtml}` +
      hitsHtml(hits, (h) => h.info.id === "parcels") +
      `<p class="kk-sub">${md(t("point_needs_server"))}</p></div>`;
  }

  map.on("click", async (e) => {
    const hits = state.clicked;
    state.clicked = [];
    if (state.drawing) return;
    const popup = L.popup({ maxWidth: 380, maxHeight: 420, className: "kk-point-popup" })
      .setLatLng(e.latlng).setContent(esc(t("loading"))).openOn(map);
    try {
      popup.setContent(SERVER ? await serverPopup(e.latlng, hits) : await standalonePopup(e.latlng, hits));
    } catch (err) {
      popup.setContent(`<div class="kk-popup kk-error">${esc(err.message)}</div>`);
    }
  });

  // ------------------------------------------------------------------ parcel search

  function highlight(geojson, bounds) {
    if (state.highlight) map.removeLayer(state.highlight);
    state.highlight = geojson
      ? L.geoJSON(geojson, { pane: "kkHighlight", interactive: false,
        style: { color: "#ffd400", weight: 4, fillOpacity: 0.1, fillColor: "#ffd400" } })
      : L.rectangle(bounds, { pane: "kkHighlight", interactive: false, color: "#ffd400", weight: 3, fillOpacity: 0.05 });
    state.highlight.addTo(map);
  }
  async function zoomToParcel(id, bbox, feature) {
    const bounds = L.latLngBounds([bbox[1], bbox[0]], [bbox[3], bbox[2]]);
    map.fitBounds(bounds, { maxZoom: 18, padding: [30, 30] });
    if (feature) { highlight(feature, bounds); return; }
    try {
      highlight(await getJSON(url(`/collections/parcels/items/${encodeURIComponent(id)}`)), bounds);
    } catch (err) {
      highlight(null, bounds);
    }
  }
  async function searchParcels(q) {
    q = q.trim();
    if (!q) return [];
    if (SERVER) return getJSON(url("/parcels/search", { q, limit: 10 }));
    const needle = q.toLowerCase();
    return parcelsData().filter((f) => String(f.properties.parcel_id || "").toLowerCase().includes(needle))
      .slice(0, 10).map((f) => {
        const b = L.geoJSON(f).getBounds();
        return { parcel_id: f.properties.parcel_id, bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], feature: f };
      });
  }
  async function onSearch(ev) {
    ev.preventDefault();
    const list = document.getElementById("kk-search-results");
    list.innerHTML = "";
    let hits;
    try {
      hits = await searchParcels(document.getElementById("kk-search").value);
    } catch (err) {
      list.appendChild(el("li", { class: "kk-error", text: err.message }));
      return;
    }
    if (!hits.length) { list.appendChild(el("li", { text: t("search_none") })); return; }
    hits.forEach((h) => list.appendChild(el("li", { text: h.parcel_id, "data-parcel": h.parcel_id,
      onclick: () => zoomToParcel(h.parcel_id, h.bbox, h.feature) })));
    await zoomToParcel(hits[0].parcel_id, hits[0].bbox, hits[0].feature);
  }

  // ------------------------------------------------------------------ draw + polygon report

  const drawnItems = new L.FeatureGroup().addTo(map);
  const shape = { color: "#e7298a", weight: 3, fillOpacity: 0.1 };
  new L.Control.Draw({
    position: "topleft",
    draw: {
      polygon: { allowIntersection: false, showArea: false, shapeOptions: shape },
      rectangle: { showArea: false, shapeOptions: shape },
      polyline: false, circle: false, marker: false, circlemarker: false,
    },
    edit: { featureGroup: drawnItems },
  }).addTo(map);
  map.on(L.Draw.Event.DRAWSTART, () => { state.drawing = true; });
  map.on(L.Draw.Event.DRAWSTOP, () => { setTimeout(() => { state.drawing = false; }, 50); });
  map.on(L.Draw.Event.EDITSTART + " " + L.Draw.Event.DELETESTART, () => { state.drawing = true; });
  map.on(L.Draw.Event.EDITSTOP + " " + L.Draw.Event.DELETESTOP, () => { setTimeout(() => { state.drawing = false; }, 50); });
  map.on(L.Draw.Event.CREATED, (e) => {
    drawnItems.clearLayers();
    drawnItems.addLayer(e.layer);
    runReport(e.layer.toGeoJSON().geometry);
  });
  map.on(L.Draw.Event.EDITED, () => {
    const layers = drawnItems.getLayers();
    if (layers.length) runReport(layers[0].toGeoJSON().geometry);
  });
  map.on(L.Draw.Event.DELETED, () => {
    state.drawnGeometry = null;
    state.report = null;
    renderReport();
  });

  function verdictBadge(v) {
    return `<span class="kk-verdict kk-verdict-${esc(v)}">${esc(t("verdict_" + v))}</span>`;
  }
  function renderReport(error) {
    const box = document.getElementById("kk-report");
    if (error) { box.innerHTML = `<p class="kk-error">${esc(error)}</p>`; return; }
    if (!state.drawnGeometry) { box.innerHTML = `<p class="kk-sub">${esc(t("draw_hint"))}</p>`; return; }
    if (!SERVER) {
      const area = L.GeometryUtil ? L.GeometryUtil.geodesicArea(
        L.GeoJSON.coordsToLatLngs(state.drawnGeometry.coordinates[0])) : null;
      box.innerHTML = (area ? `<p>${fmt(area, 0)} m²</p>` : "") + `<p class="kk-sub">${md(t("report_needs_server"))}</p>`;
      return;
    }
    const r = state.report;
    if (!r) { box.innerHTML = `<p class="kk-sub">${esc(t("report_running"))}</p>`; return; }
    const findings = (r.findings || []).map((f) =>
      `<li>${verdictBadge(f.verdict)} ${esc(f["explanation_" + state.lang] || f.explanation_da || f.rule_id)}</li>`).join("");
    const s = r.summary || {};
    box.innerHTML = `<p id="kk-report-worst">${esc(t("report_worst"))}: ${verdictBadge(r.worst_verdict)}</p>` +
      `<p class="kk-sub">${esc(scenarioLabel(state.scenario))} · ${fmt((r.feature || {}).area_m2, 0)} m²` +
      (s.parcels !== undefined ? ` · ${esc(t("point_parcel"))}: ${s.parcels}` : "") + "</p>" +
      `<div><b>${esc(t("report_findings"))}</b></div>` +
      (findings ? `<ul id="kk-report-findings">${findings}</ul>` : `<p>${esc(t("report_no_findings"))}</p>`) +
      `<button type="button" class="kk-btn" id="kk-report-html">${esc(t("report_html"))}</button>`;
    document.getElementById("kk-report-html").addEventListener("click", openReportHtml);
  }
  function reportUrl(f) {
    return url("/reports/polygon", { scenario: state.scenario, f });
  }
  async function runReport(geometry) {
    state.drawnGeometry = geometry;
    state.report = null;
    renderReport();
    if (!SERVER) return null;
    const sent = JSON.stringify(geometry) + state.scenario;
    state.reportKey = sent;
    try {
      const r = await getJSON(reportUrl("json"), {
        method: "POST", body: JSON.stringify(geometry),
        headers: { "Content-Type": "application/json", Accept: "application/json" },
      });
      if (state.reportKey !== sent) return r;
      state.report = r;
      renderReport();
      return r;
    } catch (err) {
      if (state.reportKey === sent) renderReport(err.message);
      throw err;
    }
  }
  async function openReportHtml() {
    const win = window.open("", "_blank");
    const r = await fetch(reportUrl("html"), { method: "POST", body: JSON.stringify(state.drawnGeometry),
      headers: { "Content-Type": "application/json" } });
    const blob = new Blob([await r.text()], { type: "text/html" });
    const href = URL.createObjectURL(blob);
    if (win) win.location = href; else window.location.href = href;
  }

  // ------------------------------------------------------------------ export

  function exportDrawn() {
    if (!state.drawnGeometry) { alert(t("export_nothing")); return; }
    const r = state.report;
    download(`klimakort-omraade-${state.scenario}.geojson`, {
      type: "FeatureCollection",
      features: [{ type: "Feature", geometry: state.drawnGeometry, properties: {
        scenario: state.scenario, worst_verdict: r ? r.worst_verdict : null, report: r } }],
    });
  }
  function visibleFeatures() {
    const features = [];
    Object.values(state.vectors).filter((v) => v.on).forEach((v) => {
      v.layer.eachLayer((l) => {
        const f = l.feature;
        if (f) features.push(Object.assign({}, f, { properties: Object.assign({ collection: v.info.id }, f.properties) }));
      });
    });
    return features;
  }
  function exportVisible() {
    const features = visibleFeatures();
    if (!features.length) { alert(t("export_nothing")); return; }
    download("klimakort-lag.geojson", { type: "FeatureCollection", features });
  }

  // ------------------------------------------------------------------ texts and start

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.getAttribute("data-i18n")); });
    document.getElementById("kk-title").textContent = t("title") + " · " + CFG.area.name;
    document.title = t("title") + " – " + CFG.area.name;
    document.getElementById("kk-area").textContent = CFG.area.synthetic ? t("synthetic") : "";
    setAttribution();
    document.getElementById("kk-lang").textContent = t("language");
    document.getElementById("kk-search").placeholder = t("search_placeholder");
    const note = document.getElementById("kk-note");
    note.innerHTML = "";
    if (!SERVER) note.appendChild(el("p", { text: t("standalone_note") }));
    (CFG.links || []).forEach((l) => note.appendChild(el("a", { href: l.href, target: "_blank", text: tr(l.title) })));
    buildScenarioSelects();
    buildLayerPanel();
    Object.keys(state.vectors).forEach((id) => { if (state.vectors[id].on) loadVector(id); });
    renderReport();
  }

  CFG.rasters.forEach((info, i) => {
    info.z = i + 1;
    state.rasters[info.id] = { info, on: false, opacity: info.opacity, layer: null };
  });
  CFG.collections.forEach((info) => {
    state.vectors[info.id] = { info, on: false, layer: makeVector(info), loadedKey: null, seq: 0 };
  });
  applyLanguage();
  CFG.rasters.filter((r) => r.visible).forEach((r) => setRaster(r.id, true));
  CFG.collections.filter((c) => c.visible).forEach((c) => setVector(c.id, true));

  document.getElementById("kk-lang").addEventListener("click", () => {
    state.lang = state.lang === "da" ? "en" : "da";
    map.closePopup();
    applyLanguage();
  });
  document.getElementById("kk-scenario").addEventListener("change", (e) => setScenario(e.target.value));
  document.getElementById("kk-search-form").addEventListener("submit", onSearch);
  document.getElementById("kk-compare").addEventListener("change", onCompareChange);
  ["kk-compare-layer", "kk-compare-left", "kk-compare-right"].forEach((id) =>
    document.getElementById(id).addEventListener("change", () => { if (state.compare) startCompare(); }));
  document.getElementById("kk-export-drawn").addEventListener("click", exportDrawn);
  document.getElementById("kk-export-visible").addEventListener("click", exportVisible);

  /** Every raster value at a point, as the popup shows it (the server's /point or the grids). */
  async function valuesAt(lat, lng) {
    const latlng = L.latLng(lat, lng);
    if (!SERVER) return sampleGrids(latlng);
    const p = await getJSON(url("/point", { x: lng.toFixed(7), y: lat.toFixed(7), crs: "CRS84",
      scenario: state.scenario }));
    const values = {};
    Object.entries(p.values || {}).forEach(([k, v]) => { values[k] = v && typeof v === "object" ? v.value : v; });
    return values;
  }

  // a small API for tests and for embedding pages
  window.klimakort = {
    valuesAt,
    map, state, config: CFG, setScenario, setRaster, setVector, runReport, searchParcels, zoomToParcel,
    visibleFeatures, startCompare, stopCompare,
    drawPolygon(geometry) {
      drawnItems.clearLayers();
      const layer = L.geoJSON(geometry, { style: shape });
      layer.eachLayer((l) => drawnItems.addLayer(l));
      return runReport(geometry);
    },
  };
})();
