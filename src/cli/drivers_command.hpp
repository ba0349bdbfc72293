// bond drivers: each language this build knows, whether its interpreter is found on this machine
// (a bond is started to be sure the driver runs), and the interpreter's version.
#pragma once

namespace bond::cli {

// As a table, or with `as_json` as a JSON array of {lang, command, path, found, version, error}.
// Exit status 0; 1 when no interpreter at all works.
int run_drivers(bool as_json);

}  // namespace bond::cli
