#!/usr/bin/env bash
# Builds the Debian package of intake: the binary, then the assets generated from it into
# target/deb-assets/ (the configuration written by `intake init` for /etc/intake with data in
# /var/lib/intake, the man page, bash/zsh/fish completions), then `cargo deb --no-build`.
# Prints the path of the .deb on its last line.
#
#   packaging/build-deb.sh          # release build: what is installed on servers (and the
#                                   # debug symbols as intake-dbgsym_*.ddeb)
#   packaging/build-deb.sh --dev    # the dev build, stripped, fast compression (for tests)
#   packaging/build-deb.sh --dev --no-build   # the binary already built (by cargo test)
#
# Needs cargo-deb 3.8.0 (.ci/install-package-tools.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
build=yes
for arg in "$@"; do
  case "$arg" in
    --dev) profile=dev ;;
    --no-build) build=no ;;
    *) echo "usage: $0 [--dev] [--no-build]" >&2; exit 2 ;;
  esac
done
if ! cargo deb --version >/dev/null 2>&1; then
  echo "cargo-deb is missing: run bash .ci/install-package-tools.sh" \
       "(cargo install cargo-deb --version 3.8.0 --locked)" >&2
  exit 1
fi

target_dir=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
if [ "$profile" = release ]; then
  [ "$build" = no ] || cargo build --release --locked --bin intake
  bin="$target_dir/release/intake"
  # The binary without its debug symbols; they go to intake-dbgsym_*.ddeb beside the .deb,
  # for file and line numbers in backtraces when needed.
  deb_flags=(--dbgsym)
else
  [ "$build" = no ] || cargo build --locked --bin intake
  bin="$target_dir/debug/intake"
  # cargo-deb warns that the dev profile is not meant for releases; this one is for tests.
  deb_flags=(--profile dev --strip --fast)
fi

[ -x "$bin" ] || { echo "$bin is missing: build it first" >&2; exit 1; }
assets=target/deb-assets
rm -rf "$assets"
mkdir -p "$assets/completions"
"$bin" init "$assets/etc/intake" --data-dir /var/lib/intake >/dev/null
"$bin" manpage | gzip -9n > "$assets/intake.1.gz"
"$bin" completions bash > "$assets/completions/intake.bash"
"$bin" completions zsh > "$assets/completions/_intake"
"$bin" completions fish > "$assets/completions/intake.fish"

out="$target_dir/debian"
mkdir -p "$out"
cargo deb --no-build --locked --output "$out" "${deb_flags[@]}" >&2
deb=$(ls -t "$out"/intake_*.deb | head -n 1)
echo "$deb"
