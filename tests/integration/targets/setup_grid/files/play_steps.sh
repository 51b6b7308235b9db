# shellcheck shell=bash
# Sourced by the runme.sh targets (aliases: needs/target/setup_grid): a work directory removed on exit, a
# suffix that keeps this run's names apart on the shared localgrid, `play` (one ansible-playbook run against
# integration_config.yml; output in $work/last.log, appended to $work/all.log) and `unchanged` (the last
# run's recap says changed=0).
set -euxo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
suffix="$(date +%s%N | tail -c 9)$RANDOM"

play() {
    ansible-playbook -i "${INVENTORY_PATH}" -e @../../integration_config.yml \
        -e "work_dir=$work" -e "suffix=$suffix" "$@" | tee "$work/last.log" | tee -a "$work/all.log"
}
unchanged() {
    grep -E '^localhost +:' "$work/last.log" | grep -q ' changed=0 '
}
