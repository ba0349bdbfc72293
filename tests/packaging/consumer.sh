#!/usr/bin/env bash
# Installs bond to a scratch prefix and builds examples/ against it with find_package(bond) alone,
# then runs the programs it built; and builds the demo with pkg-config's flags alone.
set -euo pipefail
source_dir=$1
build_dir=$2
sanitize=${3:-}  # the sanitizers bond was built with (BOND_SANITIZE): the consumer needs them too
flags=()
[ -z "$sanitize" ] || flags=("-DCMAKE_CXX_FLAGS=-fsanitize=$sanitize" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=$sanitize")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build_dir" --prefix "$scratch/prefix" > "$scratch/install.log"
cmake -S "$source_dir/examples" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" \
    "${flags[@]}" > "$scratch/configure.log"
cmake --build "$scratch/build" -j 2 > "$scratch/build.log"
output=$("$scratch/build/demo")
echo "$output"
grep -q "add(1, 2) = 3" <<< "$output"
grep -q "ask_first() = \"a value only the first interpreter has\"" <<< "$output"
output=$("$scratch/build/user_scripts")
echo "$output"
grep -q "well-behaved: Your script computed a cost of 64.5" <<< "$output"
grep -q "infinite loop: Your script was stopped" <<< "$output"
grep -q "memory bomb: Your script was stopped (memory limit)" <<< "$output"
grep -q "reads a file: Your script failed: FileNotFoundError" <<< "$output"
output=$("$scratch/build/migrate_php")
echo "$output"
grep -q "Both print the same invoice." <<< "$output"
grep -A1 "A PHP Cart for FR, ordered by a Python lambda" <<< "$output" | grep -q "^mouse "
grep -A1 "Ordered by a C++ function (by item)" <<< "$output" | grep -q "^cable "
# Runs untrusted_decoder with the arguments after the first, which is how reading a file
# outside the sandbox fails there (bubblewrap hides it, a container's nobody may not read it).
check_decoder() {
    local shadow_error=$1
    shift
    output=$("$scratch/build/untrusted_decoder" "$@")
    echo "$output"
    grep -q "decoder runs as uid 65534" <<< "$output"
    grep -q "shadow.txt: rejected, $shadow_error" <<< "$output"
    grep -q "exfiltrate.txt: rejected, ConnectionRefusedError" <<< "$output"
    grep -q "forever.txt: rejected, over its wall limit" <<< "$output"
    grep -q "bomb.txt: rejected, over its memory limit" <<< "$output"
    grep -q 'settings.txt: decoded {"font_size":14,"theme":"dark"}' <<< "$output"
    grep -q "the internal service was not reached" <<< "$output"
}
# The decoder needs sudo and bubblewrap, which scripts/setup installs; a machine without them
# only builds it.
if command -v bwrap > /dev/null && sudo -n -u nobody true 2> /dev/null; then
    check_decoder FileNotFoundError
elif [ -n "${CI:-}" ]; then
    echo "CI must run untrusted_decoder, but sudo or bwrap is missing (scripts/setup installs them)" >&2
    exit 1
else
    echo "untrusted_decoder: built, not run (it needs sudo and bwrap)"
fi
# And in an unprivileged LXC container, as nobody: needs root, lxc and root's subordinate ids,
# which ctest's fixture containers/subids_start adds.
if [ "$(id -u)" -eq 0 ] && command -v lxc-execute > /dev/null &&
    grep -qx "root:100000:65536" /etc/subuid && grep -qx "root:100000:65536" /etc/subgid; then
    check_decoder PermissionError --lxc
elif [ -n "${CI:-}" ]; then
    echo "CI must run untrusted_decoder --lxc, but root, lxc or root's subordinate ids are missing" >&2
    exit 1
else
    echo "untrusted_decoder --lxc: built, not run (it needs root, lxc and root:100000:65536 in /etc/subuid)"
fi
# And without CMake: pkg-config's bond.pc has all that a program needs to compile and link.
pkg_config_path=$(dirname "$(find "$scratch/prefix" -name bond.pc)")
bond_flags=$(PKG_CONFIG_PATH=$pkg_config_path pkg-config --cflags --libs bond)
sanitizer_flags=()
[ -z "$sanitize" ] || sanitizer_flags=("-fsanitize=$sanitize")
# shellcheck disable=SC2086  # the flags are words
"${CXX:-c++}" -std=c++20 "${sanitizer_flags[@]}" -o "$scratch/demo_pkg_config" \
    "$source_dir/examples/demo.cpp" $bond_flags
"$scratch/demo_pkg_config" | grep -q "add(1, 2) = 3"
# The daemon is installed too.
"$scratch/prefix/bin/bondd" --help | grep -q "JSON-RPC"
# And the command line, which works from where it is installed.
"$scratch/prefix/bin/bond" --version | grep -qx "bond [0-9.]*"
[ "$("$scratch/prefix/bin/bond" eval python '6 * 7')" = 42 ]
