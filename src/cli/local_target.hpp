// A bond this process starts and owns.
#pragma once
#include "repl_target.hpp"

#include <bond/bond.hpp>

namespace bond::cli {

class LocalTarget final : public ReplTarget {
  public:
    LocalTarget(const std::string& lang, Options options);
    const std::string& lang() const override { return bond_.lang(); }
    std::string description() const override;
    std::string eval_shown(const std::string& code) override;
    void eval_block(const std::string& code, const std::string& file) override {
        bond_.eval_block(code, file);
    }
    Value call(const std::string& name, const Value& arguments) override;
    std::vector<std::string> exports() override { return bond_.exports(); }
    void interrupt() override { bond_.interrupt(); }
    bool alive() const override { return bond_.alive(); }
    void close() override { bond_.close(); }

  private:
    Bond bond_;
};

}  // namespace bond::cli
