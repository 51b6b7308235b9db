#!/usr/bin/env bash
# threefold.grid.web_app against the localgrid of integration_config.yml: bad variables cost nothing, deploy a
# container with a public name, re-run (no change, also in check mode), switch to a reverse proxy (its secret
# never printed), then remove everything (twice).
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
printf 'tunnel-%s' "$suffix" > "$work/tunnel.secret"
play tunnel.yml -v
if grep -F "$(cat "$work/tunnel.secret")" "$work/last.log"; then
    echo "the tunnel secret was printed" >&2
    exit 1
fi
play down.yml
play down.yml -e removed_before=true
unchanged
