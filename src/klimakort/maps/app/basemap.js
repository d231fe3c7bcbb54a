/* klimakort base map: the configured Danish base map (CFG.basemap), OpenStreetMap otherwise.
 *
 * CFG.basemap (klimakort.maps.basemap.page_config):
 *   crs "EPSG:3857":  Web Mercator tiles ({z}/{x}/{y} or a GoogleMapsCompatible WMTS):
 *                     an ordinary L.tileLayer;
 *   crs "EPSG:25832": Dataforsyningen's View1 grid (DKUTM32): the map keeps Web Mercator
 *                     (every overlay stays as it is) and each Web Mercator tile is a canvas
 *                     drawn from the UTM tiles under it, one affine transform per tile
 *                     (UTM -> Mercator is affine to far below a pixel over one tile).
 * Loaded before app.js, which calls KlimakortBasemap.create(map, CFG) for its base layer.
 */
(function () {
  "use strict";

  const OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  const UTM32 = "+proj=utm +zone=32 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs";
  const MAX_SOURCE_TILES = 16;

  function sourceUrl(template, z, x, y) {
    return template.replace("{z}", z).replace("{x}", x).replace("{y}", y);
  }

  /* The affine map from EPSG:25832 (E, N) to the pixels (u, v) of one canvas tile, given
   * the tile's corners top-left p0, top-right p1 and bottom-left p2 in EPSG:25832. */
  function affineFromCorners(p0, p1, p2, w, h) {
    const a11 = (p1[0] - p0[0]) / w, a12 = (p2[0] - p0[0]) / h;
    const a21 = (p1[1] - p0[1]) / w, a22 = (p2[1] - p0[1]) / h;
    const det = a11 * a22 - a12 * a21;
    const a = a22 / det, b = -a12 / det, d = -a21 / det, e = a11 / det;
    return { a, b, c: -(a * p0[0] + b * p0[1]), d, e, f: -(d * p0[0] + e * p0[1]) };
  }

  /* The View1 level whose cell is the coarsest not coarser than res (m/px). */
  function levelFor(grid, res) {
    const level = Math.ceil(Math.log2(grid.cell0 / res) - 1e-9);
    return Math.max(0, Math.min(grid.max_level, level));
  }

  const UtmGrid = L.GridLayer.extend({
    initialize(cfg, options) {
      this._cfg = cfg;
      this.kkStats = { requested: 0, loaded: 0, failed: 0 };
      L.GridLayer.prototype.initialize.call(this, options);
    },
    createTile(coords, done) {
      const size = this.getTileSize();
      const tile = document.createElement("canvas");
      tile.width = size.x;
      tile.height = size.y;
      const grid = this._cfg.grid;
      const map = this._map;
      const nw = coords.scaleBy(size);
      const corner = (dx, dy) => {
        const ll = map.unproject([nw.x + dx, nw.y + dy], coords.z);
        return proj4("EPSG:4326", "EPSG:25832", [ll.lng, ll.lat]);
      };
      const p0 = corner(0, 0), p1 = corner(size.x, 0), p2 = corner(0, size.y), p3 = corner(size.x, size.y);
      const res = Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) / size.x;
      const level = levelFor(grid, res);
      const cell = grid.cell0 / Math.pow(2, level);
      const span = cell * grid.tile_size;
      const [ox, oy] = grid.origin;
      const es = [p0[0], p1[0], p2[0], p3[0]], ns = [p0[1], p1[1], p2[1], p3[1]];
      const c0 = Math.max(0, Math.floor((Math.min(...es) - ox) / span));
      const c1 = Math.floor((Math.max(...es) - ox) / span);
      const r0 = Math.max(0, Math.floor((oy - Math.max(...ns)) / span));
      const r1 = Math.floor((oy - Math.min(...ns)) / span);
      const jobs = [];
      for (let row = r0; row <= r1; row++) for (let col = c0; col <= c1; col++) jobs.push([col, row]);
      if (!jobs.length || jobs.length > MAX_SOURCE_TILES) { setTimeout(() => done(null, tile), 0); return tile; }
      const m = affineFromCorners(p0, p1, p2, size.x, size.y);
      const ctx = tile.getContext("2d");
      let pending = jobs.length;
      const finish = () => { if (--pending === 0) done(null, tile); };
      jobs.forEach(([col, row]) => {
        const img = new Image();
        const e0 = ox + col * span, n0 = oy - row * span;
        this.kkStats.requested += 1;
        img.onload = () => {
          ctx.setTransform(m.a * cell, m.d * cell, -m.b * cell, -m.e * cell,
            m.a * e0 + m.b * n0 + m.c, m.d * e0 + m.e * n0 + m.f);
          // anti-aliased edges of neighbouring source tiles let the background through:
          // draw each tile one pixel larger first (filling the seams), then exactly
          const ts = grid.tile_size;
          ctx.drawImage(img, 0, 0, img.naturalWidth, img.naturalHeight, -1, -1, ts + 2, ts + 2);
          ctx.drawImage(img, 0, 0, img.naturalWidth, img.naturalHeight, 0, 0, ts, ts);
          this.kkStats.loaded += 1;
          finish();
        };
        img.onerror = () => { this.kkStats.failed += 1; finish(); };
        img.src = sourceUrl(this._cfg.url, level, col, row);
      });
      return tile;
    },
  });

  function osmLayer(CFG) {
    const layer = L.tileLayer(CFG.basemap_url || OSM_URL, {
      maxZoom: 19, attribution: "© OpenStreetMap", className: "kk-basemap",
    });
    layer.kkKind = "osm";
    return layer;
  }

  function setLabels(title) {
    const i18n = window.KLIMAKORT_I18N;
    if (!i18n || !title) return;
    Object.keys(i18n).forEach((lang) => { i18n[lang].basemap = title[lang] || title.da || i18n[lang].basemap; });
  }

  /* The base layer of the map: the configured base map (shown at start), or
   * OpenStreetMap (not shown at start: it needs the internet). */
  function create(map, CFG) {
    const b = CFG.basemap;
    if (!b || !b.available) {
      if (b && b.reason) console.warn("klimakort base map: " + b.reason + "; OpenStreetMap instead");
      return osmLayer(CFG);
    }
    if (window.proj4 && !proj4.defs("EPSG:25832")) proj4.defs("EPSG:25832", UTM32);
    setLabels(b.title);
    const opts = {
      maxZoom: CFG.max_zoom || 20, attribution: b.attribution || "", zIndex: 0,
      className: "kk-basemap kk-basemap-dk",
    };
    let layer;
    if (b.crs === "EPSG:25832") {
      layer = new UtmGrid(b, opts);
    } else {
      layer = L.tileLayer(b.url, Object.assign(opts, { maxNativeZoom: b.max_zoom }));
    }
    layer.kkKind = b.crs === "EPSG:25832" ? "utm" : "mercator";
    layer.addTo(map);
    return layer;
  }

  window.KlimakortBasemap = { create, affineFromCorners, levelFor, osmLayer };
})();
