//! Styles for each UI role, built from the configured colours; with colour off, emphasis uses
//! bold and reverse only so the console stays readable under `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};

use crate::config::theme::ThemeColors;
use crate::domain::VmState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub accent: Style,
    pub border: Style,
    pub title: Style,
    pub selected: Style,
    pub running: Style,
    pub paused: Style,
    pub stopped: Style,
    pub crashed: Style,
    pub pending: Style,
    pub ok: Style,
    pub error: Style,
    pub warning: Style,
    /// Colours are on: series are told apart by colour, else by their marks.
    pub color: bool,
}

fn color(name: &str) -> Color {
    match name {
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" => Color::Gray,
        "darkgray" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => Color::Reset,
    }
}

impl Theme {
    #[must_use]
    pub fn new(c: &ThemeColors, use_color: bool) -> Self {
        if !use_color {
            let plain = Style::default();
            let bold = plain.add_modifier(Modifier::BOLD);
            return Self {
                text: plain,
                dim: plain,
                accent: bold,
                border: plain,
                title: bold,
                selected: plain.add_modifier(Modifier::REVERSED),
                running: plain,
                paused: plain,
                stopped: plain,
                crashed: bold,
                pending: bold,
                ok: plain,
                error: bold,
                warning: bold,
                color: false,
            };
        }
        let fg = |n: &str| Style::default().fg(color(n));
        Self {
            text: fg(&c.text),
            dim: fg(&c.dim),
            accent: fg(&c.accent),
            border: fg(&c.border),
            title: fg(&c.title).add_modifier(Modifier::BOLD),
            selected: Style::default()
                .fg(color(&c.selected_fg))
                .bg(color(&c.selected_bg)),
            running: fg(&c.running),
            paused: fg(&c.paused),
            stopped: fg(&c.stopped),
            crashed: fg(&c.crashed).add_modifier(Modifier::BOLD),
            pending: fg(&c.pending),
            ok: fg(&c.ok),
            error: fg(&c.error).add_modifier(Modifier::BOLD),
            warning: fg(&c.warning),
            color: true,
        }
    }

    #[must_use]
    pub fn state(&self, s: VmState) -> Style {
        match s {
            VmState::Running | VmState::Blocked => self.running,
            VmState::Paused | VmState::PmSuspended | VmState::ShuttingDown => self.paused,
            VmState::Crashed => self.crashed,
            VmState::ShutOff | VmState::NoState => self.stopped,
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Self::new(&ThemeColors::default(), true)
    }
}
