#!/usr/bin/env bash
# Installs bond to a scratch prefix and builds examples/ against it with find_package(bond) alone,
# then runs the program it built.
set -euo pipefail
source_dir=$1
build_dir=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build_dir" --prefix "$scratch/prefix" > "$scratch/install.log"
cmake -S "$source_dir/examples" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" > "$scratch/configure.log"
cmake --build "$scratch/build" > "$scratch/build.log"
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
# The daemon is installed too.
"$scratch/prefix/bin/bondd" --help | grep -q "JSON-RPC"
