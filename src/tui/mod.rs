//! Terminal side: setup/restore, key translation and the event loop that drives `app`.

pub mod event_loop;
pub mod history;
pub mod input;
pub mod terminal;
