#!/usr/bin/env bash
# threefold.grid.web_app against the localgrid of integration_config.yml: bad variables cost nothing, deploy a
# container with a public name, re-run (no change, also in check mode), then remove everything (twice).
# play_steps.sh sets work and suffix and defines play and unchanged.
# shellcheck disable=SC2154
source ../setup_grid/files/play_steps.sh

play setup.yml
play bad_input.yml
play up.yml
play up.yml
unchanged
play up.yml --check
unchanged
play down.yml
play down.yml -e removed_before=true
unchanged
