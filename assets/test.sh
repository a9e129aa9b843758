#!/usr/bin/env bash
# The project's test command (the README's second line): formatting, lints, then every test
# target with the local libvirt lab up and required, so lab tests fail instead of skipping.
# Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The build links libvirt (libvirt-dev), so the packages come first; a no-op when present.
echo "==> assets/lab/lab.sh install"
assets/lab/lab.sh install

echo "==> cargo fmt --check"
cargo fmt --check

# Compile first: building and booting the guests both want the CPU, one after the other is
# faster than both at once on a small machine.
echo "==> cargo build --all-targets"
cargo build --all-targets --locked

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

echo "==> assets/lab/lab.sh up"
assets/lab/lab.sh up

echo "==> cargo test --all-targets $*"
export NOVACRON_REQUIRE_LAB=1
cargo test --all-targets --locked "$@"
