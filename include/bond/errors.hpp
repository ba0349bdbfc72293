// The exceptions a bond throws. Every what() names the kind and the language, e.g.
// "RemoteException[Python]: ZeroDivisionError: division by zero", so a log line or a
// REPL can print it as it is; message() gives the text alone.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

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

// The interpreter exited or its pipes closed; the bond is dead.
class TerminatedException : public BondException {
  public:
    TerminatedException(std::string lang, std::string message);
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

// The remote code raised an error. data() is its message, or with trans_except the serialized
// exception object.
class RemoteException : public BondException {
  public:
    RemoteException(std::string lang, std::string message, nlohmann::json data);
    const nlohmann::json& data() const noexcept { return data_; }

  private:
    nlohmann::json data_;
};

// No reply came within Options::timeout; the bond has been closed.
class TimeoutException : public BondException {
  public:
    TimeoutException(std::string lang, std::string message);
};

}  // namespace bond
