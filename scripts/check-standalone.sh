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

# Every cited section of the contract exists: "explorer.md §6.3" needs a heading "§6.3 " in that file.
missing=0
while IFS= read -r cite; do
    file="docs/contract/${cite%% *}"
    section="${cite#* }"
    [ -f "$file" ] && grep -qE "^#+ ${section//./\\.} " "$file" && continue
    log "cited but not in the contract: $cite"
    missing=1
done < <(git ls-files -co --exclude-standard -z | xargs -0 grep -ohIE '(explorer|node|stellar)\.md §[0-9]+(\.[0-9]+)*' -- 2>/dev/null | sort -u)
[ "$missing" -eq 0 ] || die "some citations point at sections docs/contract/ does not have"
log "No file names a path outside the repository; every contract citation resolves"
