#!/usr/bin/env bash
# The end-to-end proof of localgrid's namespaces runtime (root, as in CI): deploy the seed container,
# bring its network's WireGuard tunnel up on this machine with wg-quick, then let Ansible in over SSH
# through the threefold.grid.zos inventory (ping, a package-free role, setup), and take the tunnel down.
# On a localgrid that simulates, this fails unless LOCALGRID_RUNTIME_UNAVAILABLE says why it may skip.
set -euxo pipefail
work="$(mktemp -d)"
suffix="$(date +%s%N | tail -c 7)$RANDOM"
# wg-quick names the interface after the file, at most 15 characters.
conf="$work/lgs${suffix: -8}.conf"
cleanup() {
    if [ -e "$work/tunnel-up" ]; then wg-quick down "$conf" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

play() {
    ansible-playbook -e @../../integration_config.yml -e "work_dir=$work" -e "suffix=$suffix" -e "wg_config=$conf" "$@"
}

play -i "${INVENTORY_PATH}" deploy.yml
if [ -e "$work/simulated" ]; then
    exit 0
fi
# A stale interface of the same name makes wg-quick fail loudly instead of reusing it.
wg-quick up "$conf"
touch "$work/tunnel-up"
ANSIBLE_HOST_KEY_CHECKING=False play -i "$work/containers.zos.yml" site.yml
wg-quick down "$conf"
rm "$work/tunnel-up"
