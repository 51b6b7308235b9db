#!/usr/bin/env bash
# `make bench`: the speed and memory benchmarks of localgrid and of the collection. Each one starts its
# own localgrid on a free 127.0.0.1 port, prints one line per metric (a ratio measured within the run,
# never an absolute timing) and exits non-zero when a target is missed; see bench/README.md.
# Usage: scripts/bench.sh [--quick] [idle|parallel|memory|idempotent|flat|end_to_end|fleet|runtime ...]
#        (default: every benchmark; --quick: small sizes, for development)
source "$(dirname "$0")/lib.sh"

QUICK=()
[ "${1:-}" = "--quick" ] && { QUICK=(--quick); shift; }
ALL=(idle parallel memory idempotent flat end_to_end fleet runtime)
BENCHES=("${ALL[@]}")
[ "$#" -gt 0 ] && BENCHES=("$@")

"$REPO_ROOT/scripts/venv.sh"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

missed=()
for bench in "${BENCHES[@]}"; do
    script=""
    for candidate in "$REPO_ROOT"/bench/{localgrid,collection}_"$bench".py; do
        [ -f "$candidate" ] && script="$candidate" && break
    done
    [ -n "$script" ] || die "unknown benchmark $bench (have: ${ALL[*]})"
    log "Benchmark $bench"
    if ! (cd "$REPO_ROOT" && "$VENV/bin/python" "$script" "${QUICK[@]}"); then
        missed+=("$bench")
    fi
done

if [ "${#missed[@]}" -gt 0 ]; then
    die "benchmarks with a missed target or an error: ${missed[*]}"
fi
log "Every benchmark met its targets: ${BENCHES[*]}"
