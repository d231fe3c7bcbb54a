#!/usr/bin/env bash
# System packages the tests use beyond Python: Debian's chromium for the browser test of
# the map; gdal-bin (ogr2ogr) and qgis + python3-qgis, the OGC API - Features clients of
# tests/api/test_ogc_clients.py (about 25 s and 220 s to install); poppler-utils (pdftoppm,
# pdftotext) for the test of the printed PDF. Idempotent; installs only what is missing, and
# only as root with apt-get. On other machines it says what is missing (those tests then
# skip, except under CI=true where they fail).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ogr2ogr >/dev/null 2>&1 || missing+=(gdal-bin)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if ! [ -x /usr/bin/python3 ] || ! /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
    missing+=(qgis python3-qgis)
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: missing system packages: ${missing[*]} (install them as root with apt-get)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing ${missing[*]} from Debian" >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
