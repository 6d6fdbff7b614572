#!/usr/bin/env bash
# Fuzz the gateway's decoders (fuzz/fuzz_targets/decode.rs), or its other parsers (ISO
# times, Open311 queries, CAP: fuzz_targets/parsers.rs), for a bounded time:
#   tools/fuzz.sh [SECONDS] [TARGET]   (default 300 decode)
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and the nightly toolchain that cargo-fuzz
# builds with. Seeds: every client example of PROTOCOL.md (fuzz/corpus/decode). Prints
# libFuzzer's closing statistics; a crash leaves its input in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-300}"
target="${2:-decode}"
cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -print_final_stats=1 2>&1 |
  grep -E "^(stat::|Done|#[0-9]+ *DONE|==[0-9]+==|SUMMARY|artifact)" || true
test ! -d "artifacts/$target" || test -z "$(ls -A "artifacts/$target" 2>/dev/null)"
