#!/usr/bin/env bash
# The short fuzzing run of the test command (docs/fuzzing.md): every fuzz
# target first replays the crash reproducers found so far
# (fuzz/artifacts-found/<target>/), then fuzzes for a few seconds starting
# from its committed seed corpus (fuzz/corpus/<target>/). Any crash, timeout
# or memory blow-up fails the run. Safe to run again; needs rustup with a
# nightly toolchain (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

# Seconds of fuzzing per target (the long runs use the same targets, see docs/fuzzing.md).
seconds="${FUZZ_SMOKE_SECONDS:-10}"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
# libFuzzer itself is C++, built by libfuzzer-sys.
if ! command -v c++ >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# No sanitizer: the code under test is safe Rust, and libFuzzer still catches
# panics, aborts, stack overflows, timeouts and memory limits (build and runs
# are several times faster than with AddressSanitizer). 16 codegen units: a
# much shorter build for slightly slower runs. `run` must get the same build
# flags as `build`, or it rebuilds everything.
fuzz=(cargo +nightly fuzz)
build_flags=(--sanitizer none --codegen-units 16)
# Production's limits: a scan must never take 10 s on one small input, nor 2 GB.
libfuzzer_flags=(-timeout=10 -rss_limit_mb=2048)

"${fuzz[@]}" build "${build_flags[@]}"

# New inputs go to a scratch corpus; the committed seeds are only read.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Every target runs even after one fails, so one run names every crash.
failed=()
for target in $("${fuzz[@]}" list); do
  found="fuzz/artifacts-found/$target"
  if compgen -G "$found/*" >/dev/null; then
    echo "fuzz-smoke: $target: replaying the reproducers in $found"
    "${fuzz[@]}" run "${build_flags[@]}" "$target" "$found"/* -- "${libfuzzer_flags[@]}" \
      || failed+=("$target (a reproducer in $found)")
  fi
  echo "fuzz-smoke: $target: fuzzing ${seconds}s from fuzz/corpus/$target"
  mkdir -p "$scratch/$target"
  "${fuzz[@]}" run "${build_flags[@]}" "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    "${libfuzzer_flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    || failed+=("$target (fuzzing; the input is in fuzz/artifacts/$target/)")
done
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'fuzz-smoke: crashed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fuzz-smoke: every target ran without a crash"
