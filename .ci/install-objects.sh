#!/usr/bin/env bash
# What the object-storage tests need (tests/objects_s3.rs): moto's S3 server from PyPI, which
# the tests start themselves on a loopback port (moto_server, or python3 -m moto.server when
# pip put the script off PATH). Idempotent.
set -euo pipefail

has_moto() { command -v moto_server >/dev/null 2>&1 || python3 -c 'import moto.server' >/dev/null 2>&1; }
if ! has_moto; then
  python3 -m pip install --quiet 'moto[server]==5.2.6' \
    || python3 -m pip install --quiet --break-system-packages 'moto[server]==5.2.6'
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
has_moto || { echo "moto's S3 server is still missing: pip install 'moto[server]==5.2.6'" >&2; exit 1; }
python3 -c 'import importlib.metadata as m; print("moto", m.version("moto"))'
