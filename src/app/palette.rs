//! The `:` command palette: parsing a command line and completing it.

use crate::domain::Op;

use super::state::State;

/// Verbs the palette knows, in the order completion offers them.
pub const VERBS: [&str; 13] = [
    "start",
    "shutdown",
    "reboot",
    "reset",
    "suspend",
    "resume",
    "destroy",
    "forecast",
    "capacity",
    "rightsize",
    "connect",
    "disconnect",
    "quit",
];

/// The verbs as `?` lists them: five to a line, so the lines fit an 80-column help pane.
#[must_use]
pub fn help_lines() -> Vec<String> {
    VERBS
        .chunks(5)
        .enumerate()
        .map(|(i, c)| {
            let lead = if i == 0 { "palette verbs: " } else { "  " };
            let more = if (i + 1) * 5 < VERBS.len() { "," } else { "" };
            format!("{lead}{}{more}", c.join(", "))
        })
        .collect()
}

/// Verbs whose argument is a VM name.
fn takes_vm(verb: &str) -> bool {
    verb.parse::<Op>().is_ok() || verb == "forecast"
}

/// A parsed palette command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Op {
        op: Op,
        vm: String,
    },
    /// A VM or a host (by label or URI); none: what `F` opens from where the palette was.
    Forecast(Option<String>),
    Capacity,
    Rightsize,
    Connect(String),
    /// A host's label or URI.
    Disconnect(String),
    Quit,
}

/// Parses `verb [argument]`; the error says what was wrong and what is allowed.
///
/// # Errors
/// An unknown verb, a missing or extra argument.
pub fn parse(line: &str) -> Result<Command, String> {
    let (words, open) = split(line);
    if let Some(q) = open {
        return Err(format!(
            "a {q} quote is left open; close it: :start \"web 1\" (or write web\\ 1)"
        ));
    }
    let mut words = words.iter().map(String::as_str);
    let Some(verb) = words.next() else {
        return Err(format!("empty command; verbs: {}", VERBS.join(", ")));
    };
    let arg = words.next();
    if words.next().is_some() {
        let what = match verb {
            "forecast" => "[NAME|HOST]",
            "connect" => "URI",
            "disconnect" => "HOST",
            _ => "NAME",
        };
        return Err(format!(
            "{verb}: too many arguments; usage: {verb} {what} (quote a name with spaces: \"web 1\")"
        ));
    }
    match (verb, arg) {
        ("quit" | "q", None) => Ok(Command::Quit),
        ("connect", Some(uri)) => crate::config::uri::check_uri(":connect", uri)
            .map(|()| Command::Connect(uri.to_string()))
            .map_err(|e| e.to_string()),
        ("connect", None) => {
            Err("connect needs a URI, e.g. :connect qemu+ssh://kvm2/system".into())
        }
        ("disconnect", Some(host)) => Ok(Command::Disconnect(host.to_string())),
        ("disconnect", None) => Err(
            "disconnect needs a host's label or URI, e.g. :disconnect kvm2 (the header shows the labels)"
                .into(),
        ),
        ("forecast", arg) => Ok(Command::Forecast(arg.map(str::to_string))),
        ("capacity", None) => Ok(Command::Capacity),
        ("rightsize", None) => Ok(Command::Rightsize),
        ("quit" | "q", Some(extra)) => Err(format!(
            "quit takes no argument (got {extra:?}); it ends the console"
        )),
        ("capacity" | "rightsize", Some(extra)) => Err(format!(
            "{verb} takes no argument (got {extra:?}); it covers every host and VM"
        )),
        (v, a) => match v.parse::<Op>() {
            Ok(op) => a
                .map(|vm| Command::Op {
                    op,
                    vm: vm.to_string(),
                })
                .ok_or_else(|| format!("{v} needs a VM name, e.g. :{v} web-1")),
            Err(_) => Err(format!(
                "unknown command {v:?}; verbs: {}",
                VERBS.join(", ")
            )),
        },
    }
}

/// The words of a command line, split at blanks: "double" or 'single' quotes hold a word
/// with blanks (a VM may be named "web 1"), and `\` takes the next character as it is. The
/// quote still open at the end, if any.
fn split(line: &str) -> (Vec<String>, Option<char>) {
    let (words, quote, _) = split_at_end(line);
    (words, quote)
}

