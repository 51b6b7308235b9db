#!/usr/bin/env bash
# threefold.grid.container against the localgrid of integration_config.yml: deploy two containers,
# re-run (no change, also in check mode), scale down to one, remove everything (twice), refuse bad
# variables before registering anything, keep a container's address when another one moves, fail cleanly
# on a node error without printing a secret, and spread hosts that place at once by free capacity. Each step
# is its own ansible-playbook run so that the play recap tells whether anything changed.
# play_steps.sh sets work and suffix and defines play and unchanged.
# shellcheck disable=SC2154
source ../setup_grid/files/play_steps.sh

play setup.yml
# The role's own template, from wherever this run installed the collection.
collections="$(ansible-galaxy collection list threefold.grid --format json |
    "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" -c 'import json, sys; print(next(path for path, found in json.load(sys.stdin).items() if found))')"
play placement.yml -e "placement_template=$collections/threefold/grid/roles/container/templates/placement.j2"
play bad_input.yml
play preview.yml --check
play up.yml -e count=2
play up.yml -e count=2
unchanged
play up.yml -e count=2 --check
unchanged
play up.yml -e count=1
play down.yml
play down.yml -e removed_before=true
unchanged
play keep_ip.yml
play node_error.yml -v
if grep -F "$(cat "$work/secret.txt")" "$work/last.log"; then
    echo "the secret env value was printed" >&2
    exit 1
fi
