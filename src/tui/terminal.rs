//! Terminal setup and restore. The restore runs on normal exit, on error, from the panic hook,
//! on SIGTERM, SIGHUP, SIGINT and SIGQUIT, and before the console stops for ctrl-z, so the
//! operator's shell is never left in raw mode.

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
    take(stderr_file)?;
    let t = Terminal::new(CrosstermBackend::new(io::stdout()));
    if t.is_err() {
        restore();
    }
    t
}

/// Whether a job-control shell started the console: it put it in a process group of its
/// own, apart from the session leader's. Not so when the console leads its session (`ssh -t
/// host novacron`, `tmux new-session novacron`) or runs under a shell without job control
/// (`sh -c`): there a stop is never continued, or tmux continues it at once.
#[must_use]
pub fn job_control() -> bool {
    // SAFETY: getpgrp and getsid only read this process's ids.
    unsafe { libc::getpgrp() != libc::getsid(0) }
}

/// Raw mode, the alternate screen and bracketed paste; stderr to `stderr_file`.
fn take(stderr_file: &Path) -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    divert_stderr(stderr_file);
    if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste) {
        restore();
        return Err(e);
    }
    Ok(())
}

/// Stops the console as ctrl-z stops a program in a shell: the terminal is given back, the
/// process stops (SIGSTOP, which the shell reports as a stopped job), and when the shell
/// continues it (`fg`, SIGCONT) the terminal is taken again and redrawn whole.
///
/// # Errors
/// When the terminal refuses raw mode on the way back.
pub fn background(term: &mut Tui, stderr_file: &Path) -> io::Result<()> {
    restore();
    // The whole process group, as the terminal's ctrl-z stops it: a wrapper script the
    // shell waits on stops too, so the shell sees the job stopped and `fg` continues all.
    // SAFETY: kill only sends a signal; execution goes on here once continued.
    unsafe {
        libc::kill(0, libc::SIGSTOP);
    }
    take(stderr_file)?;
    // The shell drew over the screen meanwhile, so nothing ratatui remembers is there: clear
    // it, and draw a blank frame so that the next frame is drawn whole. (Not
    // `Terminal::clear`: it asks the terminal where the cursor is, and the input reader
    // takes the answer.)
    execute!(
        io::stdout(),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    term.draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))?;
    Ok(())
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
