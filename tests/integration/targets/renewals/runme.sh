#!/usr/bin/env bash
# threefold.grid.renew_within_budget against the localgrid of integration_config.yml: a budget smaller than
# one renewal stops before anything is signed; a budget of one renewal and a half renews the container that
# ends first (and the free network), skips the other one, and the spend callback prints the one payment;
# a re-run with a shorter window changes nothing.
# play_steps.sh sets work and suffix and defines play and unchanged.
# shellcheck disable=SC2154
source ../setup_grid/files/play_steps.sh

play setup.yml
play wallet_address.yml
if play threefold.grid.renew_within_budget -e "@vars.yml" -e renew_within=3h -e renew_budget=0.0000001; then
    echo "a budget smaller than one renewal was accepted" >&2
    exit 1
fi
grep -q "smaller than the cheapest renewal" "$work/last.log"
ANSIBLE_CALLBACKS_ENABLED=threefold.grid.spend play threefold.grid.renew_within_budget -e "@vars.yml" \
    -e renew_within=3h -e "renew_budget=$(cat "$work/budget.txt")"
grep -Eq "^localhost : spent 0\.[0-9]{7} TFT in 1 payment$" "$work/last.log"
grep -q "over budget" "$work/last.log"
play verify.yml
play threefold.grid.renew_within_budget -e "@vars.yml" -e renew_within=1h -e renew_budget=1
unchanged
play down.yml
