#!/usr/bin/env bash
# Exactly once with several runs at a time (docs/CONCURRENCY.md), against the localgrid of integration_config.yml:
#  1. three ansible-playbook processes started together deploy the same three paid volumes with one identity and
#     one wallet, two of them through payment channels (2 and 3: a reservation is paid through the channel its
#     tag carries, whichever run pays it; the channels are created by whichever run gets there first); every run
#     succeeds, then localgrid is audited directly (audit.py): one live reservation per name, no reservation
#     paid twice, no TFT on reservations that are not live and not refunded; a fourth run changes nothing;
#  2. two volumes are registered and left unpaid (as a run killed between registering and paying leaves them); the
#     next runs pay them instead of replacing them: one from this controller's escrow cache, one, with an empty
#     cache as on another controller, from the wallet's history. TFGRID_PAY_WINDOW=5 stands for "that run is gone".
# play_steps.sh sets work and suffix and defines play and unchanged.
# shellcheck disable=SC2154
source ../setup_grid/files/play_steps.sh
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
config=../../integration_config.yml
explorer="$(sed -n 's/^tfgrid_explorer_url: *//p' "$config")"
horizon="$(sed -n 's/^tfgrid_horizon_url: *//p' "$config")"
names=("cr$suffix-a" "cr$suffix-b" "cr$suffix-c")

# Runs in the background with their own logs; `finish` waits for them all and fails if any failed.
started=()
start() {
    local log="$work/run-$1.log"
    shift
    ansible-playbook -i "${INVENTORY_PATH}" -e @"$config" -e "work_dir=$work" -e "suffix=$suffix" "$@" \
        >"$log" 2>&1 &
    started+=("$!:$log")
}
finish() {
    local entry failed=0
    for entry in "${started[@]}"; do
        if ! wait "${entry%%:*}"; then
            failed=1
            cat "${entry#*:}"
        fi
        cat "${entry#*:}" >>"$work/all.log"
    done
    started=()
    return "$failed"
}
audit() {
    "$python" audit.py "$explorer" "$horizon" "cr$suffix.3bot" "$work/wallet.secret" "$@" | tee "$work/audit.log"
}
# Ansible wraps warnings: read a log as one line.
said() {
    tr '\n' ' ' <"$1" | tr -s ' ' | grep -qF "$2"
}

play setup.yml

channels=(0 2 3)
for run in 1 2 3; do
    start "$run" deploy.yml -e "channels=${channels[$run - 1]}"
done
finish
audit "${names[@]}"
play deploy.yml
unchanged

play deploy.yml -e pay=false -e "{\"names\": [\"cr$suffix-d\", \"cr$suffix-e\"]}"
TFGRID_PAY_WINDOW=5 start cached deploy.yml -e "{\"names\": [\"cr$suffix-d\"]}"
TFGRID_PAY_WINDOW=5 TFGRID_CACHE_DIR="$work/another-controller" start history deploy.yml \
    -e "{\"names\": [\"cr$suffix-e\"]}"
finish
said "$work/run-cached.log" "kept on this controller when the reservation was registered"
said "$work/run-history.log" "the escrow account this wallet paid before"
audit "${names[@]}" "cr$suffix-d" "cr$suffix-e"
grep -q "^reservations registered named cr$suffix-d: 1 " "$work/audit.log"
grep -q "^reservations registered named cr$suffix-e: 1 " "$work/audit.log"

if grep -F "$(cat "$work/wallet.secret")" "$work/all.log"; then
    echo "the wallet secret was printed" >&2
    exit 1
fi
