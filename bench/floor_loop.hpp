// The floor of a language: its minimal loop (bench/floor/<lang>.*: read a JSON-RPC request
// line, call an identity function, write the reply line), driven over pipes by blocking reads
// and writes, the request encoded and the reply decoded with nlohmann::json as the bond's host
// does. The best any bond could do with that interpreter and its JSON library.
#pragma once

#include "languages.hpp"
#include "subprocess.hpp"

#include <bond/value.hpp>

#include <cstdint>
#include <string>

namespace bench {

class FloorLoop {
  public:
    FloorLoop(const Language& language, const std::string& floor_directory);
    ~FloorLoop();  // ends the loop by closing its stdin
    FloorLoop(const FloorLoop&) = delete;
    FloorLoop& operator=(const FloorLoop&) = delete;

    // One round trip of ident(argument); throws unless the result is the argument.
    void round_trip(const bond::Value& argument);

  private:
    Subprocess process_;
    LineReader reader_;
    std::int64_t last_id_ = 0;
    std::string line_;
};

}  // namespace bench
