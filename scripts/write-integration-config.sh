#!/usr/bin/env bash
# Write tests/integration/integration_config.yml in a collection tree from the localgrid URLs exported
# by with-localgrid.sh; ansible-test passes it to every target as extra vars.
source "$(dirname "$0")/lib.sh"
tree="$1"
cat > "$tree/tests/integration/integration_config.yml" <<YAML
---
tfgrid_localgrid_url: ${TFGRID_LOCALGRID_URL}
tfgrid_explorer_url: ${TFGRID_EXPLORER_URL}
tfgrid_horizon_url: ${TFGRID_HORIZON_URL}
YAML
