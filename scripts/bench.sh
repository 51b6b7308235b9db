#!/usr/bin/env bash
# `make bench`: localgrid's speed and memory benchmarks. Each one starts its own localgrid on a free
# 127.0.0.1 port, prints one line per metric (a ratio measured within the run, never an absolute
# timing) and exits non-zero when a target is missed; see bench/README.md.
# Usage: scripts/bench.sh [parallel|memory ...]   (default: every benchmark)
source "$(dirname "$0")/lib.sh"

BENCHES=(parallel memory)
[ "$#" -gt 0 ] && BENCHES=("$@")

"$REPO_ROOT/scripts/venv.sh"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

missed=()
for bench in "${BENCHES[@]}"; do
    script="$REPO_ROOT/bench/localgrid_$bench.py"
    [ -f "$script" ] || die "unknown benchmark $bench (have: parallel memory)"
    log "Benchmark $bench"
    if ! (cd "$REPO_ROOT" && "$VENV/bin/python" "$script"); then
        missed+=("$bench")
    fi
done

if [ "${#missed[@]}" -gt 0 ]; then
    die "benchmarks with a missed target or an error: ${missed[*]}"
fi
log "Every benchmark met its targets: ${BENCHES[*]}"
