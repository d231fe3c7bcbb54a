/* klimakort what-if panel: draw terrain edits (dike, raised road, swale, basin, culvert,
 * removed building), run them on the server (POST /whatif), poll the job, then show the
 * difference layer (red = deeper, blue = shallower or dry) and the changed parcels.
 *
 * Loaded after app.js; starts itself when the page runs in server mode (window.klimakort
 * is app.js's small API: map, state, config). It uses its own leaflet-draw handlers that
 * fire "kkwhatif:created" instead of draw:created, so the polygon report keeps its own
 * drawings.
 */
(function () {
  "use strict";
  const KK = window.klimakort;
  if (!KK || !KK.config || KK.config.mode !== "server" || !window.L || !L.Draw) return;
  const map = KK.map;
  const CFG = KK.config;
  const T = {
    da: {
      title: "Hvad nu hvis (terrænændringer)", kind: "Ændring", value: "Værdi (m)", width: "Bredde (m)",
      draw: "Tegn", run: "Beregn", clear: "Ryd", key: "API-nøgle", edits: "ændring(er)",
      running: "Beregner", done: "Færdig", failed: "Fejlede", parcels: "Matrikler der ændres",
      none: "Ingen matrikler ændres", layer: "Ændring i vanddybde", report: "Rapport (HTML)",
      raise_to: "Hæv til kote (dige, vej)", raise_by: "Hæv med", lower_by: "Sænk med (grøft, wadi)",
      basin: "Regnvandsbassin (dybde)", culvert: "Rørlægning (forbind)", remove_building: "Fjern bygning",
      dry: "tør", better: "bedre", worse: "værre", newly_flooded: "ny oversvømmet", shifted: "flyttet",
    },
    en: {
      title: "What-if (terrain edits)", kind: "Edit", value: "Value (m)", width: "Width (m)",
      draw: "Draw", run: "Run", clear: "Clear", key: "API key", edits: "edit(s)",
      running: "Running", done: "Done", failed: "Failed", parcels: "Parcels that change",
      none: "No parcel changes", layer: "Change in water depth", report: "Report (HTML)",
      raise_to: "Raise to level (dike, road)", raise_by: "Raise by", lower_by: "Lower by (swale)",
      basin: "Retention basin (depth)", culvert: "Culvert (connect)", remove_building: "Remove building",
      dry: "dry", better: "better", worse: "worse", newly_flooded: "newly flooded", shifted: "shifted",
    },
  };
  const KINDS = {
    raise_to: { geom: "line", key: "level_m", value: 2.8, width: 8 },
    raise_by: { geom: "line", key: "height_m", value: 0.5, width: 6 },
    lower_by: { geom: "line", key: "depth_m", value: 0.5, width: 4 },
    basin: { geom: "polygon", key: "depth_m", value: 1.0 },
    culvert: { geom: "line" },
    remove_building: { geom: "polygon" },
  };
  const ws = { edits: [], drawer: null, job: null, diffLayer: null, parcels: null, drawn: new L.FeatureGroup().addTo(map) };
  const t = (k) => (T[KK.state.lang] || T.da)[k] || k;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  function fire(map_, layer) { map_.fire("kkwhatif:created", { layer }); }
  const Line = L.Draw.Polyline.extend({
    _fireCreatedEvent() { fire(this._map, new this.Poly(this._poly.getLatLngs(), this.options.shapeOptions)); },
  });
  const Poly = L.Draw.Polygon.extend({
    _fireCreatedEvent() { fire(this._map, new this.Poly(this._poly.getLatLngs(), this.options.shapeOptions)); },
  });
  const style = { color: "#6a1b9a", weight: 4, opacity: 0.9, fillOpacity: 0.15 };

  // ------------------------------------------------------------------ panel

  const section = document.createElement("section");
  section.className = "kk-section";
  section.id = "kk-whatif";
  const panel = $("kk-panel");
  const before = $("kk-layers") ? $("kk-layers").parentNode : null;
  panel.insertBefore(section, before);

  function render() {
    const kind = ($("kk-whatif-kind") || {}).value || "raise_to";
    const spec = KINDS[kind];
    const opts = Object.keys(KINDS).map((k) => `<option value="${k}"${k === kind ? " selected" : ""}>${esc(t(k))}</option>`).join("");
    section.innerHTML =
      `<div class="kk-label">${esc(t("title"))}</div>` +
      `<label>${esc(t("kind"))} <select id="kk-whatif-kind">${opts}</select></label>` +
      (spec.key ? `<label>${esc(t("value"))} <input id="kk-whatif-value" type="number" step="0.1" value="${spec.value}" style="width:5em"></label>` : "") +
      (spec.width ? ` <label>${esc(t("width"))} <input id="kk-whatif-width" type="number" step="1" value="${spec.width}" style="width:4em"></label>` : "") +
      `<div class="kk-row"><button type="button" class="kk-btn" id="kk-whatif-draw">${esc(t("draw"))}</button>` +
      `<button type="button" class="kk-btn" id="kk-whatif-run">${esc(t("run"))}</button>` +
      `<button type="button" class="kk-btn" id="kk-whatif-clear">${esc(t("clear"))}</button></div>` +
      `<label>${esc(t("key"))} <input id="kk-whatif-key" type="password" autocomplete="off" style="width:8em"` +
      ` value="${esc(sessionStorage.getItem("kk-whatif-key") || "")}"></label>` +
      `<div id="kk-whatif-status" class="kk-sub">${ws.edits.length} ${esc(t("edits"))}</div>` +
      `<div id="kk-whatif-result"></div>`;
    $("kk-whatif-kind").addEventListener("change", render);
    $("kk-whatif-draw").addEventListener("click", startDraw);
    $("kk-whatif-run").addEventListener("click", () => run().catch((e) => status(t("failed") + ": " + e.message)));
    $("kk-whatif-clear").addEventListener("click", clear);
    $("kk-whatif-key").addEventListener("change", (e) => sessionStorage.setItem("kk-whatif-key", e.target.value));
    if (ws.job && ws.job.status === "done") renderResult();
  }
  function status(text) { const s = $("kk-whatif-status"); if (s) s.textContent = text; }

  function currentEdit() {
    const kind = $("kk-whatif-kind").value;
    const spec = KINDS[kind];
    const props = { kind };
    if (spec.key) props[spec.key] = Number($("kk-whatif-value").value);
    if (spec.width && $("kk-whatif-width").value) props.width_m = Number($("kk-whatif-width").value);
    return { spec, props };
  }
  function startDraw() {
    const { spec } = currentEdit();
    const H = spec.geom === "line" ? Line : Poly;
    if (ws.drawer) ws.drawer.disable();
    ws.drawer = new H(map, { shapeOptions: style, showLength: false, showArea: false });
    ws.drawer.enable();
  }
  function addEdit(geometry, props) {
    const layer = L.geoJSON(geometry, { style }).addTo(ws.drawn);
    ws.edits.push({ type: "Feature", geometry, properties: props, layer });
    status(`${ws.edits.length} ${t("edits")}`);
  }
  map.on("kkwhatif:created", (e) => {
    const { props } = currentEdit();
    addEdit(e.layer.toGeoJSON().geometry, props);
  });
  function clear() {
    ws.edits = [];
    ws.drawn.clearLayers();
    if (ws.diffLayer) map.removeLayer(ws.diffLayer);
    if (ws.parcels) map.removeLayer(ws.parcels);
    ws.diffLayer = ws.parcels = ws.job = null;
    render();
  }

  // ------------------------------------------------------------------ run

  async function run() {
    if (!ws.edits.length) { status(t("draw")); return null; }
    const body = {
      type: "FeatureCollection", name: "What-if " + new Date().toISOString().slice(0, 16).replace("T", " "),
      scenario: KK.state.scenario,
      features: ws.edits.map((f) => ({ type: "Feature", geometry: f.geometry, properties: f.properties })),
    };
    const key = $("kk-whatif-key").value || sessionStorage.getItem("kk-whatif-key") || "";
    const r = await fetch(CFG.api + "/whatif", {
      method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-API-Key": key },
    });
    const job = await r.json();
    if (!r.ok) throw new Error(job.detail || r.statusText);
    ws.job = job;
    return poll(job.job_id);
  }
  async function poll(id) {
    for (;;) {
      const job = await (await fetch(CFG.api + "/whatif/" + id)).json();
      ws.job = job;
      if (job.status === "done") { await showResult(); return job; }
      if (job.status === "failed") { status(t("failed") + ": " + (job.error || {}).detail); return job; }
      const last = (job.messages || []).slice(-1)[0] || "";
      status(`${t("running")} ${Math.round(job.percent)} % · ${last}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }
  async function showResult() {
    const id = ws.job.job_id;
    if (ws.diffLayer) map.removeLayer(ws.diffLayer);
    ws.diffLayer = L.tileLayer(CFG.api + `/whatif/${id}/tiles/WebMercatorQuad/{z}/{x}/{y}.png?hazard=combined`, {
      maxZoom: CFG.max_zoom || 20, opacity: 0.85, className: "kk-whatif-diff", zIndex: 500,
    }).addTo(map);
    const fc = await (await fetch(CFG.api + `/whatif/${id}/changes?layer=parcels`)).json();
    if (ws.parcels) map.removeLayer(ws.parcels);
    const colour = { dry: "#1f5fbf", better: "#5dade2", worse: "#c0392b", newly_flooded: "#922b21", shifted: "#888" };
    ws.parcels = L.geoJSON(fc, {
      style: (f) => ({ color: colour[f.properties.status] || "#555", weight: 1, fillOpacity: 0.25 }),
      onEachFeature: (f, l) => l.bindTooltip(`${esc(f.properties.matrikel_id || "")} · ${esc(t(f.properties.status))}`),
    }).addTo(map);
    ws.changes = fc.features.map((f) => f.properties);
    renderResult();
  }
  function renderResult() {
    const box = $("kk-whatif-result");
    const s = (ws.job || {}).summary || {};
    const hz = (s.hazards || {}).combined || {};
    status(`${t("done")} (${s.method || ""}) · ${esc(t("layer"))}`);
    const rows = (ws.changes || []).slice(0, 200).map((p) =>
      `<tr><td>${esc(p.matrikel_id || p.building_id || "")}</td><td>${esc(t(p.status))}</td>` +
      `<td>${Math.round(p.flooded_before_m2)}</td><td>${Math.round(p.flooded_after_m2)}</td></tr>`).join("");
    box.innerHTML =
      `<p class="kk-sub">−${Math.round(hz.area_dried_m2 || 0).toLocaleString()} m² · ` +
      `${Math.round(hz.volume_removed_m3 || 0).toLocaleString()} m³</p>` +
      (rows ? `<b>${esc(t("parcels"))} (${(ws.changes || []).length})</b>` +
        `<table id="kk-whatif-table" class="kk-table"><tr><th></th><th></th><th>m² før/before</th><th>m² efter/after</th></tr>${rows}</table>`
        : `<p>${esc(t("none"))}</p>`) +
      `<a target="_blank" href="${CFG.api}/whatif/${ws.job.job_id}/report?f=html">${esc(t("report"))}</a>`;
  }

  render();
  document.getElementById("kk-lang").addEventListener("click", () => setTimeout(render, 0));
  window.klimakortWhatif = { state: ws, addEdit, run, clear, startDraw };
})();
