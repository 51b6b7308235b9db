#!/usr/bin/env bash
# The repository stands alone: no file git sees names a path outside it. The contract the project
# follows lives in docs/contract/, the upstream vectors in tests/vectors/; a path into some machine's
# checkout of the research material (or a sibling directory) works there and nowhere else.
source "$(dirname "$0")/lib.sh"

# Bracketed letters keep this file from matching itself.
outside='/wor[k]/|\.\./+share[d]|share[d]/(reference|vectors)|(explorer-api|stellar-payment|ansible-collection-style|seed-container-primitive)\.m[d]|zos-sdk-and-nod[e]'

cd "$REPO_ROOT"
hits="$(git ls-files -co --exclude-standard -z | xargs -0 grep -nIE "$outside" -- 2>/dev/null || true)"
if [ -n "$hits" ]; then
    printf '%s\n' "$hits" >&2
    die "these lines name a path outside the repository (point into docs/contract/ or tests/vectors/ instead)"
fi
log "No file names a path outside the repository"
