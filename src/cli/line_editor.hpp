// Reading the REPL's input with libedit: line editing, history kept in a file, and Ctrl+C at the
// prompt (which the terminal turns into SIGINT) clearing the line instead of ending the program.
#pragma once
#include "signal_pipe.hpp"

#include <termios.h>
#include <filesystem>
#include <optional>
#include <string>

struct editline;
struct history;

namespace bond::cli {

class LineEditor {
  public:
    // History is loaded from and saved to `history_file` (its directory is created, mode 0700);
    // an empty path keeps no history.
    LineEditor(SignalPipe& signals, std::filesystem::path history_file);
    ~LineEditor();
    LineEditor(const LineEditor&) = delete;
    LineEditor& operator=(const LineEditor&) = delete;

    enum class Outcome { Line, Cancelled, EndOfInput };
    struct Input {
        Outcome outcome;
        std::string line;  // without its newline
    };
    // One line typed after `prompt`: Cancelled when Ctrl+C came (the line is dropped),
    // EndOfInput on Ctrl+D at an empty line, the end of stdin, or a closed terminal.
    Input read(const std::string& prompt);
    // Adds a line to the history and saves it.
    void remember(const std::string& line);

  private:
    // From the editor's start to its end, the terminal is neither canonical nor echoing, except
    // while libedit edits a line in its own raw mode. Keys typed while code runs (or before
    // libedit takes the terminal, after the prompt is drawn) then wait, as they are, for the
    // prompt, which draws them, instead of being echoed in the middle of the code's output; a
    // canonical terminal would also keep a Ctrl+D among them as an end of file that libedit,
    // switching to raw mode, reads as a NUL. ISIG stays: Ctrl+C interrupts.
    class TypeAheadHold {
      public:
        TypeAheadHold();
        ~TypeAheadHold();
        TypeAheadHold(const TypeAheadHold&) = delete;
        TypeAheadHold& operator=(const TypeAheadHold&) = delete;
        // Again after libedit put the terminal back in the mode it found at its start.
        void renew();

      private:
        bool held_ = false;
        termios original_{};
        termios quiet_{};
    };

    static int read_character(editline* editor, wchar_t* out);
    static char* prompt_of(editline* editor);

    SignalPipe& signals_;
    std::filesystem::path history_file_;
    editline* editor_ = nullptr;
    history* history_ = nullptr;
    std::string prompt_;
    bool cancelled_ = false;
    // Taken after el_init, so that libedit reads the terminal's own mode as its cooked one.
    std::optional<TypeAheadHold> type_ahead_;
};

// $XDG_STATE_HOME/bond/history-LANG, else ~/.local/state/bond/history-LANG (lang in lower case);
// empty when there is no home directory.
std::filesystem::path history_file_for(const std::string& lang);

}  // namespace bond::cli
