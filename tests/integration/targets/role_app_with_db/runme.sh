#!/usr/bin/env bash
# threefold.grid.app_with_db against the localgrid of integration_config.yml: refuse a bad capacity
# before registering anything, deploy, re-run (no change), remove, remove again (no change). Each step
# is its own ansible-playbook run so that the play recap tells whether anything changed.
# play_steps.sh sets work and suffix and defines play and unchanged.
# shellcheck disable=SC2154
source ../setup_grid/files/play_steps.sh

play setup.yml
play bad_input.yml
play preview.yml --check
play up.yml
play up.yml
unchanged
play down.yml
play down.yml -e removed_before=true
unchanged
if grep -F "$(cat "$work/db.password")" "$work/all.log"; then
    echo "the database password was printed" >&2
    exit 1
fi
