#!/bin/sh
# Install everything medseal needs to build, test and benchmark on Debian 12.
# Run as root (or with sudo available). Safe to run again.
# bsdutils: util-linux `script`, the pseudo-terminal of tests/integration/test_progress.sh.
set -eu
PKGS="build-essential cmake pkg-config python3 clang libclang-rt-14-dev
libssl-dev openssl zlib1g-dev libpng-dev libsodium-dev libjson-c-dev
libsqlite3-dev sqlite3 libpq-dev libevent-dev libcharls-dev
python3-pydicom python3-numpy python3-nibabel python3-skimage python3-cryptography
python3-pil python3-nacl
dcmtk libgdcm-tools libgdcm3.0 dicom3tools libxml2-utils pmccabe time
bsdutils"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
