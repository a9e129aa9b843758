//! Which libvirt hosts to connect to, and whether a URI names a libvirt driver at all.

use super::file::ConfigFile;
use super::validate::{ConfigError, Overrides};

/// libvirt's hypervisor drivers and remote transports, as URI schemes spell them.
const DRIVERS: [&str; 19] = [
    "qemu",
    "test",
    "lxc",
    "xen",
    "libxl",
    "ch",
    "bhyve",
    "vbox",
    "vmwareplayer",
    "vmwarews",
    "vmwarefusion",
    "esx",
    "gsx",
    "vpx",
    "hyperv",
    "openvz",
    "vz",
    "parallels",
    "remote",
];
const TRANSPORTS: [&str; 7] = ["ssh", "libssh", "libssh2", "tcp", "tls", "unix", "ext"];

/// Checks that `uri` names a libvirt driver (and transport); `origin` says where it came from.
///
/// # Errors
/// [`ConfigError::Value`] naming the URI and what is allowed.
pub fn check_uri(origin: &str, uri: &str) -> Result<(), ConfigError> {
    if let Some((scheme, _)) = uri.split_once("://") {
        let (driver, transport) = scheme.split_once('+').unwrap_or((scheme, ""));
        // libvirt reads an unknown scheme as a remote host and fails on TLS certificates,
        // which says nothing about the typo.
        let known =
            DRIVERS.contains(&driver) && (transport.is_empty() || TRANSPORTS.contains(&transport));
        if known {
            return Ok(());
        }
        Err(ConfigError::Value {
            origin: origin.to_string(),
            message: format!(
                "{uri:?}: {scheme:?} is not a libvirt driver; write DRIVER[+TRANSPORT]://…, \
                 DRIVER one of {} and TRANSPORT one of {}",
                DRIVERS.join(", "),
                TRANSPORTS.join(", ")
            ),
        })
    } else {
        Err(ConfigError::Value {
            origin: origin.to_string(),
            message: format!(
                "{uri:?} is not a libvirt URI; write e.g. qemu:///system, qemu+ssh://host/system or test:///default"
            ),
        })
    }
}

/// The hosts to connect to: `-c`, else the file's `connect`, else `$LIBVIRT_DEFAULT_URI`, else
/// `qemu:///system`; each checked, repeats dropped (`-c X -c X` is one host, not two that
/// each hold every VM).
pub(super) fn uris(
    o: &Overrides,
    cf: &ConfigFile,
    file_name: &str,
    env_uri: Option<&str>,
) -> Result<Vec<String>, ConfigError> {
    // An empty list is a mistake, not "the default": the console would quietly watch a
    // host the file did not name.
    if o.connect.is_empty() && cf.connect.as_ref().is_some_and(Vec::is_empty) {
        return Err(ConfigError::Value {
            origin: format!("{file_name}: connect"),
            message: "is empty; list at least one URI (such as \"qemu:///system\"), or \
                      remove the key to use $LIBVIRT_DEFAULT_URI, else qemu:///system"
                .into(),
        });
    }
    let mut uris: Vec<String> = if !o.connect.is_empty() {
        for u in &o.connect {
            check_uri("--connect", u)?;
        }
        o.connect.clone()
    } else if let Some(list) = cf.connect.clone() {
        for u in &list {
            check_uri(&format!("{file_name}: connect"), u)?;
        }
        list
    } else {
        let uri = env_uri.filter(|u| !u.is_empty());
        if let Some(u) = uri {
            check_uri("$LIBVIRT_DEFAULT_URI", u)?;
        }
        vec![uri.unwrap_or("qemu:///system").to_string()]
    };
    // Once per daemon, whatever the spelling (`qemu+unix:///system` is `qemu:///system`):
    // a second connection to it would be refused by the console's own lock.
    let mut seen = std::collections::HashSet::new();
    uris.retain(|u| seen.insert(crate::lock::daemon_key(u)));
    Ok(uris)
}
