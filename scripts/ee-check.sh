#!/usr/bin/env bash
# Validate the execution environment: ansible-builder's own introspection must find the collection's
# Python and system requirements in meta/execution-environment.yml, and `ansible-builder create` must
# generate a build context for an EE that installs the built collection (no container engine needed).
# Usage: scripts/ee-check.sh COLLECTIONS_DIR TARBALL OUTPUT_DIR
source "$(dirname "$0")/lib.sh"
collections="$1" tarball="$2" out="$3"
introspect="$("$VENV/bin/python" -c 'import ansible_builder, os; print(os.path.join(os.path.dirname(ansible_builder.__file__), "_target_scripts", "introspect.py"))')"

"$VENV/bin/python" "$introspect" introspect "$collections" > "$out/introspect.yml"
for requirement in httpx pynacl mnemonic stellar-sdk; do
    grep -q "^- '$requirement>=" "$out/introspect.yml" || { cat "$out/introspect.yml" >&2; die "introspection misses $requirement"; }
done

mkdir -p "$out/ee"
cp "$tarball" "$out/ee/"
cat > "$out/ee/execution-environment.yml" <<YAML
---
version: 3
images:
  base_image:
    name: quay.io/fedora/python-313:latest
dependencies:
  ansible_core:
    package_pip: ansible-core>=2.19
  ansible_runner:
    package_pip: ansible-runner>=2.4
  galaxy:
    collections:
      - name: collections/$(basename "$tarball")
        type: file
additional_build_files:
  - src: $(basename "$tarball")
    dest: collections
YAML
(cd "$out/ee" && "$VENV/bin/ansible-builder" create -f execution-environment.yml -c context >/dev/null)
ls "$out/ee/context/_build/collections/$(basename "$tarball")" >/dev/null || die "the build context lacks the collection"
test -s "$out/ee/context/Containerfile" || test -s "$out/ee/context/Dockerfile" || die "ansible-builder create wrote no Containerfile"
log "execution environment context generated in $out/ee/context"
