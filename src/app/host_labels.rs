//! Host labels: the short names the header, the HOST column, the journal (`web-1@kvm2`) and
//! the commands use for connections.

/// Short, unique labels for the host column: the URI's host part, else its driver name.
#[must_use]
pub fn host_labels(uris: &[String]) -> Vec<String> {
    let base: Vec<String> = uris.iter().map(|u| host_label(u)).collect();
    // Numbered among the hosts that share the label: local#1, kvm2, local#2.
    base.iter()
        .enumerate()
        .map(|(i, l)| {
            if base.iter().filter(|b| *b == l).count() > 1 {
                let nth = base[..=i].iter().filter(|b| *b == l).count();
                format!("{l}#{nth}")
            } else {
                l.clone()
            }
        })
        .collect()
}

/// The label of `uri` alone: its host part, else its driver ("local" for qemu:///…).
#[must_use]
pub fn host_label(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    // [::1]:22 or 10.0.0.5:22 or kvm2:22.
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        let driver = scheme.split('+').next().unwrap_or(scheme);
        let path = rest.trim_start_matches('/');
        if driver == "qemu" || path.is_empty() {
            // qemu:///system is the local hypervisor, which is what operators call "local".
            if driver == "qemu" {
                return "local".into();
            }
            return driver.into();
        }
        return driver.into();
    }
    // A name is known by its first label (kvm2 of kvm2.example.com); an address only whole.
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_string();
    }
    host.split('.').next().unwrap_or(host).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_and_unique() {
        let uris: Vec<String> = [
            "qemu:///system",
            "qemu+ssh://root@kvm2.example.com/system",
            "test:///default",
            "test:///tmp/node.xml",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            host_labels(&uris),
            vec!["local", "kvm2", "test#1", "test#2"]
        );
        let addrs: Vec<String> = [
            "qemu+ssh://10.0.0.5:22/system",
            "qemu+tcp://[fd00::7]:16509/system",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            host_labels(&addrs),
            vec!["10.0.0.5", "fd00::7"],
            "an address is not cut"
        );
    }
}
