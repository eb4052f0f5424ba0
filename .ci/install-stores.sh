#!/usr/bin/env bash
# What the tests of the store's other backends need: PostgreSQL's server programs (initdb,
# postgres, pg_ctl; tests/postgres_store.rs makes and starts a private cluster on a loopback
# port, as the postgres user when run as root) and moto's S3 server from PyPI
# (tests/objects_s3.rs starts moto_server, or python3 -m moto.server when pip put the script
# off PATH). No system service is started or configured. Idempotent.
set -euo pipefail

has_initdb() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
if ! has_initdb; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql
fi
has_initdb || { echo "PostgreSQL's initdb is still missing: apt-get install postgresql" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

has_moto() { command -v moto_server >/dev/null 2>&1 || python3 -c 'import moto.server' >/dev/null 2>&1; }
if ! has_moto; then
  python3 -m pip install --quiet 'moto[server]==5.2.6' \
    || python3 -m pip install --quiet --break-system-packages 'moto[server]==5.2.6'
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
has_moto || { echo "moto's S3 server is still missing: pip install 'moto[server]==5.2.6'" >&2; exit 1; }
python3 -c 'import importlib.metadata as m; print("moto", m.version("moto"))'
pg="$(command -v postgres || ls /usr/lib/postgresql/*/bin/postgres | tail -n 1)"
"$pg" --version
