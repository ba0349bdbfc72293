#!/usr/bin/env bash
# Runs the whole conformance suite with every bond started through a wrapper, to show that such a
# bond does everything a local one does:
#   conformance_through.sh sudo|sandbox|ssh|lxc|lxc-unprivileged|nspawn CONFORMANCE_TESTS [options]
# sudo: sudo -u nobody; sandbox: bubblewrap with a read-only / (/tmp included) and no network;
# ssh: the sshd fixture's host bond-a (BOND_TEST_SSH_DIR), all bonds over one shared connection; lxc, lxc-unprivileged, nspawn: the
# library's presets bond::Lxc{}, bond::Lxc{.id_map = bond::IdMap{}} (which needs
# root:100000:65536 in /etc/subuid and /etc/subgid: ctest's fixture adds it) and bond::Nspawn{}. A wrapper that is missing is a skip
# with its reason ("BOND-SKIP:", which ctest reports as skipped), or a failure under CI.
set -euo pipefail
usage="usage: conformance_through.sh sudo|sandbox|ssh|lxc|lxc-unprivileged|nspawn TESTS [options]"
kind=${1:?$usage}
tests=${2:?$usage}
shift 2

unavailable() {
    if [ -n "${CI:-}" ]; then
        echo "CI must run this, but $1 (scripts/setup installs it)" >&2
        exit 1
    fi
    echo "BOND-SKIP: $1"
    exit 0
}

case $kind in
    sudo)
        command -v sudo > /dev/null || unavailable "sudo is not installed"
        sudo -n -u nobody true 2> /dev/null ||
            unavailable "sudo -n -u nobody is not allowed for this user without a password"
        prefix="sudo -u nobody"
        ;;
    sandbox)
        command -v bwrap > /dev/null || unavailable "bubblewrap (bwrap) is not installed"
        bwrap --ro-bind / / --unshare-net true 2> /dev/null ||
            unavailable "bwrap cannot create its namespaces here (user namespaces disabled?)"
        # TMPDIR would name a directory that is read-only in there.
        prefix="bwrap --ro-bind / / --dev /dev --proc /proc --unsetenv TMPDIR --unshare-net --die-with-parent"
        ;;
    ssh)
        [ -f "${BOND_TEST_SSH_DIR:-}/ssh_config" ] ||
            unavailable "no sshd fixture (run through ctest; sshd and ssh must be installed)"
        # One connection for all the suite's bonds, as docs/remote.md advises: a key exchange per
        # bond made this run several minutes long. The master is started here and ended on exit
        # (ControlPersist ends it too, should this script be killed); each bond is a session of it.
        ssh_config=$BOND_TEST_SSH_DIR/ssh_config
        control_dir=$(mktemp -d)
        control_path=$control_dir/master
        ssh -F "$ssh_config" -o ControlMaster=yes -o ControlPath="$control_path" \
            -o ControlPersist=600 -N -f bond-a < /dev/null > /dev/null 2> "$control_dir/log" || {
            cat "$control_dir/log" >&2
            exit 1
        }
        end_master() {
            ssh -F "$ssh_config" -o ControlPath="$control_path" -O exit bond-a 2> /dev/null || true
            rm -rf "$control_dir"
        }
        trap end_master EXIT
        prefix="ssh -F $ssh_config -o ControlMaster=no -o ControlPath=$control_path bond-a"
        echo "conformance_through.sh: every bond through: $prefix"
        BOND_CONFORMANCE_PREFIX=$prefix "$tests" "$@"
        exit
        ;;
    lxc | lxc-unprivileged)
        [ "$(id -u)" -eq 0 ] || unavailable "LXC containers need root here"
        command -v lxc-execute > /dev/null || unavailable "lxc-execute is not installed"
        if [ "$kind" = lxc-unprivileged ]; then
            grep -q '^root:100000:65536$' /etc/subuid && grep -q '^root:100000:65536$' /etc/subgid ||
                unavailable "/etc/subuid and /etc/subgid lack root:100000:65536 (ctest's fixture adds it)"
        fi
        echo "conformance_through.sh: every bond in the container preset $kind"
        BOND_CONFORMANCE_CONTAINER=$kind exec "$tests" "$@"
        ;;
    nspawn)
        [ "$(id -u)" -eq 0 ] || unavailable "systemd-nspawn needs root"
        command -v systemd-nspawn > /dev/null || unavailable "systemd-nspawn is not installed"
        echo "conformance_through.sh: every bond in the container preset $kind"
        BOND_CONFORMANCE_CONTAINER=$kind exec "$tests" "$@"
        ;;
    *)
        echo "conformance_through.sh: unknown wrapper '$kind'" >&2
        exit 2
        ;;
esac
echo "conformance_through.sh: every bond through: $prefix"
BOND_CONFORMANCE_PREFIX=$prefix exec "$tests" "$@"
