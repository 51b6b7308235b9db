#!/usr/bin/env bash
# The collection never packs what a run generates. Copies the files git sees into a scratch tree, adds
# one fake of every generated path (demo secrets, wg-quick files, localgrid state and hub, virtualenvs,
# caches, test output), then builds the collection with `ansible-galaxy collection build` and installs
# it from the directory with `ansible-galaxy collection install` as the README says. Fails if any fake
# is in the tarball or the installed tree, or if the collection's own files are missing.
source "$(dirname "$0")/lib.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/tfgrid-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tree="$(stage_tree "$work/stage")"

generated=(
    build/demo/wallet.secret build/demo/identity.seed build/demo/root.password build/demo/wg-demo.conf
    playbooks/build/demo/wallet.secret playbooks/build/demo/identity.seed playbooks/build/demo/wg-demo.conf
    wallet.secret identity.seed root.password wg-office.conf playbooks/wg-shop.conf
    localgrid-state.db localgrid-state.db-wal localgrid-state.db-shm localgrid-state.db.hub/zaibon/image.flist
    playbooks/grid.db playbooks/grid.db.hub/base.flist
    .venv/bin/python .venv-2.19/bin/python venv/bin/python
    .cache/pip/wheel .ansible/collections/x .pytest_cache/v/cache tests/.pytest_cache/v/cache
    .mypy_cache/x .ruff_cache/x plugins/modules/__pycache__/zos_container.cpython-313.pyc
    tests/output/junit/x.xml tests/integration/integration_config.yml bench/results/run.json
    threefold-grid-0.1.0.tar.gz
)
for path in "${generated[@]}"; do
    mkdir -p "$tree/$(dirname "$path")"
    echo "fake generated file" >"$tree/$path"
done

leaks() {  # $1: listing of packed paths, relative to the collection root
    local path found=0
    for path in "${generated[@]}"; do
        if grep -qxF "$path" "$1"; then
            log "packed but generated: $path"
            found=1
        fi
    done
    for path in MANIFEST.json plugins/modules/zos_container.py roles/container/tasks/main.yml tests/vectors/README.md; do
        grep -qxF "$path" "$1" || { log "missing from the package: $path"; found=1; }
    done
    return "$found"
}

"$VENV/bin/ansible-galaxy" collection build --force --output-path "$work/dist" "$tree" >/dev/null
tar -tzf "$work"/dist/threefold-grid-*.tar.gz | sed 's#^\./##' >"$work/tarball.txt"
tarball_ok=0
leaks "$work/tarball.txt" || tarball_ok=1

(cd "$tree" && ANSIBLE_COLLECTIONS_PATH="$work/installed" "$VENV/bin/ansible-galaxy" collection install --force -p "$work/installed" . >/dev/null)
installed="$work/installed/ansible_collections/threefold/grid"
(cd "$installed" && find . -mindepth 1 | sed 's#^\./##') >"$work/installed.txt"
installed_ok=0
leaks "$work/installed.txt" || installed_ok=1

[ "$tarball_ok" -eq 0 ] || die "ansible-galaxy collection build packs generated files (see above); extend build_ignore in galaxy.yml"
[ "$installed_ok" -eq 0 ] || die "ansible-galaxy collection install . copies generated files (see above); extend build_ignore in galaxy.yml"
log "Neither the tarball nor 'collection install .' holds any of ${#generated[@]} generated paths"
