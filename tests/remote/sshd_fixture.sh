#!/usr/bin/env bash
# The ssh tests' own sshd: `sshd_fixture.sh start DIR` makes DIR afresh with a throw-away host key
# and client key, an sshd_config and an ssh_config, and starts sshd on a free port of 127.0.0.1
# (returning once it listens); `sshd_fixture.sh stop DIR` stops it and removes DIR. No system
# file is read or changed but /run/sshd, the privilege separation directory sshd insists on.
#
# ssh_config names two hosts, bond-a and bond-b (both this sshd), for the current user:
#   ssh -F DIR/ssh_config bond-a python3
#   ssh -F DIR/ssh_config bond-a ssh -F DIR/ssh_config bond-b perl
# Where sshd or ssh is not installed, `start` says so and leaves DIR without an ssh_config: the
# tests then report themselves skipped, or fail when CI is set (scripts/setup installs both).
set -euo pipefail
action=${1:?usage: sshd_fixture.sh start|stop DIR}
dir=${2:?usage: sshd_fixture.sh start|stop DIR}
sshd=/usr/sbin/sshd

stop() {
    if [ -f "$dir/sshd.pid" ]; then
        local pid
        pid=$(cat "$dir/sshd.pid")
        # Only an sshd started with this directory's config: a stale pid may have been reused.
        if grep -qF -- "$dir/sshd_config" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
}

start() {
    stop  # a run that was interrupted before its cleanup
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ ! -x "$sshd" ] || ! command -v ssh > /dev/null || ! command -v ssh-keygen > /dev/null; then
        echo "sshd_fixture: sshd or ssh is not installed (Debian: openssh-server openssh-client)"
        return 0
    fi
    if [ ! -d /run/sshd ]; then
        mkdir -p /run/sshd 2>/dev/null || {
            echo "sshd_fixture: sshd needs the directory /run/sshd; scripts/setup makes it" >&2
            return 1
        }
        chmod 755 /run/sshd
    fi
    ssh-keygen -q -t ed25519 -N '' -C bond-test-host -f "$dir/host_key"
    ssh-keygen -q -t ed25519 -N '' -C bond-test-client -f "$dir/client_key"
    cp "$dir/client_key.pub" "$dir/authorized_keys"
    local user
    user=$(id -un)
    local attempt
    for attempt in 1 2 3 4 5; do
        local port
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        write_configs "$user" "$port"
        if launch; then
            echo "$port" > "$dir/port"
            echo "$user" > "$dir/user"
            echo "sshd_fixture: sshd (pid $(cat "$dir/sshd.pid")) listens on 127.0.0.1:$port for $user"
            return 0
        fi
        # Another process took the port between the probe and sshd's bind: another port.
    done
    echo "sshd_fixture: sshd did not start; its log:" >&2
    cat "$dir/sshd.log" >&2
    return 1
}

write_configs() {
    local user=$1 port=$2
    cat > "$dir/sshd_config" <<CONFIG
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile none
AuthorizedKeysFile $dir/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AllowUsers $user
StrictModes no
PrintMotd no
Subsystem sftp internal-sftp
MaxStartups 100
MaxSessions 100
# The session's bash would run the user's ~/.bashrc (Debian's bash does for sshd's commands when it
# is the first shell level): 0.4 s a session where that starts pyenv. The tests ask for the
# interpreters on sshd's own PATH.
SetEnv SHLVL=1
LogLevel INFO
CONFIG
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"
    cat > "$dir/ssh_config" <<CONFIG
Host bond-a bond-b
    HostName 127.0.0.1
    Port $port
    User $user
    IdentityFile $dir/client_key
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    LogLevel ERROR
CONFIG
}

# Starts sshd in the foreground of a session of its own, its log through a FIFO that is read until
# sshd says it listens (or exits): no polling. A background cat then keeps the log flowing to
# sshd.log; it ends with sshd.
launch() {
    rm -f "$dir/sshd.fifo"
    mkfifo "$dir/sshd.fifo"
    setsid "$sshd" -D -e -f "$dir/sshd_config" < /dev/null > /dev/null 2> "$dir/sshd.fifo" &
    echo $! > "$dir/sshd.pid"
    local log listening=1 line
    exec {log}< "$dir/sshd.fifo"
    : > "$dir/sshd.log"
    while IFS= read -r line <&$log; do
        echo "$line" >> "$dir/sshd.log"
        if [[ $line == "Server listening on 127.0.0.1 port "* ]]; then
            listening=0
            break
        fi
    done
    if [ $listening -eq 0 ]; then
        cat <&$log >> "$dir/sshd.log" 2> /dev/null &
    fi
    exec {log}<&-
    rm -f "$dir/sshd.fifo"
    return $listening
}

case $action in
    start) start ;;
    stop) stop ;;
    *) echo "usage: sshd_fixture.sh start|stop DIR" >&2; exit 2 ;;
esac
