//! Terminal setup and restore. The restore runs on normal exit, on error, from the panic hook
//! and on SIGTERM, so the operator's shell is never left in raw mode.

use std::io::{self, Stdout};
use std::os::fd::IntoRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The terminal's stderr while it is pointed at a file; -1 when not.
static SAVED_STDERR: AtomicI32 = AtomicI32::new(-1);

/// Points file descriptor 2 at `file` (appending) while the console owns the terminal:
/// libvirt and libxml2 write their own warnings there ("I/O warning : failed to load
/// external entity"), which would be drawn over the screen. Undone by [`restore`].
fn divert_stderr(file: &Path) {
    let Ok(f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    else {
        return;
    };
    let fd = f.into_raw_fd();
    // SAFETY: dup/dup2/close on descriptors this process owns; no memory is involved.
    unsafe {
        let saved = libc::dup(2);
        if saved >= 0 && libc::dup2(fd, 2) >= 0 {
            SAVED_STDERR.store(saved, Ordering::SeqCst);
        } else if saved >= 0 {
            libc::close(saved);
        }
        libc::close(fd);
    }
}

fn restore_stderr() {
    let saved = SAVED_STDERR.swap(-1, Ordering::SeqCst);
    if saved >= 0 {
        // SAFETY: as in divert_stderr.
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
    }
}

/// Enters raw mode and the alternate screen, and installs a panic hook that restores first.
/// Until [`restore`], what is written to stderr goes to `stderr_file`.
///
/// # Errors
/// When the terminal refuses raw mode (e.g. stdout is not a terminal).
pub fn init(stderr_file: &Path) -> io::Result<Tui> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        prev(info);
    }));
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    divert_stderr(stderr_file);
    let mut out = io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen, EnableBracketedPaste) {
        restore();
        return Err(e);
    }
    let t = Terminal::new(CrosstermBackend::new(out));
    if t.is_err() {
        restore();
    }
    t
}

/// Leaves the alternate screen and raw mode, and gives stderr back to the terminal (before a
/// panic message is printed). Safe to call more than once.
pub fn restore() {
    restore_stderr();
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            io::stdout(),
            DisableBracketedPaste,
            LeaveAlternateScreen,
            crossterm::cursor::Show
        );
        let _ = disable_raw_mode();
    }
}
