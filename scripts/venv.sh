#!/usr/bin/env bash
# Create or refresh the virtualenvs the README commands use:
#   .venv       Python 3.13, ansible-core 2.21, collection + localgrid + test tools
#   .venv-2.19  Python 3.11, ansible-core 2.19, for sanity/units on the oldest supported core (only with --with-219)
source "$(dirname "$0")/lib.sh"

ensure_venv() {
    local venv="$1" python="$2"; shift 2
    local stamp="$venv/.requirements.sha256" want
    want="$(cat "$@" | sha256sum | cut -d' ' -f1)"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    log "Preparing $(basename "$venv") with $("$python" --version)"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    local reqs=() file
    for file in "$@"; do reqs+=(-r "$file"); done
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${reqs[@]}"
    echo "$want" > "$stamp"
}

cd "$REPO_ROOT"
ensure_venv "$VENV" "$(find_python 3.13)" requirements.txt localgrid/requirements.txt requirements-dev.txt
if [ "${1:-}" = "--with-219" ]; then
    ensure_venv "$VENV_219" "$(find_python 3.11)" requirements-2.19.txt tests/unit/requirements.txt
fi
