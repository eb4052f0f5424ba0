#!/usr/bin/env bash
# What the packaging tests need (tests/package.rs, tests/completions.rs): cargo-deb 3.8.0,
# which builds the Debian package (packaging/build-deb.sh), installed with cargo unless that
# version is already there; dpkg, adduser and systemd-analyze (from systemd) to install the
# package and verify its unit; runuser (util-linux) to run a pass as the service user; man
# (man-db) to render the man page. Idempotent.
set -euo pipefail

need=()
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
[ -x /usr/sbin/adduser ] || need+=(adduser)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v deb-systemd-helper >/dev/null 2>&1 || need+=(init-system-helpers)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v man >/dev/null 2>&1 || need+=(man-db)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if [ "$(cargo deb --version 2>/dev/null | awk '{print $2}')" != "3.8.0" ]; then
  cargo install cargo-deb --version 3.8.0 --locked
fi
cargo deb --version
