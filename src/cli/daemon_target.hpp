// A named bond that a running bondd holds, attached to through its socket (bond attach).
#pragma once
#include "daemon_connection.hpp"
#include "repl_target.hpp"

namespace bond::cli {

class DaemonTarget final : public ReplTarget {
  public:
    // Attaches to the bond named `name`; BondException when the daemon holds none by that name.
    DaemonTarget(const std::filesystem::path& socket, const std::string& name,
                 DaemonConnection::OutputHandler on_output);
    const std::string& lang() const override { return lang_; }
    std::string description() const override;
    std::string eval_shown(const std::string& code) override;
    void eval_block(const std::string& code, const std::string& file) override;
    Value call(const std::string& name, const Value& arguments) override;
    std::vector<std::string> exports() override;
    void interrupt() override;
    bool alive() const override;
    // Lets go of the bond: it ends only if no other client holds it.
    void close() override;

  private:
    Value on_bond(const std::string& method, Value params);

    std::filesystem::path socket_;
    std::string name_;
    DaemonConnection connection_;
    std::string bond_;
    std::string lang_;
    bool ended_ = false;
};

}  // namespace bond::cli
