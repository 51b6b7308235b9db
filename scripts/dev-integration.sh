#!/usr/bin/env bash
# Development helper: run integration targets (all, or those named) against a fresh localgrid,
# from a copy of the working tree. Extra ansible-test arguments may follow the targets.
source "$(dirname "$0")/lib.sh"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
tree="$(stage_tree "$tmp")"
export PATH="$VENV/bin:$PATH"
cd "$tree"
"$REPO_ROOT/scripts/with-localgrid.sh" bash -c '
    "$0/scripts/write-integration-config.sh" "$PWD" &&
    ansible-test integration --local --python 3.13 --color no "$@"' "$REPO_ROOT" "$@"
