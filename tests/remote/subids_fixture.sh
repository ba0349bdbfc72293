#!/usr/bin/env bash
# Gives root the subordinate ids 100000-165535 that unprivileged LXC containers map onto
# (bond::IdMap{}), for the tests' time only:
#   subids_fixture.sh start DIR   adds root:100000:65536 to /etc/subuid and /etc/subgid where
#                                 missing, remembering in DIR what it added
#   subids_fixture.sh stop DIR    removes what start added, and nothing else
set -euo pipefail
action=${1:?usage: subids_fixture.sh start|stop DIR}
state=${2:?usage: subids_fixture.sh start|stop DIR}
line="root:100000:65536"
case $action in
    start)
        mkdir -p "$state"
        [ "$(id -u)" -eq 0 ] || { echo "subids_fixture.sh: not root, nothing to do"; exit 0; }
        for file in /etc/subuid /etc/subgid; do
            rm -f "$state/added$(basename $file)"
            if ! grep -qx "$line" "$file" 2> /dev/null; then
                echo "$line" >> "$file"
                touch "$state/added$(basename $file)"
            fi
        done
        ;;
    stop)
        for file in /etc/subuid /etc/subgid; do
            marker="$state/added$(basename $file)"
            [ -f "$marker" ] || continue
            grep -vx "$line" "$file" > "$file.bond-tmp" || true
            cat "$file.bond-tmp" > "$file"
            rm -f "$file.bond-tmp" "$marker"
        done
        ;;
    *)
        echo "subids_fixture.sh: unknown action '$action'" >&2
        exit 2
        ;;
esac