/// [`split`], and whether the line ends between words (a blank that no quote or `\` holds),
/// where completion starts a new word.
fn split_at_end(line: &str) -> (Vec<String>, Option<char>, bool) {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                let next = chars.next().unwrap_or('\\');
                word.get_or_insert_with(String::new).push(next);
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (_, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    let between = word.is_none() && quote.is_none();
    words.extend(word);
    (words, quote, between)
}

/// `name` as the palette reads it back: in double quotes when it holds blanks or quotes.
fn quoted(name: &str) -> String {
    if name
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'))
    {
        let inner: String = name
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        format!("\"{inner}\"")
    } else {
        name.to_string()
    }
}

/// Candidates for the word being typed: verbs first, then VM names for verbs that take one.
#[must_use]
pub fn completions(state: &State, line: &str) -> Vec<String> {
    // A blank inside quotes or after `\` is part of the name being typed.
    let (owned, _, between) = split_at_end(line);
    let ends_with_space = between && !owned.is_empty();
    let words: Vec<&str> = owned.iter().map(String::as_str).collect();
    match (words.as_slice(), ends_with_space) {
        ([], _) => VERBS.iter().map(|v| (*v).to_string()).collect(),
        ([verb], false) => VERBS
            .iter()
            .filter(|v| v.starts_with(verb))
            .map(|v| (*v).to_string())
            .collect(),
        ([verb], true) | ([verb, _], false) if takes_vm(verb) || *verb == "disconnect" => {
            let prefix = if ends_with_space { "" } else { words[1] };
            let all: Vec<String> = if takes_vm(verb) {
                // An operation offers only the VMs whose state it applies to (start: the
                // shut-off ones), by the rule the reducer refuses with.
                let op = verb.parse::<Op>().ok();
                let vms = state
                    .vms
                    .values()
                    .filter(|e| op.is_none_or(|op| op.wrong_state(e.vm.state, None).is_none()))
                    .map(|e| e.vm.name.clone());
                // A forecast is of a VM or a host.
                let hosts = state
                    .hosts
                    .iter()
                    .filter(|_| *verb == "forecast")
                    .map(|h| h.label.clone());
                vms.chain(hosts).collect()
            } else {
                state.hosts.iter().map(|h| h.label.clone()).collect()
            };
            let mut names: Vec<String> =
                all.into_iter().filter(|n| n.starts_with(prefix)).collect();
            names.sort();
            names.dedup();
            names
                .into_iter()
                .map(|n| format!("{verb} {}", quoted(&n)))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Completes `line` to the longest common prefix of its candidates (or the only one).
#[must_use]
pub fn complete(state: &State, line: &str) -> String {
    let cands = completions(state, line);
    let Some(first) = cands.first() else {
        return line.to_string();
    };
    if cands.len() == 1 {
        let only = first.clone();
        return if only.contains(' ') {
            only
        } else {
            format!("{only} ")
        };
    }
    let mut prefix = first.clone();
    for c in &cands[1..] {
        while !c.starts_with(&prefix) {
            prefix.pop();
        }
    }
    if prefix.len() > line.len() {
        prefix
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test]
    fn connect_names_a_scheme_libvirt_does_not_know() {
        let e = parse("connect bogus://x").unwrap_err();
        assert!(
            e.starts_with(":connect: \"bogus://x\": \"bogus\" is not a libvirt driver"),
            "{e}"
        );
    }

    #[test]
    fn help_lists_every_verb_in_lines_that_fit_the_help_pane() {
        let lines = help_lines();
        // An 80-column pane: borders, the 14-column key cell and the gap leave 63.
        assert!(lines.iter().all(|l| l.chars().count() <= 63), "{lines:?}");
        let listed: Vec<String> = lines
            .join(" ")
            .trim_start_matches("palette verbs: ")
            .split([',', ' '])
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect();
        assert_eq!(listed, VERBS.to_vec());
    }

    #[test_case("start web-1", Ok(Command::Op { op: Op::Start, vm: "web-1".into() }) ; "start")]
    #[test_case("quit", Ok(Command::Quit) ; "quit")]
    #[test_case("connect test:///default", Ok(Command::Connect("test:///default".into())) ; "connect")]
    #[test_case("disconnect kvm2", Ok(Command::Disconnect("kvm2".into())) ; "disconnect")]
    #[test_case("start \"web 1\"", Ok(Command::Op { op: Op::Start, vm: "web 1".into() }) ; "double quotes")]
    #[test_case("start 'web 1'", Ok(Command::Op { op: Op::Start, vm: "web 1".into() }) ; "single quotes")]
    #[test_case("start web\\ 1", Ok(Command::Op { op: Op::Start, vm: "web 1".into() }) ; "escaped blank")]
    #[test_case("start \"a \\\"b\\\"\"", Ok(Command::Op { op: Op::Start, vm: "a \"b\"".into() }) ; "escaped quote")]
    #[allow(clippy::needless_pass_by_value)]
    fn parses_commands(line: &str, expected: Result<Command, String>) {
        assert_eq!(parse(line), expected);
    }

    #[test_case("frobnicate x", "unknown command \"frobnicate\"" ; "unknown verb")]
    #[test_case("destroy", "destroy needs a VM name" ; "missing name")]
    #[test_case("disconnect", "disconnect needs a host's label or URI" ; "disconnect without a host")]
    #[test_case("capacity extra", "capacity takes no argument (got \"extra\")" ; "capacity with an argument")]
    #[test_case("rightsize 7d", "rightsize takes no argument" ; "rightsize with an argument")]
    #[test_case("start a b", "too many arguments" ; "extra argument")]
    #[test_case("", "empty command" ; "empty")]
    #[test_case("start \"web 1", "quote is left open" ; "open quote")]
    fn bad_commands_say_what_is_allowed(line: &str, fragment: &str) {
        let err = parse(line).unwrap_err();
        assert!(err.contains(fragment), "{err}");
    }

    #[test]
    fn a_name_with_a_blank_completes_quoted_and_parses_back() {
        use crate::app::fixtures::{state, updated, vm};
        use crate::domain::VmState;
        let mut s = state();
        updated(&mut s, vm(0, "rv-sp ace", VmState::ShutOff, 1, 512));
        let line = complete(&s, "start rv-sp");
        assert_eq!(line, "start \"rv-sp ace\"");
        assert_eq!(
            parse(&line),
            Ok(Command::Op {
                op: Op::Start,
                vm: "rv-sp ace".into()
            })
        );
        // Typing inside the quotes, or after an escaped blank, goes on completing the name.
        assert_eq!(complete(&s, "start \"rv-sp a"), "start \"rv-sp ace\"");
        assert_eq!(complete(&s, "start rv-sp\\ "), "start \"rv-sp ace\"");
    }
}
