#include "line_buffer.hpp"

#include <cstring>

namespace bond::detail {

void LineBuffer::append(const char* data, std::size_t size) {
    if (skipping_) {
        const void* newline = std::memchr(data, '\n', size);
        if (!newline) return;
        skipping_ = false;
        std::size_t skipped = static_cast<const char*>(newline) - data + 1;
        data += skipped;
        size -= skipped;
    }
    if (consumed_ > 0 && consumed_ >= input_.size() / 2) {  // keeps appends amortized O(1)
        input_.erase(0, consumed_);
        scanned_ -= consumed_;
        consumed_ = 0;
    }
    input_.append(data, size);
}

LineBuffer::Taken LineBuffer::take(std::string& line) {
    std::size_t end = input_.find('\n', scanned_);
    if (end == std::string::npos) {
        scanned_ = input_.size();
        return input_.size() - consumed_ > max_line_ ? Taken::TooLong : Taken::Nothing;
    }
    if (end - consumed_ > max_line_) return Taken::TooLong;
    if (consumed_ == 0 && end + 1 == input_.size()) {
        // The buffer holds this line alone (the usual case): hand it over instead of copying
        // it, which also leaves no capacity of a long line behind.
        input_.resize(end);
        line.swap(input_);
        input_.clear();
        scanned_ = 0;
        return Taken::Line;
    }
    line.assign(input_, consumed_, end - consumed_);
    consumed_ = scanned_ = end + 1;
    if (consumed_ == input_.size()) input_.clear(), consumed_ = scanned_ = 0;
    return Taken::Line;
}

void LineBuffer::skip_line() {
    std::size_t newline = input_.find('\n', consumed_);
    if (newline != std::string::npos) {
        consumed_ = scanned_ = newline + 1;
        return;
    }
    input_.clear();
    consumed_ = scanned_ = 0;
    skipping_ = true;
}

}  // namespace bond::detail
