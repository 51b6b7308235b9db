#!/usr/bin/env bash
# threefold.grid.kubernetes against the localgrid of integration_config.yml: refuse bad variables before
# registering anything, deploy a master and a worker (no kubeconfig on localgrid, which runs no VM, and the
# role says so), re-run (no change, also in check mode), add a worker, ask for the kubeconfig anyway (refused
# before anything changes, nothing written), remove everything (twice). Each step is its own ansible-playbook run so that the
# play recap tells whether anything changed.
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
play up.yml -e workers=2
play fetch.yml
play down.yml
play down.yml -e removed_before=true
unchanged
if grep -F "$(cat "$work/secret.txt")" "$work/all.log"; then
    echo "the cluster secret was printed" >&2
    exit 1
fi
