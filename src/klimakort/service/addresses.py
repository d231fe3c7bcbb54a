"""Address search from a local address file (DAWA adgangsadresser), offline.

The area names the file in ``area.toml``::

    [addresses]
    path = "layers/adresser.csv"     # DAWA CSV export, or GeoJSON (points)
    crs = "EPSG:25832"               # of x/y columns; default EPSG:25832

Understood schemas (the column names of DAWA's ``/adgangsadresser?format=csv`` and
``format=geojson&struktur=flad`` exports):

* ``vejnavn``, ``husnr``, ``postnr``, ``postnrnavn`` (or one ``adresse`` / ``betegnelse``
  text ``"Vejnavn 12A, 2625 By"``, parsed);
* coordinates ``etrs89koordinat_øst`` / ``etrs89koordinat_nord`` (EPSG:25832), ``x`` /
  ``y`` (``[addresses] crs``), ``wgs84koordinat_længde`` / ``wgs84koordinat_bredde``
  (lon/lat), or a GeoJSON geometry (its centroid for polygons);
* ``id`` (the DAWA UUID) when present.

Search (:meth:`AddressIndex.search`) is case-free and folds Danish letters (æ -> ae,
ø -> oe, å -> aa, é -> e; so ``Vallensbaek`` finds ``Vallensbæk``): every word of the query
must start a word of the street or post-town name, every number must start the house
number or the postcode (exact numbers first). Only when nothing matches so, a word may be
one edit away from the start of a name word (two for long words: ``Parc Alle`` finds
``Park Alle``). Words are matched per street, not per address, so a query costs
microseconds per street.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klimakort.config.area import AddressesRef, AreaConfig
from klimakort.errors import ConfigError, DataNotFoundError, ParameterError
from klimakort.io.geojson_input import transformer

#: longest query accepted
MAX_QUERY = 200
#: half the side of the box returned around an address (m), for zooming
BOX_M = 30.0
_X_COLS = ("etrs89koordinat_øst", "etrs89koordinat_oest", "x", "adgangspunkt_x")
_Y_COLS = ("etrs89koordinat_nord", "y", "adgangspunkt_y")
_LON_COLS = ("wgs84koordinat_længde", "wgs84koordinat_laengde", "lon", "longitude")
_LAT_COLS = ("wgs84koordinat_bredde", "lat", "latitude")
_TEXT_COLS = ("adresse", "betegnelse", "adressebetegnelse")
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss"})
_ADDRESS_TEXT = re.compile(r"^\s*(?P<vej>.*?\D)\s+(?P<husnr>\d+\s*[A-Za-z]?)\b(?P<rest>.*)$")
_POSTCODE_TOWN = re.compile(r"(?P<postnr>\d{4})\s+(?P<by>[^,\d][^,]*?)\s*$")


def fold(text: str) -> str:
    """Lower-case, Danish letters spelled out, accents dropped, punctuation to spaces."""
    low = str(text).lower().translate(_FOLD)
    plain = unicodedata.normalize("NFKD", low).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def _edits(a: str, b: str, cap: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``cap + 1`` once it exceeds ``cap``."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


def _allowed(word: str) -> int:
    return 2 if len(word) >= 8 else 1 if len(word) >= 4 else 0


@lru_cache(maxsize=65536)
def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def terms(tokens: Sequence[str]) -> tuple[str, ...]:
    """The words a query word is matched against: the tokens and each two consecutive
    tokens joined (``parkalle`` matches ``park alle``)."""
    return tuple(tokens) + tuple("".join(tokens[i : i + 2]) for i in range(len(tokens) - 1))


def fuzzy_term(word: str, term: str) -> bool:
    """Whether ``word`` is within the allowed edits (1 from 4 letters, 2 from 8) of the
    start of ``term``."""
    cap = _allowed(word)
    if cap == 0:
        return False
    n = len(word)
    # q-gram filter: k edits destroy at most 2k of the word's n - 1 bigrams
    own = _bigrams(word)
    need = (n - 1) - 2 * cap - ((n - 1) - len(own))
    if need > 0 and len(own & _bigrams(term[: n + cap])) < need:
        return False
    return any(
        0 < k <= len(term) + 1 and _edits(word, term[:k], cap) <= cap for k in (n - 1, n, n + 1)
    )


def word_match(word: str, tokens: Sequence[str]) -> int | None:
    """0 when ``word`` starts one of ``tokens`` (or two of them joined), 1 when it is
    within the allowed edits of the start of one (see the module docstring), None
    otherwise."""
    all_terms = terms(tokens)
    if any(t.startswith(word) for t in all_terms):
        return 0
    if any(fuzzy_term(word, t) for t in all_terms):
        return 1
    return None


def _husnr_key(husnr: str) -> tuple[int, str]:
    m = re.match(r"(\d+)(.*)", husnr)
    return (int(m.group(1)), m.group(2).strip().lower()) if m else (1 << 30, husnr.lower())


@dataclass(frozen=True)
class _Street:
    """Addresses of one street in one postcode: the unit words are matched against."""

    terms: frozenset[str]  # tokens and joined pairs of street and post-town names
    rows: np.ndarray  # indices into the index's arrays, in house-number order


class AddressIndex:
    """Addresses of an area with a fast folded prefix / fuzzy search.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``vejnavn``, ``husnr``, ``postnr``, ``postnrnavn``, ``x``, ``y`` (area
        CRS) and optionally ``id``.
    crs : str
        CRS of ``x``/``y``.
    """

    def __init__(self, table: pd.DataFrame, crs: str = "EPSG:25832") -> None:
        t = table.reset_index(drop=True)
        self.crs = crs
        self.vejnavn = t["vejnavn"].astype(str).str.strip().to_numpy()
        self.husnr = t["husnr"].astype(str).str.replace(" ", "").to_numpy()
        self.postnr = t["postnr"].astype(str).str.strip().to_numpy()
        self.postnrnavn = t["postnrnavn"].fillna("").astype(str).str.strip().to_numpy()
        self.x = t["x"].to_numpy(dtype=np.float64)
        self.y = t["y"].to_numpy(dtype=np.float64)
        ids = t["id"] if "id" in t else pd.Series(np.arange(len(t)).astype(str))
        self.ids = ids.astype(str).to_numpy()
        self._husnr_u = np.array([fold(h).replace(" ", "") for h in self.husnr], dtype=str)
        self._postnr_u = self.postnr.astype(str)
        groups: dict[tuple[str, str, str], list[int]] = {}
        for i, key in enumerate(zip(self.vejnavn, self.postnr, self.postnrnavn, strict=True)):
            groups.setdefault(key, []).append(i)
        streets = []
        for (vej, _nr, by), rows in sorted(
            groups.items(), key=lambda kv: (fold(kv[0][0]), kv[0][1])
        ):
            rows.sort(key=lambda i: _husnr_key(str(self.husnr[i])))
            tokens = tuple(fold(vej).split()) + tuple(fold(by).split())
            streets.append(_Street(frozenset(terms(tokens)), np.asarray(rows, dtype=np.int64)))
        self._streets = streets
        self._vocabulary = sorted(set().union(*(st.terms for st in streets))) if streets else []
        self._lonlat: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def label(self, i: int) -> str:
        """``Vejnavn 12A, 2625 By``."""
        tail = f", {self.postnr[i]} {self.postnrnavn[i]}".rstrip()
        return f"{self.vejnavn[i]} {self.husnr[i]}{tail}"

    def _lonlat_of(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._lonlat is None:
                lon, lat = transformer(self.crs, "OGC:CRS84").transform(self.x, self.y)
                self._lonlat = (np.asarray(lon), np.asarray(lat))
            return self._lonlat

    def search(self, q: str, limit: int = 10) -> list[dict[str, Any]]:
        """Addresses matching ``q``, best first (exact words, then fuzzy; street, number).

        Returns
        -------
        list of dict
            ``id``, ``label``, ``vejnavn``, ``husnr``, ``postnr``, ``postnrnavn``, ``x``,
            ``y`` (area CRS), ``crs``, ``lon``, ``lat`` and ``bbox`` (CRS84, a box of
            ±:data:`BOX_M` m to zoom to), ``fuzzy``.

        Raises
        ------
        ParameterError
            Empty or too long query, ``limit`` outside 1..100.
        """
        text = fold(q or "")
        if not text or len(q) > MAX_QUERY:
            raise ParameterError(f"q must hold 1 to {MAX_QUERY} characters of an address")
        if not 1 <= limit <= 100:
            raise ParameterError(f"limit={limit} must be within 1..100")
        words = [w for w in text.split() if not w[0].isdigit()]
        numbers = [w for w in text.split() if w[0].isdigit()]
        # "12 a" -> "12a": a lone letter after a number belongs to the house number
        if len(words) and numbers and len(words[-1]) == 1 and text.endswith(" " + words[-1]):
            numbers[-1] += words.pop()
        found = self._matches(words, numbers, fuzzy=False, limit=limit)
        if not found and any(_allowed(w) for w in words):  # nothing exact: typos
            found = self._matches(words, numbers, fuzzy=True, limit=limit)
        found.sort(key=lambda fr: (fr[0], fr[1]))  # stable: street order and house numbers kept
        return [self._hit(i, bool(f)) for f, _, i in found[:limit]]

    def _matches(
        self, words: list[str], numbers: list[str], *, fuzzy: bool, limit: int
    ) -> list[tuple[int, int, int]]:
        """``(fuzzy, number rank, row)`` of the addresses matching every word (exactly, or
        with ``fuzzy`` one word or more within the allowed edits) and every number."""
        exact = [{t for t in self._vocabulary if t.startswith(w)} for w in words]
        near = [
            {t for t in self._vocabulary if t not in ex and fuzzy_term(w, t)} if fuzzy else set()
            for w, ex in zip(words, exact, strict=True)
        ]
        found: list[tuple[int, int, int]] = []
        for street in self._streets:
            score = 0
            for ex, nr in zip(exact, near, strict=True):
                if street.terms.isdisjoint(ex):
                    if street.terms.isdisjoint(nr):
                        break
                    score = 1
            else:
                if fuzzy and score == 0:
                    continue  # found by the exact pass
                rows, rank = street.rows, np.zeros(len(street.rows), dtype=np.int64)
                for num in (n for n in numbers if n not in street.terms):  # "Vej 2" names
                    r = self._number_rank(rows, num)
                    keep = r < 2
                    rows, rank = rows[keep], rank[keep] + r[keep]
                found.extend((score, int(k), int(i)) for k, i in zip(rank, rows, strict=True))
                if not fuzzy and sum(1 for _, k, _ in found if k == 0) >= limit:
                    break
        return found

    def _number_rank(self, rows: np.ndarray, num: str) -> np.ndarray:
        """Per row: 0 when ``num`` is the house number or the postcode, 1 when it starts
        one of them, 2 otherwise."""
        hus = self._husnr_u[rows]
        post = self._postnr_u[rows]
        exact = (hus == num) | (post == num)
        prefix = np.char.startswith(hus, num) | np.char.startswith(post, num)
        return np.where(exact, 0, np.where(prefix, 1, 2))

    def _hit(self, i: int, fuzzy: bool) -> dict[str, Any]:
        lon, lat = self._lonlat_of()
        tr = transformer(self.crs, "OGC:CRS84")
        x, y = float(self.x[i]), float(self.y[i])
        west, south, east, north = tr.transform_bounds(x - BOX_M, y - BOX_M, x + BOX_M, y + BOX_M)
        return {
            "id": str(self.ids[i]),
            "label": self.label(i),
            "vejnavn": str(self.vejnavn[i]),
            "husnr": str(self.husnr[i]),
            "postnr": str(self.postnr[i]),
            "postnrnavn": str(self.postnrnavn[i]),
            "x": round(x, 2),
            "y": round(y, 2),
            "crs": self.crs,
            "lon": round(float(lon[i]), 7),
            "lat": round(float(lat[i]), 7),
            "bbox": [round(float(v), 7) for v in (west, south, east, north)],
            "fuzzy": fuzzy,
        }


def _first(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _parse_texts(texts: pd.Series) -> pd.DataFrame:
    """``"Vejnavn 12A[, etage], 2625 By"`` -> vejnavn, husnr, postnr, postnrnavn."""
    parts = texts.astype(str).str.extract(_ADDRESS_TEXT)
    town = parts["rest"].fillna("").str.extract(_POSTCODE_TOWN)
    return pd.DataFrame(
        {
            "vejnavn": parts["vej"].fillna("").str.strip(),
            "husnr": parts["husnr"].fillna("").str.replace(" ", ""),
            "postnr": town["postnr"].fillna(""),
            "postnrnavn": town["by"].fillna(""),
        }
    )


def _fields(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    cols = list(frame.columns)
    named = [_first(cols, (n,)) for n in ("vejnavn", "husnr", "postnr", "postnrnavn")]
    if all(named[:2]):
        out = pd.DataFrame(
            {
                key: frame[col].fillna("").astype(str) if col else ""
                for key, col in zip(
                    ("vejnavn", "husnr", "postnr", "postnrnavn"), named, strict=True
                )
            }
        )
    elif (text := _first(cols, _TEXT_COLS)) is not None:
        out = _parse_texts(frame[text])
    else:
        raise ConfigError(
            f"{where}: no address fields; give vejnavn, husnr, postnr, postnrnavn (DAWA "
            f"adgangsadresser) or one of {', '.join(_TEXT_COLS)}; columns are {cols[:20]}"
        )
    if (idc := _first(cols, ("id", "adgangsadresseid", "adresseid"))) is not None:
        out["id"] = frame[idc].astype(str).to_numpy()
    return out


def _xy(frame: pd.DataFrame, crs: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    cols = list(frame.columns)
    xc, yc = _first(cols, _X_COLS), _first(cols, _Y_COLS)
    if xc and yc:
        x = pd.to_numeric(frame[xc], errors="coerce").to_numpy(dtype=np.float64)
        y = pd.to_numeric(frame[yc], errors="coerce").to_numpy(dtype=np.float64)
        return x, y
    lonc, latc = _first(cols, _LON_COLS), _first(cols, _LAT_COLS)
    if lonc and latc:
        lon = pd.to_numeric(frame[lonc], errors="coerce").to_numpy(dtype=np.float64)
        lat = pd.to_numeric(frame[latc], errors="coerce").to_numpy(dtype=np.float64)
        x, y = transformer("OGC:CRS84", crs).transform(lon, lat)
        return np.asarray(x), np.asarray(y)
    raise ConfigError(
        f"{where}: no coordinates; give etrs89koordinat_øst/etrs89koordinat_nord, x/y or "
        "wgs84koordinat_længde/wgs84koordinat_bredde"
    )


def read_addresses(
    path: str | Path, *, crs: str | None = None, area_crs: str = "EPSG:25832"
) -> AddressIndex:
    """Read a DAWA-style address file into an :class:`AddressIndex` in ``area_crs``.

    Parameters
    ----------
    path : path-like
        ``.csv`` (DAWA CSV export) or a vector file (GeoJSON, GeoPackage) of points.
    crs : str, optional
        CRS of ``x``/``y`` columns (default ``area_crs``); vector files carry their own.
    area_crs : str
        CRS of the index.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    ConfigError
        No address fields or coordinates (the message lists what is understood).
    """
    p = Path(path)
    where = f"addresses.path {p}"
    if not p.is_file():
        raise DataNotFoundError(f"{where}: file not found")
    if p.suffix.lower() in (".csv", ".txt"):
        frame = pd.read_csv(p, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        table = _fields(frame, where)
        x, y = _xy(frame, crs or area_crs, where)
        if crs and crs != area_crs:
            x, y = (np.asarray(v) for v in transformer(crs, area_crs).transform(x, y))
    else:
        import geopandas as gpd

        gdf = gpd.read_file(p)
        table = _fields(pd.DataFrame(gdf.drop(columns="geometry")), where)
        if gdf.crs is None:
            gdf = gdf.set_crs(crs or "OGC:CRS84")
        pts = gdf.geometry.to_crs(area_crs)
        pts = pts.where(pts.geom_type == "Point", pts.representative_point())
        x, y = pts.x.to_numpy(), pts.y.to_numpy()
    table["x"], table["y"] = x, y
    ok = np.isfinite(x) & np.isfinite(y) & table["vejnavn"].astype(bool).to_numpy()
    ok &= table["husnr"].astype(bool).to_numpy()
    return AddressIndex(table[ok], area_crs)


_CACHE: dict[tuple[str, int, str | None, str], AddressIndex] = {}
_CACHE_LOCK = threading.Lock()


def area_addresses(cfg: AreaConfig) -> AddressIndex:
    """The address index of an area (read once per file version).

    Raises
    ------
    DataNotFoundError
        The area has no ``[addresses]`` table, or its file is missing.
    """
    ref: AddressesRef | None = cfg.addresses
    if ref is None:
        raise DataNotFoundError(
            f"the area {cfg.name!r} has no address file: add [addresses] path = "
            "'adresser.csv' (a DAWA adgangsadresser export) to its area.toml"
        )
    path = Path(ref.path)
    if not path.is_file():
        raise DataNotFoundError(f"addresses.path {path}: file not found")
    key = (str(path), path.stat().st_mtime_ns, ref.crs, str(cfg.crs))
    with _CACHE_LOCK:
        index = _CACHE.get(key)
    if index is None:
        index = read_addresses(path, crs=ref.crs, area_crs=str(cfg.crs))
        with _CACHE_LOCK:
            _CACHE.clear()  # one area served per process: keep the newest version only
            _CACHE[key] = index
    return index


def search_addresses(cfg: AreaConfig, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Addresses of the area matching ``q`` (see :meth:`AddressIndex.search`)."""
    return area_addresses(cfg).search(q, limit)
