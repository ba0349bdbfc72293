// What the REPL and the one-shot commands drive: a bond of this process (LocalTarget) or one a
// daemon holds (DaemonTarget). Errors are the library's exceptions in both cases, so that they
// print alike: "RemoteException[PHP]: ...".
#pragma once
#include <bond/errors.hpp>
#include <bond/value.hpp>

#include <string>
#include <vector>

namespace bond::cli {

class ReplTarget {
  public:
    virtual ~ReplTarget() = default;
    // The canonical language name: "Python".
    virtual const std::string& lang() const = 0;
    // One line saying what this is, for the REPL's greeting: "pid 1234", "bond b2 of ...".
    virtual std::string description() const = 0;
    // The value of an expression as the REPL prints it: JSON, each object the remote code
    // keeps in it as <PHP object Cart #3> (the object is let go once printed).
    virtual std::string eval_shown(const std::string& code) = 0;
    // `file`, when not empty, names the file the code comes from (its errors name it).
    virtual void eval_block(const std::string& code, const std::string& file) = 0;
    // `arguments` is an array of values.
    virtual Value call(const std::string& name, const Value& arguments) = 0;
    // The host functions the remote code can call, sorted.
    virtual std::vector<std::string> exports() = 0;
    // Stops the operation running now; from any thread, at any time (a no-op when idle).
    virtual void interrupt() = 0;
    virtual bool alive() const = 0;
    virtual void close() = 0;
};

}  // namespace bond::cli
