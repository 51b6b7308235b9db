#!/usr/bin/env bash
# Deploys two containers on the localgrid of integration_config.yml, then checks what ansible-inventory
# lists through the threefold.grid.zos inventory plugin (see test.yml).
set -eux
ansible-playbook test.yml -i "${INVENTORY_PATH}" -e @../../integration_config.yml "$@"
