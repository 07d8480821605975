#!/usr/bin/env bash
# A long fuzzing run of one target (docs/fuzzing.md), in fork mode so one
# known crash does not end it: crashes, timeouts and memory blow-ups are kept
# in fuzz/artifacts/<target>/ and the run goes on. New corpus entries go to
# fuzz/runs/<target>/ (not committed); the committed seeds are only read.
#   fuzz/long-run.sh TARGET SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
target="$1"
seconds="$2"
mkdir -p "fuzz/runs/$target" "fuzz/artifacts/$target"
exec cargo +nightly fuzz run --sanitizer none --codegen-units 16 "$target" "fuzz/runs/$target" "fuzz/corpus/$target" -- \
  -timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" \
  -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -print_final_stats=1
