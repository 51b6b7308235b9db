"""localgrid's stand-in for coreX, the process manager 0-OS runs as PID 1 of an interactive container.

0-OS bind-mounts its coreX binary at /corex and runs it instead of the entrypoint; it serves HTTP on
port 7681 of the container's address. localgrid bind-mounts a directory of the container's own, holding a static
busybox and the handler below, at /corex, and PID 1 is busybox's ``nc`` serving port 7681, one handler
per connection. What it offers (JSON unless noted), a subset of coreX's API:

- ``GET /api/processes``: ``[{"pid": N, "cmdline": "..."}]`` of every process in the container;
- ``GET /api/process/start?arg[]=PROGRAM&arg[]=ARG...``: starts it in the background, ``{"id": PID}``;
- ``GET /api/process/logs?id=PID``: its stdout and stderr so far (text);
- ``GET /api/process/kill?id=PID``: SIGKILL, ``{"killed": PID}``.

There is no web terminal (coreX's ``/attach/<id>``).
"""

import os
import shutil

PORT = 7681
ARGV = ["/corex/busybox", "nc", "-ll", "-p", str(PORT), "-e", "/corex/handler"]

HANDLER = r"""#!/corex/busybox sh
bb=/corex/busybox
cr=$(printf '\r')
read -r method target version
while read -r header; do
    [ "${header%"$cr"}" = "" ] && break
done
path=${target%%\?*}
query=
case "$target" in *\?*) query=${target#*\?} ;; esac

reply() {
    printf 'HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
        "$1" "$2" "$(printf %s "$3" | $bb wc -c)" "$3"
}
param() {
    for pair in $(echo "$query" | $bb tr '&' ' '); do
        [ "${pair%%=*}" = "$1" ] && $bb httpd -d "${pair#*=}" && return
    done
}
reply_file() {
    printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
        "$($bb wc -c < "$1")"
    $bb cat "$1"
}
json_string() {
    printf '"%s"' "$(printf %s "$1" | $bb sed 's/\\/\\\\/g; s/"/\\"/g' | $bb tr -d '\000-\037')"
}

case "$method $path" in
"GET /api/processes")
    body="["
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        cmdline=$($bb tr '\000' ' ' < "$dir/cmdline" 2>/dev/null) || continue
        [ "$body" = "[" ] || body="$body,"
        body="$body{\"pid\": $pid, \"cmdline\": $(json_string "${cmdline% }")}"
    done
    reply "200 OK" application/json "$body]"
    ;;
"GET /api/process/start")
    set --
    for pair in $(echo "$query" | $bb tr '&' ' '); do
        case "${pair%%=*}" in
        "arg[]" | "arg%5B%5D") set -- "$@" "$($bb httpd -d "${pair#*=}")" ;;
        esac
    done
    if [ "$#" -eq 0 ]; then
        reply "400 Bad Request" application/json '{"error": "give the program and its arguments as arg[]"}'
        exit 0
    fi
    $bb mkdir -p /tmp/corex
    # The log is opened here, before the fork, and renamed once the pid is known: a child opening it by name
    # could do so after the rename (its log then lost) or meet another request's file of the same name.
    log="/tmp/corex/start.$$.log"
    exec 3>"$log"
    $bb setsid "$@" </dev/null >&3 2>&3 3>&- &
    pid=$!
    exec 3>&-
    $bb mv "$log" "/tmp/corex/$pid.log"
    reply "200 OK" application/json "{\"id\": $pid}"
    ;;
"GET /api/process/logs")
    id=$(param id)
    case "$id" in '' | *[!0-9]*) reply "400 Bad Request" application/json '{"error": "id must be a pid"}'; exit 0 ;; esac
    if [ -f "/tmp/corex/$id.log" ]; then
        reply_file "/tmp/corex/$id.log"
    else
        reply "404 Not Found" application/json '{"error": "no process started with that id"}'
    fi
    ;;
"GET /api/process/kill")
    id=$(param id)
    case "$id" in '' | *[!0-9]*) reply "400 Bad Request" application/json '{"error": "id must be a pid"}'; exit 0 ;; esac
    if $bb kill -9 "$id" 2>/dev/null; then
        reply "200 OK" application/json "{\"killed\": $id}"
    else
        reply "404 Not Found" application/json '{"error": "no such process"}'
    fi
    ;;
*)
    reply "404 Not Found" application/json '{"error": "try /api/processes, /api/process/start?arg[]=..., /api/process/logs?id=, /api/process/kill?id="}'
    ;;
esac
"""


def install(path, busybox):
    """Fill the container's own directory that is mounted at /corex (once)."""
    handler = os.path.join(path, "handler")
    if not os.path.exists(handler):
        os.makedirs(path, exist_ok=True)
        shutil.copy(busybox, os.path.join(path, "busybox"))
        with open(handler + ".tmp", "w", encoding="utf-8") as out:
            out.write(HANDLER)
        os.chmod(handler + ".tmp", 0o755)
        os.replace(handler + ".tmp", handler)
