#!/usr/bin/env bash
# Development helper: run the collection's unit tests (or the pytest args given) from a fresh copy of
# the working tree under a temporary ansible_collections/threefold/grid.
source "$(dirname "$0")/lib.sh"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
tree="$(stage_tree "$tmp")"
cd "$tree"
[ "$#" -gt 0 ] || set -- tests/unit
PYTHONPATH="$tmp" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
