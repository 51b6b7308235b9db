#!/usr/bin/env bash
# The README's main command: deploy a container end to end on a local grid.
# Creates the virtualenv, starts localgrid on a free port, runs playbooks/demo.yml (identity, wallet,
# network, volume, container, payment, wait), runs it a second time to show that nothing changes,
# then, where localgrid really runs containers (root), brings the WireGuard tunnel up and logs in over
# SSH, and takes the tunnel down. Stops localgrid. Exits non-zero when anything fails.
source "$(dirname "$0")/lib.sh"

"$REPO_ROOT/scripts/venv.sh"
export PATH="$VENV/bin:$PATH"
ensure_runtime_packages
ensure_seed_image

work="$(mktemp -d "${TMPDIR:-/tmp}/tfgrid-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "Installing the threefold.grid collection"
install_collection "$work" >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-0}" ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
demo_dir="${DEMO_DIR:-$REPO_ROOT/build/demo}"
# The playbook creates demo_dir 0700; the default one, from an older run, is made private here too.
if [ -z "${DEMO_DIR:-}" ] && [ -d "$demo_dir" ]; then
    chmod 0700 "$demo_dir"
fi
# The container's root accepts this key (its pub_key env var); made once, so a second run changes nothing.
mkdir -p "$(dirname "$demo_dir")"
[ -d "$demo_dir" ] || mkdir -m 0700 "$demo_dir"
[ -f "$demo_dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C tfgrid-demo -f "$demo_dir/id_ed25519"

run_demo() {
    set -euo pipefail
    cd "$REPO_ROOT"
    log "First run: register, pay and deploy (secrets and the wg-quick config go to $demo_dir)"
    ansible-playbook playbooks/demo.yml -e "demo_dir=$demo_dir" -e "demo_ssh_public_key_file=$demo_dir/id_ed25519.pub" |
        tee "$work/run1.log"
    log "Second run: the same playbook again must change nothing"
    ansible-playbook playbooks/demo.yml -e "demo_dir=$demo_dir" -e "demo_ssh_public_key_file=$demo_dir/id_ed25519.pub" |
        tee "$work/run2.log"
    if grep -E '^localhost +:' "$work/run2.log" | grep -vq 'changed=0 '; then
        die "the second run reported changes"
    fi
    log "Second run reported no change."
    ssh_step
    log "Demo complete."
}

# Where localgrid runs containers for real: tunnel up, SSH in as a user would, tunnel down.
ssh_step() {
    local runtime address conf="$demo_dir/wg-demo.conf"
    runtime="$(python -m localgrid info --url "$TFGRID_LOCALGRID_URL" |
        python -c 'import json, sys; r = json.load(sys.stdin)["runtime"]; print(r["name"], "-", r["reason"])')"
    if [ "${runtime%% *}" != namespaces ]; then
        log "localgrid simulates ($runtime): no SSH step (run as root for real containers)"
        return 0
    fi
    address="$(grep -o 'Container IPs: [0-9.]*' "$work/run1.log" | head -n1 | cut -d' ' -f3)"
    log "SSH step: wg-quick up $conf, then ssh root@$address"
    # wg-quick refuses an interface that already exists: a stale tunnel is reported, never reused.
    wg-quick up "$conf"
    trap 'wg-quick down "$conf" >/dev/null 2>&1 || true' EXIT
    local logged_in=1
    for _ in $(seq 60); do
        if ssh -i "$demo_dir/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
            -o ConnectTimeout=5 "root@$address" 'echo "logged in to $(hostname) at $(hostname -I)"; python3 --version'; then
            logged_in=0
            break
        fi
        sleep 2
    done
    log "Taking the tunnel down"
    wg-quick down "$conf"
    trap - EXIT
    [ "$logged_in" -eq 0 ] || die "could not log in to root@$address over the tunnel"
}
export -f run_demo ssh_step log die
export work demo_dir REPO_ROOT
"$REPO_ROOT/scripts/with-localgrid.sh" bash -c run_demo
