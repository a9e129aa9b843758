//! Connections for headless commands: every host opened at once, each within
//! [`OPEN_DEADLINE`], so one host that never answers neither blocks a command forever nor
//! delays the others; what answered is used, what did not is reported.

use std::time::Instant;

use virt::connect::Connect;

use super::Failure;
use crate::config::Config;
use crate::provider::libvirt::{Opening, OPEN_DEADLINE};

/// The hosts that answered and, for each that did not, why.
pub struct Reached {
    pub conns: Vec<(String, Connect)>,
    pub failed: Vec<String>,
}

impl Reached {
    /// Opens every configured host at once (read-only when asked, or when the config says so).
    ///
    /// # Errors
    /// Exit 2 when no host answered, with each one's error.
    pub fn open(cfg: &Config, read_only: bool) -> Result<Self, Failure> {
        let started = Instant::now();
        let attempts: Vec<_> = cfg
            .uris
            .iter()
            .map(|u| (u.clone(), Opening::start(u, read_only || cfg.read_only)))
            .collect();
        let mut r = Self {
            conns: Vec::new(),
            failed: Vec::new(),
        };
        for (uri, attempt) in attempts {
            let left = OPEN_DEADLINE.saturating_sub(started.elapsed());
            let opened = attempt.and_then(|a| {
                a.wait(left)
                    .unwrap_or_else(|a| Err(a.no_answer(OPEN_DEADLINE)))
            });
            match opened {
                Ok(c) => r.conns.push((uri, c)),
                Err(e) => r.failed.push(e.to_string()),
            }
        }
        if r.conns.is_empty() {
            return Err(Failure::usage(r.failed.join("\n")));
        }
        Ok(r)
    }

    /// Records a host that answered but whose read then failed.
    pub fn fail(&mut self, uri: &str, e: impl std::fmt::Display) {
        self.failed.push(format!("{uri}: {e}"));
    }

    /// After a report of the hosts that answered: exit 2 naming the others, if any.
    ///
    /// # Errors
    /// Exit 2 when a host is missing from the report.
    pub fn finish(&self, what: &str) -> Result<(), Failure> {
        if self.failed.is_empty() {
            Ok(())
        } else {
            Err(Failure::usage(format!(
                "{}\n({what} the other hosts)",
                self.failed.join("\n")
            )))
        }
    }
}
