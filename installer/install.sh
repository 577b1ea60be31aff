#!/bin/sh
# Air-gapped install of the Frontier Review Workstation from a verified package on removable media.
#
#   sh install.sh --ca-cert /media/ca.pem --venv /opt/frontier-review/venv
#
# Verifies SHA256SUMS' signature against the CA certificate, every hash and the archive's contents,
# installs with `pip install --no-index --require-hashes` into a fresh virtual environment and runs
# `frontier-review selftest`. Nothing is fetched: pip sees no index and no configuration file.
# Check this script itself first (docs/INSTALL.md): it is listed in the signed SHA256SUMS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python not found; set PYTHON=/path/to/python3.13 (or use the bundle, which needs no Python)" >&2
  exit 2
fi
exec "$python" "$here/build_installer.py" install --package-dir "$here" --python "$python" "$@"
