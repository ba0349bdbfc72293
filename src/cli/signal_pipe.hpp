// Ctrl+C, a closed terminal and a window resize, turned into bytes on a pipe: the REPL waits for
// them with poll() next to the terminal's input, and acts on them outside a signal handler (a
// handler may do almost nothing; interrupting a bond takes locks).
#pragma once

namespace bond::cli {

enum class SignalEvent { None, Interrupt, End, Resize };

class SignalPipe {
  public:
    // Catches SIGINT (Interrupt), SIGTERM and SIGHUP (End) and SIGWINCH (Resize) until destroyed.
    // One at a time per process.
    SignalPipe();
    ~SignalPipe();
    SignalPipe(const SignalPipe&) = delete;
    SignalPipe& operator=(const SignalPipe&) = delete;

    // Readable while a signal waits to be taken.
    int fd() const noexcept { return read_end_; }
    // The next signal that came, without waiting; None when there is none.
    SignalEvent take();
    // Once End came, it stays: the session is over even if that byte was taken elsewhere.
    bool ending() const noexcept;

  private:
    int read_end_ = -1;
    int write_end_ = -1;
};

}  // namespace bond::cli
