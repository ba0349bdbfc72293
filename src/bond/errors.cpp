// Exception types: what() is "Kind[lang]: message", or "Kind: message" when no language is known.
#include <bond/errors.hpp>

namespace bond {
namespace {
std::string describe(const char* kind, const std::string& lang, const std::string& message) {
    std::string text = kind;
    if (!lang.empty()) text += "[" + lang + "]";
    return text + ": " + message;
}
}  // namespace

BondException::BondException(const char* kind, std::string lang, std::string message)
    : std::runtime_error(describe(kind, lang, message)),
      lang_(std::move(lang)),
      message_(std::move(message)) {}

BondException::BondException(std::string lang, std::string message)
    : BondException("BondException", std::move(lang), std::move(message)) {}

TerminatedException::TerminatedException(std::string lang, std::string message,
                                         std::optional<int> exit_status)
    : BondException("TerminatedException", std::move(lang), std::move(message)),
      exit_status_(exit_status) {}

SerializationException::SerializationException(std::string lang, std::string side,
                                               std::string message)
    : BondException("SerializationException", std::move(lang),
                    "(" + side + ") " + std::move(message)),
      side_(std::move(side)) {}

RemoteException::RemoteException(std::string lang, std::string message, nlohmann::json data,
                                 std::vector<StackFrame> stack)
    : RemoteException("RemoteException", std::move(lang), std::move(message), std::move(data),
                      std::move(stack)) {}

RemoteException::RemoteException(const char* kind, std::string lang, std::string message,
                                 nlohmann::json data, std::vector<StackFrame> stack)
    : BondException(kind, std::move(lang), std::move(message)),
      data_(std::move(data)),
      stack_(std::move(stack)) {}

Interrupted::Interrupted(std::string lang, const std::string& message)
    : RemoteException("Interrupted", std::move(lang), message, message) {}

LimitExceeded::LimitExceeded(std::string lang, std::string limit, const std::string& message)
    : RemoteException("LimitExceeded", std::move(lang), message, message),
      limit_(std::move(limit)) {}

TimeoutException::TimeoutException(std::string lang, std::string message)
    : BondException("TimeoutException", std::move(lang), std::move(message)) {}

}  // namespace bond
