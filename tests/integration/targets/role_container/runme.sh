#!/usr/bin/env bash
# threefold.grid.container against the localgrid of integration_config.yml: deploy two containers,
# re-run (no change, also in check mode), scale down to one, remove everything (twice), refuse bad
# variables before registering anything, keep a container's address when another one moves, and fail
# cleanly on a node error without printing a secret. Each step is its own ansible-playbook run so
# that the play recap tells whether anything changed.
set -euxo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
suffix="$(date +%s%N | tail -c 9)$RANDOM"

play() {
    ansible-playbook -i "${INVENTORY_PATH}" -e @../../integration_config.yml \
        -e "work_dir=$work" -e "suffix=$suffix" "$@" | tee "$work/last.log"
}
unchanged() {
    grep -E '^localhost +:' "$work/last.log" | grep -q ' changed=0 '
}

play setup.yml
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
