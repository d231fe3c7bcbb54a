/* klimakort: address search and the print sheet (served map only).
 *
 * Loaded after app.js (it uses window.klimakort: map, state, config). Adds to the panel,
 * below the matrikel search:
 *   - an address search (GET /addresses/search, the area's local DAWA address file) that
 *     zooms to the address and marks it, when CFG.addresses is true;
 *   - "Print / PDF": links to GET /print of the current view (or of the parcel last
 *     searched), the scenario and the hazard layers shown.
 */
(function () {
  "use strict";

  const KK = window.klimakort;
  const I18N = window.KLIMAKORT_I18N;
  if (!KK || KK.config.mode !== "server") return;
  const CFG = KK.config;
  const map = KK.map;

  Object.assign(I18N.da, {
    address: "Adresse", address_placeholder: "Vejnavn og husnummer", address_none: "Ingen adresse fundet",
    print: "Udskriv / PDF", print_pdf: "PDF af kortudsnittet", print_page: "Printside",
    print_parcel: "PDF af matriklen",
  });
  Object.assign(I18N.en, {
    address: "Address", address_placeholder: "Street and house number", address_none: "No address found",
    print: "Print / PDF", print_pdf: "PDF of the view", print_page: "Print page",
    print_parcel: "PDF of the parcel",
  });
  function t(key) {
    const table = I18N[KK.state.lang] || I18N.da;
    return table[key] || I18N.da[key] || key;
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach((c) => c && node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return node;
  }
  function apiUrl(path, params) {
    const q = Object.entries(params || {})
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
    return CFG.api + path + (q ? "?" + q : "");
  }
  const anchor = document.getElementById("kk-search-form").closest("section");

  // ------------------------------------------------------------------ address search

  let marker = null;
  function zoomToAddress(hit) {
    const [w, s, e, n] = hit.bbox;
    map.fitBounds(L.latLngBounds([s, w], [n, e]), { maxZoom: 18 });
    if (marker) map.removeLayer(marker);
    marker = L.circleMarker([hit.lat, hit.lon], {
      pane: "kkHighlight", radius: 9, color: "#000", weight: 2, fillColor: "#ffd400", fillOpacity: 0.9,
    }).bindTooltip(hit.label, { permanent: true, direction: "right", className: "kk-address-tip" }).addTo(map);
  }
  async function searchAddresses(q) {
    const r = await fetch(apiUrl("/addresses/search", { q: q.trim(), limit: 10 }), { headers: { Accept: "application/json" } });
    if (!r.ok) {
      let detail = r.status + " " + r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return r.json();
  }
  async function onAddress(ev) {
    ev.preventDefault();
    const list = document.getElementById("kk-address-results");
    list.innerHTML = "";
    const q = document.getElementById("kk-address").value;
    if (!q.trim()) return;
    let hits;
    try { hits = await searchAddresses(q); } catch (err) {
      list.appendChild(el("li", { class: "kk-error", text: err.message }));
      return;
    }
    if (!hits.length) { list.appendChild(el("li", { text: t("address_none") })); return; }
    hits.forEach((h) => list.appendChild(el("li", { text: h.label, "data-address": h.id, onclick: () => zoomToAddress(h) })));
    zoomToAddress(hits[0]);
  }
  if (CFG.addresses) {
    const section = el("section", { class: "kk-section", id: "kk-address-section" }, [
      el("label", { for: "kk-address", class: "kk-label", "data-i18n": "address", text: t("address") }),
      el("form", { id: "kk-address-form", class: "kk-row", onsubmit: onAddress }, [
        el("input", { id: "kk-address", type: "search", autocomplete: "off", placeholder: t("address_placeholder") }),
        el("button", { type: "submit", class: "kk-btn", "data-i18n": "search_go", text: t("search_go") }),
      ]),
      el("ul", { id: "kk-address-results", class: "kk-results" }),
    ]);
    anchor.after(section);
  }

  // ------------------------------------------------------------------ print

  function shownLayers() {
    return Object.values(KK.state.rasters)
      .filter((r) => r.on && !["hillshade", "terrain"].includes(r.info.id))
      .map((r) => r.info.id).slice(0, 4).join(",");
  }
  function viewBbox() {
    const b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
  }
  function lastParcel() {
    const li = document.querySelector("#kk-search-results li[data-parcel]");
    return li ? li.getAttribute("data-parcel") : null;
  }
  function printUrl(f, what) {
    const params = { scenario: KK.state.scenario, layers: shownLayers(), lang: KK.state.lang, f };
    if (what === "parcel" && lastParcel()) params.parcel = lastParcel();
    else params.bbox = viewBbox();
    return apiUrl("/print", params);
  }
  const links = el("div", { class: "kk-row kk-print-links" });
  const printSection = el("section", { class: "kk-section", id: "kk-print-section" }, [
    el("div", { class: "kk-label", "data-i18n": "print", text: t("print") }), links]);
  function renderLinks() {
    const input = document.getElementById("kk-address");
    if (input) input.placeholder = t("address_placeholder");
    links.innerHTML = "";
    links.appendChild(el("a", { id: "kk-print-pdf-link", class: "kk-btn", target: "_blank", rel: "noopener",
      href: printUrl("pdf", "view"), text: t("print_pdf") }));
    links.appendChild(el("a", { id: "kk-print-page-link", class: "kk-btn", target: "_blank", rel: "noopener",
      href: printUrl("html", "view"), text: t("print_page") }));
    if (lastParcel()) {
      links.appendChild(el("a", { id: "kk-print-parcel-link", class: "kk-btn", target: "_blank", rel: "noopener",
        href: printUrl("pdf", "parcel"), text: t("print_parcel") + " " + lastParcel() }));
    }
  }
  (document.getElementById("kk-address-section") || anchor).after(printSection);
  renderLinks();
  // the links follow the view, the scenario, the layers and the language
  map.on("moveend layeradd layerremove", renderLinks);
  ["kk-scenario", "kk-lang"].forEach((id) => document.getElementById(id).addEventListener(
    id === "kk-lang" ? "click" : "change", () => setTimeout(renderLinks, 0)));
  new MutationObserver(renderLinks).observe(document.getElementById("kk-search-results"), { childList: true });

  Object.assign(KK, { searchAddresses, zoomToAddress, printUrl });
})();
