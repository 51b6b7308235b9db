#!/usr/bin/env bash
# Development helper: run the collection's unit tests (or the pytest args given) from a fresh copy of
# the working tree under a temporary ansible_collections/threefold/grid.
source "$(dirname "$0")/lib.sh"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
tree="$(stage_tree "$tmp")"
cd "$tree"
[ "$#" -gt 0 ] || set -- tests/unit
# The collection loader plugin lets tests load plugins (inventory) through Ansible's loaders, as ansible-test does.
PYTHONPATH="$tmp" ANSIBLE_COLLECTIONS_PATH="$tmp" ANSIBLE_CONTROLLER_MIN_PYTHON_VERSION=3.12 \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    -p ansible_test._util.target.pytest.plugins.ansible_pytest_collections "$@"
