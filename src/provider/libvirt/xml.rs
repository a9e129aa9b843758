//! Domain XML → the disks, NICs and summary the detail pane shows (quick-xml + serde).
//! Pure parsing; unknown elements are ignored because libvirt adds them between versions.

use serde::Deserialize;

use crate::domain::{DiskInfo, NicInfo};

/// What the console keeps from a domain's XML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainXmlSummary {
    pub disks: Vec<DiskInfo>,
    pub nics: Vec<NicInfo>,
    pub summary: Vec<(String, String)>,
}

#[derive(Debug, Deserialize, Default)]
struct DomainXml {
    #[serde(rename = "@type", default)]
    kind: String,
    #[serde(default)]
    os: Option<OsXml>,
    #[serde(default)]
    devices: Option<DevicesXml>,
}

#[derive(Debug, Deserialize, Default)]
struct OsXml {
    #[serde(rename = "type", default)]
    os_type: Option<OsTypeXml>,
    #[serde(default)]
    kernel: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct OsTypeXml {
    #[serde(rename = "@arch", default)]
    arch: String,
    #[serde(rename = "@machine", default)]
    machine: String,
    #[serde(rename = "$text", default)]
    value: String,
}

#[derive(Debug, Deserialize, Default)]
struct DevicesXml {
    #[serde(default)]
    emulator: Option<String>,
    #[serde(rename = "disk", default)]
    disks: Vec<DiskXml>,
    #[serde(rename = "interface", default)]
    interfaces: Vec<InterfaceXml>,
}

#[derive(Debug, Deserialize, Default)]
struct DiskXml {
    #[serde(rename = "@device", default)]
    device: String,
    #[serde(default)]
    driver: Option<Attrs>,
    #[serde(default)]
    source: Option<Attrs>,
    #[serde(default)]
    target: Option<Attrs>,
}

#[derive(Debug, Deserialize, Default)]
struct InterfaceXml {
    #[serde(rename = "@type", default)]
    kind: String,
    #[serde(default)]
    mac: Option<Attrs>,
    #[serde(default)]
    source: Option<Attrs>,
    #[serde(default)]
    target: Option<Attrs>,
    #[serde(default)]
    model: Option<Attrs>,
}

/// The attributes any of these elements may carry; absent ones stay `None`.
#[derive(Debug, Deserialize, Default)]
struct Attrs {
    #[serde(rename = "@file")]
    file: Option<String>,
    #[serde(rename = "@dev")]
    dev: Option<String>,
    #[serde(rename = "@pool")]
    pool: Option<String>,
    #[serde(rename = "@volume")]
    volume: Option<String>,
    #[serde(rename = "@name")]
    name: Option<String>,
    #[serde(rename = "@network")]
    network: Option<String>,
    #[serde(rename = "@bridge")]
    bridge: Option<String>,
    #[serde(rename = "@bus")]
    bus: Option<String>,
    #[serde(rename = "@type")]
    kind: Option<String>,
    #[serde(rename = "@address")]
    address: Option<String>,
}

impl Attrs {
    fn disk_source(&self) -> String {
        if let (Some(p), Some(v)) = (&self.pool, &self.volume) {
            return format!("{p}/{v}");
        }
        self.file
            .clone()
            .or_else(|| self.dev.clone())
            .or_else(|| self.name.clone())
            .unwrap_or_default()
    }

    fn nic_source(&self) -> String {
        self.network
            .clone()
            .or_else(|| self.bridge.clone())
            .or_else(|| self.dev.clone())
            .unwrap_or_default()
    }
}

fn attr(a: Option<&Attrs>, f: impl Fn(&Attrs) -> Option<String>) -> String {
    a.and_then(f).unwrap_or_default()
}

/// Parses a domain XML document.
///
/// # Errors
/// The XML parser's message when the document is not a domain description.
pub fn parse_domain_xml(xml: &str) -> Result<DomainXmlSummary, quick_xml::DeError> {
    let dom: DomainXml = quick_xml::de::from_str(xml)?;
    let devices = dom.devices.unwrap_or_default();
    let disks = devices
        .disks
        .iter()
        .map(|d| DiskInfo {
            target: attr(d.target.as_ref(), |a| a.dev.clone()),
            device: d.device.clone(),
            bus: attr(d.target.as_ref(), |a| a.bus.clone()),
            source: d
                .source
                .as_ref()
                .map(Attrs::disk_source)
                .unwrap_or_default(),
            format: attr(d.driver.as_ref(), |a| a.kind.clone()),
        })
        .collect();
    let nics = devices
        .interfaces
        .iter()
        .map(|i| NicInfo {
            mac: attr(i.mac.as_ref(), |a| a.address.clone()),
            kind: i.kind.clone(),
            source: i.source.as_ref().map(Attrs::nic_source).unwrap_or_default(),
            model: attr(i.model.as_ref(), |a| a.kind.clone()),
            target: attr(i.target.as_ref(), |a| a.dev.clone()),
        })
        .collect();
    let mut summary = vec![("type".to_string(), dom.kind)];
    if let Some(os) = dom.os {
        if let Some(t) = os.os_type {
            summary.push(("os".into(), t.value));
            summary.push(("arch".into(), t.arch));
            summary.push(("machine".into(), t.machine));
        }
        if let Some(k) = os.kernel {
            summary.push(("kernel".into(), k));
        }
    }
    if let Some(e) = devices.emulator {
        summary.push(("emulator".into(), e));
    }
    summary.retain(|(_, v)| !v.is_empty());
    Ok(DomainXmlSummary {
        disks,
        nics,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r"<domain type='qemu' id='3'>
  <name>web-1</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>98304</memory>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><kernel>/lab/vmlinuz</kernel></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/web-1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' index='0'/>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='novacron-lab' bridge='virbr-nclab'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
    </interface>
    <disk type='volume' device='cdrom'>
      <source pool='default' volume='seed.iso'/>
      <target dev='sda' bus='sata'/>
    </disk>
  </devices>
</domain>";

    #[test]
    fn disks_and_nics_come_out_of_interleaved_devices() {
        let s = parse_domain_xml(XML).unwrap();
        assert_eq!(s.disks.len(), 2);
        assert_eq!(s.disks[0].target, "vda");
        assert_eq!(s.disks[0].format, "qcow2");
        assert_eq!(s.disks[0].source, "/var/lib/libvirt/images/web-1.qcow2");
        assert_eq!(s.disks[1].source, "default/seed.iso");
        assert_eq!(s.disks[1].device, "cdrom");
        assert_eq!(s.nics.len(), 1);
        assert_eq!(s.nics[0].mac, "52:54:00:12:34:56");
        assert_eq!(s.nics[0].source, "novacron-lab");
        assert_eq!(s.nics[0].target, "vnet3");
        assert!(s
            .summary
            .contains(&("machine".into(), "pc-i440fx-7.2".into())));
        assert!(s
            .summary
            .contains(&("kernel".into(), "/lab/vmlinuz".into())));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_domain_xml("<domain><devices><disk").is_err());
    }
}
