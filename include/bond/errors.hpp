// The exceptions a bond throws. Every what() names the kind and the language, e.g.
// "RemoteException[Python]: ZeroDivisionError: division by zero", so a log line or a
// REPL can print it as it is; message() gives the text alone.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bond {

// Anything that went wrong with a bond; lang() is the bond's language ("" before one exists).
class BondException : public std::runtime_error {
  public:
    BondException(std::string lang, std::string message);
    const std::string& lang() const noexcept { return lang_; }
    const std::string& message() const noexcept { return message_; }

  protected:
    BondException(const char* kind, std::string lang, std::string message);

  private:
    std::string lang_;
    std::string message_;
};

// The interpreter exited or its pipes closed; the bond is dead. exit_status() is the status the
// interpreter exited with by itself (the code called exit(3): 3; through bondd too, which passes
// it on), none when it was killed by a signal, is still running, or its end was not seen (a bond
// used after it ended).
class TerminatedException : public BondException {
  public:
    TerminatedException(std::string lang, std::string message,
                        std::optional<int> exit_status = std::nullopt);
    std::optional<int> exit_status() const noexcept { return exit_status_; }

  private:
    std::optional<int> exit_status_;
};

// A value could not be converted; side() says where: "local" (before anything was sent) or
// "remote" (the interpreter could not encode its result).
class SerializationException : public BondException {
  public:
    SerializationException(std::string lang, std::string side, std::string message);
    const std::string& side() const noexcept { return side_; }

  private:
    std::string side_;
};

// One frame of the remote code's stack: the file ("die.py"; "<bond>" for code given as a string
// without a file name), the line (from 1; 0 when the language gives none) and the function ("f";
// the language's word for the top level: "<module>", "{main}", "main", "<anonymous>").
struct StackFrame {
    std::string file;
    int line = 0;
    std::string function;
    bool operator==(const StackFrame&) const = default;
};

// The remote code raised an error. data() is its message, or with trans_except the serialized
// exception object. stack() is where it was raised, innermost frame first, the driver's own
// frames left out (empty when the language gave none, as for most syntax errors).
class RemoteException : public BondException {
  public:
    RemoteException(std::string lang, std::string message, nlohmann::json data,
                    std::vector<StackFrame> stack = {});
    const nlohmann::json& data() const noexcept { return data_; }
    const std::vector<StackFrame>& stack() const noexcept { return stack_; }

  protected:
    RemoteException(const char* kind, std::string lang, std::string message, nlohmann::json data,
                    std::vector<StackFrame> stack = {});

  private:
    nlohmann::json data_;
    std::vector<StackFrame> stack_;
};

// Bond::interrupt() stopped the running operation. The bond goes on unless the code could not be
// stopped within the grace period: then the interpreter was killed and alive() is false.
class Interrupted : public RemoteException {
  public:
    Interrupted(std::string lang, const std::string& message);
};

// The running operation went beyond one of its Limits and was stopped; limit() is "wall", "cpu",
// "memory" or "output", and message() a sentence fit to show the code's author as it is. The bond
// goes on as after Interrupted (PHP and Perl end when they run out of memory: see docs/limits.md).
class LimitExceeded : public RemoteException {
  public:
    LimitExceeded(std::string lang, std::string limit, const std::string& message);
    const std::string& limit() const noexcept { return limit_; }

  private:
    std::string limit_;
};

// No reply came within Options::timeout; the bond has been closed.
class TimeoutException : public BondException {
  public:
    TimeoutException(std::string lang, std::string message);
};

}  // namespace bond
