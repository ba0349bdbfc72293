#include "line_editor.hpp"

#include <histedit.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstdlib>
#include <cwchar>
#include <stdexcept>

namespace bond::cli {
namespace {

// libedit decodes and draws characters with the C library's multibyte functions: a locale
// without UTF-8 (LANG unset) would turn every non-ASCII character into garbage.
void use_a_utf8_locale() {
    const char* chosen = std::setlocale(LC_CTYPE, "");
    std::string name = chosen == nullptr ? "C" : chosen;
    if (name == "C" || name == "POSIX") std::setlocale(LC_CTYPE, "C.UTF-8");
}

}  // namespace

LineEditor::LineEditor(SignalPipe& signals, std::filesystem::path history_file)
    : signals_(signals), history_file_(std::move(history_file)) {
    use_a_utf8_locale();
    editor_ = el_init("bond", stdin, stdout, stderr);
    if (editor_ == nullptr) throw std::runtime_error("libedit could not start (el_init)");
    history_ = ::history_init();
    HistEvent event;
    ::history(history_, &event, H_SETSIZE, 1000);
    ::history(history_, &event, H_SETUNIQUE, 1);
    if (!history_file_.empty()) {
        std::error_code ignored;
        std::filesystem::create_directories(history_file_.parent_path(), ignored);
        std::filesystem::permissions(history_file_.parent_path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ignored);
        // What was typed may hold secrets: the file is the user's alone from the start.
        int fd = ::open(history_file_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) ::close(fd);
        ::history(history_, &event, H_LOAD, history_file_.c_str());
    }
    el_set(editor_, EL_CLIENTDATA, this);
    el_set(editor_, EL_EDITOR, "emacs");
    el_set(editor_, EL_PROMPT, &LineEditor::prompt_of);
    el_set(editor_, EL_HIST, ::history, history_);
    el_set(editor_, EL_GETCFN, &LineEditor::read_character);
    el_source(editor_, nullptr);  // ~/.editrc, as other libedit programs read it
    type_ahead_.emplace();
}

LineEditor::~LineEditor() {
    el_end(editor_);
    ::history_end(history_);
}

char* LineEditor::prompt_of(editline* editor) {
    LineEditor* self = nullptr;
    el_get(editor, EL_CLIENTDATA, &self);
    return self->prompt_.data();
}

// Waits for the terminal and for signals at once, so that Ctrl+C ends the wait for a key.
int LineEditor::read_character(editline* editor, wchar_t* out) {
    LineEditor* self = nullptr;
    el_get(editor, EL_CLIENTDATA, &self);
    std::mbstate_t state{};
    for (;;) {
        if (self->signals_.ending()) return 0;
        pollfd waits[2] = {{STDIN_FILENO, POLLIN, 0}, {self->signals_.fd(), POLLIN, 0}};
        if (::poll(waits, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (waits[1].revents != 0) {
            switch (self->signals_.take()) {
                case SignalEvent::Interrupt:
                    self->cancelled_ = true;
                    return -1;
                case SignalEvent::End:
                    return 0;
                case SignalEvent::Resize:
                    el_resize(editor);
                    break;
                case SignalEvent::None:
                    break;
            }
            continue;
        }
        if (waits[0].revents == 0) continue;
        char byte;
        ssize_t count = ::read(STDIN_FILENO, &byte, 1);
        if (count == 0) return 0;
        if (count < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        std::size_t used = std::mbrtowc(out, &byte, 1, &state);
        if (used == static_cast<std::size_t>(-2)) continue;  // more bytes of one character
        if (used == static_cast<std::size_t>(-1)) {
            state = {};
            *out = L'\uFFFD';
        }
        return 1;
    }
}

LineEditor::Input LineEditor::read(const std::string& prompt) {
    prompt_ = prompt;
    cancelled_ = false;
    int count = 0;
    const char* line = el_gets(editor_, &count);
    type_ahead_->renew();
    if (cancelled_) return {Outcome::Cancelled, {}};
    if (line == nullptr || count <= 0) return {Outcome::EndOfInput, {}};
    std::string text(line, static_cast<std::size_t>(count));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return {Outcome::Line, std::move(text)};
}

void LineEditor::remember(const std::string& line) {
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    HistEvent event;
    ::history(history_, &event, H_ENTER, line.c_str());
    if (!history_file_.empty()) ::history(history_, &event, H_SAVE, history_file_.c_str());
}

LineEditor::TypeAheadHold::TypeAheadHold() {
    if (::tcgetattr(STDIN_FILENO, &original_) != 0) return;  // not a terminal
    quiet_ = original_;
    quiet_.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON);
    quiet_.c_cc[VMIN] = 1;
    quiet_.c_cc[VTIME] = 0;
    held_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet_) == 0;
}

void LineEditor::TypeAheadHold::renew() {
    if (held_) ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet_);
}

LineEditor::TypeAheadHold::~TypeAheadHold() {
    if (held_) ::tcsetattr(STDIN_FILENO, TCSANOW, &original_);
}

std::filesystem::path history_file_for(const std::string& lang) {
    std::string name = lang;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::filesystem::path state;
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg == '/')
        state = xdg;
    else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
        state = std::filesystem::path(home) / ".local" / "state";
    else
        return {};
    return state / "bond" / ("history-" + name);
}

}  // namespace bond::cli
