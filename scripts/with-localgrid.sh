#!/usr/bin/env bash
# Run a command against a fresh localgrid: start it on a free 127.0.0.1 port with a throw-away state
# file, export its URLs, run the command, always stop localgrid afterwards and keep the command's exit code.
#   LOCALGRID_PAYMENT=stellar|free (default stellar)   LOCALGRID_PROFILE=fast|realistic (default fast)
#   LOCALGRID_LOG=path to keep localgrid's output (default: a temp file printed on failure)
#   LOCALGRID_START_TIMEOUT=seconds to wait for it to listen (default 180: a loaded machine needs a minute)
#   LOCALGRID_STOP_TIMEOUT=seconds it gets to stop its containers after SIGTERM before SIGKILL (default 30;
#     0: SIGKILL at once, then the cleanup below, as after a crash)
source "$(dirname "$0")/lib.sh"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/localgrid.XXXXXX")"
logfile="${LOCALGRID_LOG:-$workdir/localgrid.log}"
start_timeout="${LOCALGRID_START_TIMEOUT:-180}"
stop_timeout="${LOCALGRID_STOP_TIMEOUT:-30}"
# Created here, not by the redirection below: that one runs in the child, which may not be scheduled yet.
: >"$logfile"
PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" -m localgrid serve --host 127.0.0.1 --port 0 \
    --state "$workdir/state.db" --profile "${LOCALGRID_PROFILE:-fast}" \
    --payment "${LOCALGRID_PAYMENT:-stellar}" >"$logfile" 2>&1 &
lg_pid=$!

stop_localgrid() {
    local deadline=$((SECONDS + stop_timeout))
    if kill -0 "$lg_pid" 2>/dev/null; then
        [ "$stop_timeout" -eq 0 ] || kill -TERM "$lg_pid" 2>/dev/null || true
        while kill -0 "$lg_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$lg_pid" 2>/dev/null || true
    fi
    wait "$lg_pid" 2>/dev/null || true
    # A killed (or crashed) localgrid leaves its containers, networks and namespaces running; they are
    # recorded in the state's runtime directory, so clean them up by those ids before it is deleted.
    if [ -n "$(find "$workdir/state.db.runtime" -name run.json -print -quit 2>/dev/null)" ]; then
        PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" -m localgrid cleanup \
            --state "$workdir/state.db" >>"$logfile" 2>&1 || log "localgrid cleanup failed; see $logfile"
    fi
    rm -rf "$workdir"
}
trap stop_localgrid EXIT

show_log_tail() {
    log "last lines of the localgrid log ($logfile):"
    if [ -s "$logfile" ]; then tail -n 40 "$logfile" >&2 || true; else log "(localgrid has written nothing)"; fi
}

url=""
started=$SECONDS
next_progress=15
while [ -z "$url" ]; do
    url="$(sed -n 's#^localgrid listening on \(http://[0-9.:]*\).*#\1#p' "$logfile" | head -n1)"
    [ -n "$url" ] && break
    kill -0 "$lg_pid" 2>/dev/null || { show_log_tail; die "localgrid exited during start-up (see its log above)"; }
    waited=$((SECONDS - started))
    [ "$waited" -lt "$start_timeout" ] ||
        { show_log_tail; die "localgrid did not listen within $start_timeout s (LOCALGRID_START_TIMEOUT); see its log above"; }
    if [ "$waited" -ge "$next_progress" ]; then
        log "waiting for localgrid to listen: ${waited} s of at most ${start_timeout} s"
        next_progress=$((next_progress + 15))
    fi
    sleep 0.2
done
export TFGRID_LOCALGRID_URL="$url"
export TFGRID_EXPLORER_URL="$url/explorer"
export TFGRID_HORIZON_URL="$url/stellar"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
# The modules' name index of this throw-away grid goes with it (docs: guide_getting_started, "Large fleets").
export TFGRID_CACHE_DIR="$workdir/name-index"
log "localgrid running at $url (payment mode ${LOCALGRID_PAYMENT:-stellar}, listening after $((SECONDS - started)) s)"

set +e
"$@"
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ -z "${LOCALGRID_LOG:-}" ]; then
    show_log_tail
fi
exit "$rc"
