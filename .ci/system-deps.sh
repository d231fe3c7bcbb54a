#!/usr/bin/env bash
# System packages the tests use beyond Python: Debian's chromium for the browser test of
# the map; poppler-utils (pdftoppm, pdftotext) for the test of the printed PDF. Idempotent;
# installs only what is missing, and only as root with apt-get. On other machines it says
# what is missing (those tests then skip, except under CI=true where they fail).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
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
