#!/usr/bin/env bash
# The README's main command: deploy a container end to end on a local grid.
# Creates the virtualenv, starts localgrid on a free port, runs playbooks/demo.yml (identity, wallet,
# network, volume, container, payment, wait), runs it a second time to show that nothing changes,
# then stops localgrid. Exits non-zero when anything fails.
source "$(dirname "$0")/lib.sh"

"$REPO_ROOT/scripts/venv.sh"
export PATH="$VENV/bin:$PATH"

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

run_demo() {
    set -euo pipefail
    cd "$REPO_ROOT"
    log "First run: register, pay and deploy (secrets and the wg-quick config go to $demo_dir)"
    ansible-playbook playbooks/demo.yml -e "demo_dir=$demo_dir" | tee "$work/run1.log"
    log "Second run: the same playbook again must change nothing"
    ansible-playbook playbooks/demo.yml -e "demo_dir=$demo_dir" | tee "$work/run2.log"
    if grep -E '^localhost +:' "$work/run2.log" | grep -vq 'changed=0 '; then
        die "the second run reported changes"
    fi
    log "Second run reported no change. Demo complete."
}
export -f run_demo log die
export work demo_dir REPO_ROOT
"$REPO_ROOT/scripts/with-localgrid.sh" bash -c run_demo
