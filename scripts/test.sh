#!/usr/bin/env bash
# The README's test command: every test of the repository, on a fresh machine, no manual step.
#   the repository stands alone (no path outside it) · the built collection packs no generated file ·
#   localgrid's pytest suite · ansible-test sanity, units, integration (against a localgrid started
#   here on a free port) on ansible-core 2.21 / Python 3.13 · the short reliability suite (bench/reliability.py
#   --short: containers paid through localgrid --faults, a SIGKILL, audited) · sanity and units on ansible-core 2.19 /
#   Python 3.11 · ansible-lint (production profile) · antsibull-docs and antsibull-changelog lint ·
#   ansible-builder create of the execution environment · the Molecule scenario of extensions/molecule.
# Usage: scripts/test.sh [stage ...]   (default: all stages; see STAGES below)
source "$(dirname "$0")/lib.sh"

STAGES=(standalone package localgrid units sanity integration reliability molecule lint docs ee units-2.19 sanity-2.19)
[ "$#" -gt 0 ] && STAGES=("$@")

"$REPO_ROOT/scripts/venv.sh" --with-219 --with-molecule
install_get_pip_standin
ensure_shellcheck
ensure_runtime_packages
export PATH="$VENV/bin:$PATH"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0

build="$(mktemp -d "${TMPDIR:-/tmp}/tfgrid-test.XXXXXX")"
trap 'rm -rf "$build"' EXIT

# The collection exactly as users get it: the files git sees, built with galaxy.yml's build_ignore, installed.
log "Building and installing the collection"
COLL="$(install_collection "$build")"

stage_standalone()   { "$REPO_ROOT/scripts/check-standalone.sh"; }
stage_package()      { "$REPO_ROOT/scripts/check-package.sh"; }
stage_localgrid()    { cd "$REPO_ROOT" && python -m pytest -q -p no:cacheprovider -n 2 localgrid/tests; }
stage_units()        { cd "$COLL" && ansible-test units --local --python 3.13 --color no; }
stage_sanity()       { cd "$COLL" && ansible-test sanity --venv --python 3.13 --color no; }
stage_integration()  {
    ensure_seed_image || { log "the seed image could not be built (see above)"; return 1; }
    cd "$COLL" && "$REPO_ROOT/scripts/with-localgrid.sh" bash -c \
        '"$0/scripts/write-integration-config.sh" "$PWD" && ansible-test integration --local --python 3.13 --color no "${@:1}"' \
        "$REPO_ROOT" ${INTEGRATION_ARGS:-}
}
stage_reliability()  { "$REPO_ROOT/scripts/reliability.sh" --short; }
stage_molecule()     {
    ensure_seed_image || { log "the seed image could not be built (see above)"; return 1; }
    # Molecule finds a collection's scenarios next to its galaxy.yml, which an installed collection has not:
    # it runs in a copy of the files git sees.
    local tree scenario tunnel
    tree="$(stage_tree "$build/molecule")"
    scenario="$tree/extensions/molecule/container"
    # The tunnel molecule_create brings up is named after the scenario directory; take it down if a crash left it.
    tunnel="mol$(printf '%s' "$scenario" | sha1sum | cut -c1-8)"
    # Molecule's prerun would install the collection into ~/.ansible/collections; the copy above is already on
    # ANSIBLE_COLLECTIONS_PATH, so the run leaves nothing in the home directory.
    printf 'prerun: false\n' > "$build/molecule/no-prerun.yml"
    cd "$tree" && PATH="$VENV_MOLECULE/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$build/molecule" \
        "$REPO_ROOT/scripts/with-localgrid.sh" molecule -c "$build/molecule/no-prerun.yml" test -s container
    local status=$?
    if ip link show "$tunnel" >/dev/null 2>&1; then
        log "molecule left the tunnel $tunnel up: taking it down"
        ip link delete "$tunnel"
    fi
    return "$status"
}
stage_lint()         { cd "$REPO_ROOT" && ansible-lint --profile production; }
stage_docs()         {
    local plugin
    for plugin in "$COLL"/plugins/modules/*.py; do
        plugin="$(basename "$plugin" .py)"
        ANSIBLE_COLLECTIONS_PATH="$build/collections" ansible-doc -t module "threefold.grid.$plugin" >/dev/null ||
            { log "ansible-doc cannot render threefold.grid.$plugin"; return 1; }
    done
    ANSIBLE_COLLECTIONS_PATH="$build/collections" ansible-doc -t inventory threefold.grid.zos >/dev/null || return 1
    cd "$COLL" && antsibull-docs lint-collection-docs --plugin-docs . &&
    cd "$REPO_ROOT" && antsibull-changelog lint && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
}
stage_ee()           { "$REPO_ROOT/scripts/ee-check.sh" "$build/collections" "$build"/dist/threefold-grid-*.tar.gz "$build"; }
stage_units-2.19()   { cd "$COLL" && PATH="$VENV_219/bin:$PATH" ansible-test units --local --python 3.11 --color no; }
stage_sanity-2.19()  { cd "$COLL" && PATH="$VENV_219/bin:$PATH" ansible-test sanity --venv --python 3.11 --color no; }

# Each stage's output goes to the terminal and to its log, so the summary can say why a stage failed.
failed=()
for stage in "${STAGES[@]}"; do
    log "Stage $stage"
    start=$SECONDS
    if ( "stage_$stage" ) 2>&1 | tee "$build/stage-$stage.log"; then
        log "Stage $stage passed in $((SECONDS - start)) s"
    else
        log "Stage $stage FAILED after $((SECONDS - start)) s"
        failed+=("$stage")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    for stage in "${failed[@]}"; do
        log "Stage $stage failed; the last lines of its output:"
        grep -v '^[[:space:]]*$' "$build/stage-$stage.log" | tail -n 15 >&2
    done
    die "failed stages: ${failed[*]} (passed: $(( ${#STAGES[@]} - ${#failed[@]} )) of ${#STAGES[@]})"
fi
log "All stages passed: ${STAGES[*]}"
