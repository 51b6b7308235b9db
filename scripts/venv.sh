#!/usr/bin/env bash
# Create or refresh the virtualenvs the README commands use:
#   .venv       Python 3.13, ansible-core 2.21, collection + localgrid + test tools
#   .venv-2.19  Python 3.11, ansible-core 2.19, for sanity/units on the oldest supported core (only with --with-219)
#   .venv-molecule  Python 3.13, ansible-core 2.21 and Molecule, for extensions/molecule (only with --with-molecule)
source "$(dirname "$0")/lib.sh"

ensure_venv() {
    local venv="$1" python="$2"; shift 2
    local stamp="$venv/.requirements.sha256" want
    want="$(cat "$@" | sha256sum | cut -d' ' -f1)"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    log "Preparing $(basename "$venv") with $("$python" --version) (a few minutes the first time); it installs:"
    grep -hvE '^[[:space:]]*(#|$)' "$@" | sed 's/^/      /' >&2
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    local reqs=() file pip_log
    for file in "$@"; do reqs+=(-r "$file"); done
    pip_log="$(mktemp "${TMPDIR:-/tmp}/tfgrid-pip.XXXXXX")"
    # One line per package pip fetches, so a slow first run shows progress; the full log on failure.
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off "${reqs[@]}" 2>&1 |
            tee "$pip_log" | { grep --line-buffered -E '^(Collecting|Processing|Successfully installed)' || true; } |
            sed -u 's/^/      /' >&2; then
        tail -n 30 "$pip_log" >&2
        rm -f "$pip_log"
        die "pip could not install the requirements of $(basename "$venv") (see above)"
    fi
    rm -f "$pip_log"
    echo "$want" > "$stamp"
    log "$(basename "$venv") is ready"
}

cd "$REPO_ROOT"
ensure_venv "$VENV" "$(find_python 3.13)" requirements.txt localgrid/requirements.txt requirements-dev.txt
for option in "$@"; do
    case "$option" in
        --with-219) ensure_venv "$VENV_219" "$(find_python 3.11)" requirements-2.19.txt tests/unit/requirements.txt ;;
        --with-molecule) ensure_venv "$VENV_MOLECULE" "$(find_python 3.13)" requirements.txt requirements-molecule.txt ;;
        *) die "unknown option $option (--with-219, --with-molecule)" ;;
    esac
done
