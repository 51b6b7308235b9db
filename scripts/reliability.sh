#!/usr/bin/env bash
# `make reliability`: issue 13's reliability suite (bench/reliability.py). Containers paid on Stellar through a
# localgrid started with --faults, SIGKILLs of ansible-playbook or localgrid, concurrent runs, then localgrid's
# state audited; one line per figure with its target and the seeds, non-zero exit on a miss.
# Usage: scripts/reliability.sh [--short] [bench/reliability.py options]   (default: the full form)
source "$(dirname "$0")/lib.sh"

"$REPO_ROOT/scripts/venv.sh"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
cd "$REPO_ROOT" && exec "$VENV/bin/python" bench/reliability.py "$@"
