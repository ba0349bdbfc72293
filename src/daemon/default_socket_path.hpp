// Where bondd listens when no --socket is given, and so where its clients (the `bond` command's
// `attach`) look for it: one definition for both.
#pragma once

#include <filesystem>

namespace bond::daemon {

// $XDG_RUNTIME_DIR/bond/bondd.sock if XDG_RUNTIME_DIR is set and not empty, else
// /tmp/bond-$UID/bondd.sock (the effective uid). Only says where: nothing is created or checked
// (the daemon makes the directory private when it listens there, UnixListener::default_path).
std::filesystem::path default_socket_path();

}  // namespace bond::daemon
