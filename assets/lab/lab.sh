#!/usr/bin/env bash
# novacron local libvirt lab: tiny TCG guests on an isolated network, for integration
# tests and benchmarks. See assets/lab/README.md. Run as root on Debian 12.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROG="assets/lab/lab.sh"

# --- settings (env overrides) ------------------------------------------------------------
URI="qemu:///system"
BUILD_DIR="${NOVACRON_LAB_DIR:-$SCRIPT_DIR/build}"              # kernel + initramfs
IMG_DIR="${NOVACRON_LAB_IMAGES:-/var/lib/libvirt/images/novacron-lab}" # runtime files
NET_NAME="novacron-lab"
NET_BRIDGE="virbr-nclab"
NET_PREFIX="${NOVACRON_LAB_NET_PREFIX:-10.213.7}"               # a /24, host is .1
MEM_MIB="${NOVACRON_LAB_MEM_MIB:-96}"
DATA_DISK_MIB=128                 # the disk role rewrites its first 64 MiB in a loop
BOOT_TIMEOUT="${NOVACRON_LAB_BOOT_TIMEOUT:-300}"
LOCK_FILE="/run/novacron-lab.lock"
START_PARALLEL=6                  # concurrent virsh start/destroy
META_URI="http://novacron.dev/xmlns/lab/1"
BASE_ROLES=(idle busy disk net)
ROLES="idle busy disk net"

PACKAGES=(libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  libvirt-daemon-system qemu-system-x86 qemu-utils cpio busybox-static tmux pkg-config
  # normally pulled in as recommends; listed so the lab also works with recommends off
  dnsmasq-base iptables iproute2 seabios ipxe-qemu)

virsh() { command virsh -q -c "$URI" "$@"; }

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: $PROG COMMAND [ARGS]

Local libvirt lab for novacron: tiny busybox guests (96 MiB, 1 vCPU, TCG) on the isolated
network '$NET_NAME' ($NET_PREFIX.0/24, no forwarding). Everything uses $URI.

Commands:
  install              install the Debian packages (skipped when present) and start
                       virtlogd + libvirtd when they are not running
  build                fetch Debian's cloud kernel and build the initramfs into the build
                       dir (skipped when already built)
  up [--extra N] [--no-wait] [--busy-quota US]
                       install + build + network, then define and start nclab-idle,
                       nclab-busy, nclab-disk, nclab-net; with --extra N exactly N more
                       idle guests nclab-extra-01..NN (extras above N are removed; without
                       --extra existing extras are left alone). Running guests are left
                       alone, paused ones resumed. Waits until every guest it started has
                       booted (its init logged a DHCP lease) unless --no-wait.
                       --busy-quota US caps nclab-busy at US µs per 100 ms (virsh
                       schedinfo vcpu_quota, live); default uncapped.
  define NAME [ROLE]   define (not start) one more lab guest; ROLE is one of: $ROLES
                       (default idle). A no-op when NAME already exists.
  undefine NAME        destroy (if running) and undefine a lab guest, remove its files
  down                 destroy + undefine every lab guest, remove their files, destroy
                       + undefine the network
  status               lab guests with state and role, network state, DHCP leases
  help, --help         this text

Environment:
  NOVACRON_LAB_DIR        build dir (default: assets/lab/build)
  NOVACRON_LAB_IMAGES     runtime dir for kernel/initrd copies, disks, console logs
                          (default: /var/lib/libvirt/images/novacron-lab)
  NOVACRON_LAB_NET_PREFIX first three octets of the lab /24 (default: 10.213.7)
  NOVACRON_LAB_BUSY_QUOTA_US  same as --busy-quota
  NOVACRON_LAB_BOOT_TIMEOUT   seconds 'up' waits for guests to boot (default: 300)
EOF
}

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (libvirt qemu:///system, apt)"; }

# Serialise mutating commands: integration tests may call 'define' from parallel tests.
take_lock() {
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    note "waiting for another $PROG run to finish (lock $LOCK_FILE)"
    flock 9
  fi
}

# --- install -------------------------------------------------------------------------------

missing_packages() {
  local p st
  for p in "${PACKAGES[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $st == installed ]] || printf '%s\n' "$p"
  done
  # qemu-utils must be the same build as qemu-system-x86 (see apt_install_packages)
  local sys utils
  sys=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
  utils=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
  if [[ -n $sys && -n $utils && $sys != "$utils" ]]; then
    printf 'qemu-utils(%s!=%s)\n' "$utils" "$sys"
  fi
}

apt_install_packages() {
  local missing
  missing=$(missing_packages)
  if [[ -z $missing ]]; then
    say "packages: all ${#PACKAGES[@]} already installed"
    return
  fi
  say "packages: installing ${missing//$'\n'/ }"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # qemu-system-x86 and qemu-utils must be the same build: with backports enabled,
  # installing qemu-system-x86 can otherwise remove qemu-utils. Pin both to the newest
  # version that is not from backports (bookworm main / security).
  local qver pinned=() p
  qver=$(apt-cache madison qemu-system-x86 |
    awk -F' *[|] *' '$3 !~ /backports/ && $3 ~ /Packages/ {print $2; exit}')
  [[ -n $qver ]] || die "no non-backports qemu-system-x86 in the apt sources"
  note "qemu-system-x86 and qemu-utils pinned to $qver"
  for p in "${PACKAGES[@]}"; do
    case $p in
      qemu-system-x86 | qemu-utils) pinned+=("$p=$qver") ;;
      *) pinned+=("$p") ;;
    esac
  done
  apt-get install -y -q --allow-downgrades "${pinned[@]}"
  # Belt and braces: if something still removed qemu-utils, put it back at the same version.
  if [[ $(dpkg-query -W -f='${db:Status-Status}' qemu-utils 2>/dev/null || true) != installed ||
    $(dpkg-query -W -f='${Version}' qemu-utils) != "$(dpkg-query -W -f='${Version}' qemu-system-x86)" ]]; then
    local sysver
    sysver=$(dpkg-query -W -f='${Version}' qemu-system-x86)
    say "packages: qemu-utils missing or not the build of qemu-system-x86; installing qemu-utils=$sysver"
    apt-get install -y -q --allow-downgrades "qemu-utils=$sysver"
  fi
  missing=$(missing_packages)
  [[ -z $missing ]] || die "packages still missing after apt-get: ${missing//$'\n'/ }"
}

# Is the daemon whose pid file is $1 alive? (pid file + /proc, so neither procps nor a
# shared PID namespace with another root can fool it)
daemon_alive() {
  local pidfile=$1 comm=$2 pid
  [[ -r $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]]
}

# 'virsh uri' is a plain connect (~50 ms); 'virsh version' takes seconds here, so it is only
# used once, to confirm a daemon we just started has its QEMU driver up.
libvirt_answers() { command virsh -c "$URI" uri >/dev/null 2>&1; }

# The daemons must not inherit fd 9 (our lock) or they would hold it forever.
start_daemons() {
  mkdir -p /var/log/libvirt /var/run/libvirt
  if daemon_alive /run/virtlogd.pid virtlogd; then
    note "virtlogd: running"
  else
    say "starting virtlogd"
    virtlogd -d 9>&- || warn "virtlogd -d failed (already running without a pid file?)"
  fi
  local started=0
  if libvirt_answers || daemon_alive /run/libvirtd.pid libvirtd; then
    note "libvirtd: running"
  else
    say "starting libvirtd"
    libvirtd -d 9>&- || warn "libvirtd -d failed (already running without a pid file?)"
    started=1
  fi
  local i
  for ((i = 0; i < 60; i++)); do
    if libvirt_answers && { ((started == 0)) || command virsh -c "$URI" version >/dev/null 2>&1; }; then
      note "libvirtd answers on $URI"
      return
    fi
    sleep 0.5
  done
  die "libvirtd does not answer on $URI after 30 s (see /var/log/libvirt/libvirtd.log)"
}

# libvirt runs QEMU as libvirt-qemu (group kvm) but probes QEMU's capabilities as root. When
# /dev/kvm belongs to another group (seen here: gid 103, ssl-cert), the probe finds KVM and
# the qemu user cannot use it; libvirt then judges its capability cache outdated on every
# call and re-probes QEMU for seconds per define/start (minutes for 24 guests). Giving the
# device to group kvm, as udev would, makes both views agree. Lab guests stay TCG either way.
fix_kvm_group() {
  [[ -c /dev/kvm ]] || return 0
  getent group kvm >/dev/null || return 0
  if [[ $(stat -c %G /dev/kvm) != kvm ]]; then
    say "giving /dev/kvm to group kvm (was $(stat -c %G /dev/kvm)) so libvirt keeps its QEMU capability cache"
    chgrp kvm /dev/kvm
    chmod g+rw /dev/kvm
  fi
}

cmd_install() {
  need_root
  apt_install_packages
  fix_kvm_group
  start_daemons
}

# --- build ---------------------------------------------------------------------------------

# Modules for the guest, in the order asked for; dependencies are resolved from each .ko's
# modinfo 'depends=' (the kernel .deb ships no modules.dep and kmod may be absent).
GUEST_MODULES=(virtio_ring virtio virtio_pci virtio_net virtio_blk virtio_balloon button evdev)

guest_init() {
  cat <<'EOF'
#!/bin/busybox sh
# novacron lab guest init (generated by assets/lab/lab.sh)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts
exec </dev/console >/dev/console 2>&1

role=idle name=nclab
for w in $(cat /proc/cmdline); do
  case $w in
    nc.role=*) role=${w#nc.role=} ;;
    nc.name=*) name=${w#nc.name=} ;;
  esac
done
hostname "$name"
echo "nclab: $name booting, role=$role, kernel $(uname -r)"

for m in $(cat /lib/modules/load-order); do
  insmod "/lib/modules/$m.ko" || echo "nclab: insmod $m failed"
done

ip link set lo up
ip link set eth0 up || echo "nclab: no eth0"
# -f: stay in the foreground of this background job and keep renewing the lease
udhcpc -f -S -i eth0 -s /etc/udhcpc.script -x "hostname:$name" -F "$name" >/dev/null 2>&1 &

case $role in
  idle) ;;
  busy)
    while :; do :; done &
    ;;
  disk)
    # ~1 MiB every 0.5 s, O_DIRECT so every block reaches the virtual disk; cycles over
    # the first 64 MiB so the qcow2 stays bounded.
    (
      while [ ! -b /dev/vda ]; do sleep 1; done
      i=0
      while :; do
        dd if=/dev/zero of=/dev/vda bs=64k count=16 seek=$((i * 16)) oflag=direct conv=notrunc 2>/dev/null ||
          echo "nclab: dd failed"
        i=$(((i + 1) % 64))
        sleep 0.5
      done
    ) &
    ;;
  net)
    # ~5 KB/s each way to the host's address on the isolated lab network.
    (
      while [ ! -s /run/nc-peer ]; do sleep 1; done
      while :; do
        ping -q -s 1000 -i 0.2 "$(cat /run/nc-peer)" >/dev/null 2>&1
        sleep 1
      done
    ) &
    ;;
  *) echo "nclab: unknown role '$role', idling" ;;
esac

# An interactive shell on the serial console (virsh console NAME).
(while :; do setsid cttyhack sh -l; sleep 1; done) &

echo "nclab: $name up, role=$role"

# Wait for the ACPI power button (virsh shutdown / virsh reboot) and power off.
pb=
for d in /sys/class/input/event*; do
  [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] && pb=/dev/input/${d##*/}
done
if [ -n "$pb" ]; then
  # one struct input_event (24 bytes on x86_64): any event from this device is a press
  dd if="$pb" of=/dev/null bs=24 count=1 2>/dev/null
  echo "nclab: power button pressed, powering off"
else
  echo "nclab: no power button input device; ACPI shutdown will not work"
  while :; do sleep 3600; done
fi
sync
poweroff -f
EOF
}

guest_udhcpc_script() {
  cat <<'EOF'
#!/bin/sh
# udhcpc hook (generated by assets/lab/lab.sh)
case "$1" in
  deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound | renew)
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/"; then
      ip addr flush dev "$interface"
      ip addr add "$ip/${mask:-24}" dev "$interface"
      echo "nclab: lease $ip/${mask:-24} on $interface from ${serverid:-?}" >/dev/console
    fi
    # libvirt sends no router on isolated networks; the DHCP server is the host.
    peer=${router%% *}
    [ -n "$peer" ] || peer=$serverid
    [ -n "$peer" ] && echo "$peer" >/run/nc-peer
    ;;
esac
exit 0
EOF
}

# The build stamp covers the kernel version and the generated guest files, so editing
# this script's guest recipe triggers a rebuild.
build_recipe_hash() {
  { guest_init; guest_udhcpc_script; echo "${GUEST_MODULES[*]}"; } | sha256sum | cut -c1-16
}

resolve_kernel_pkg() {
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9].*-cloud-amd64/ {print $2; exit}')
  [[ -n $pkg ]] || die "cannot resolve linux-image-cloud-amd64 to a kernel package (apt-get update?)"
  printf '%s\n' "$pkg"
}

# Print the module names needed for $1 (deps first), reading depends= from the .ko files.
declare -A MOD_PATH=() MOD_DONE=()
MOD_ORDER=()
mod_add() {
  local m=$1 f deps d
  [[ -n ${MOD_DONE[$m]:-} ]] && return 0
  f=${MOD_PATH[$m]:-}
  if [[ -z $f ]]; then
    return 1
  fi
  MOD_DONE[$m]=1
  deps=$(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | head -1)
  for d in ${deps//,/ }; do
    mod_add "$d" || die "module $m depends on $d, which is not in the kernel package"
  done
  MOD_ORDER+=("$m")
}

cmd_build() {
  need_root
  local stamp="$BUILD_DIR/.built" want_hash kpkg
  for t in apt-get dpkg cpio gzip busybox; do
    command -v "$t" >/dev/null || die "'$t' not found; run '$PROG install' first"
  done
  want_hash=$(build_recipe_hash)
  if [[ -f $stamp && -f $BUILD_DIR/vmlinuz && -f $BUILD_DIR/initrd.img ]] &&
    grep -qx "recipe=$want_hash" "$stamp"; then
    say "build: up to date in $BUILD_DIR ($(grep '^kernel=' "$stamp" | cut -d= -f2))"
    return
  fi
  kpkg=$(resolve_kernel_pkg)
  say "build: kernel package $kpkg, into $BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  local work="$BUILD_DIR/work"
  rm -rf "$work"
  mkdir -p "$work/deb" "$work/root"
  (cd "$work/deb" && apt-get download -q -o APT::Sandbox::User=root "$kpkg" >/dev/null)
  dpkg -x "$work/deb/"*.deb "$work/kernel"
  local kver
  kver=$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -1)
  [[ -n $kver && -f $work/kernel/boot/vmlinuz-$kver ]] || die "unexpected layout in $kpkg"
  note "kernel $kver"

  # module name -> file (names use '_'; file names may use '-')
  local f n
  while IFS= read -r f; do
    n=$(basename "$f"); n=${n%%.ko*}; n=${n//-/_}
    MOD_PATH[$n]=$f
  done < <(find "$work/kernel/lib/modules/$kver" -name '*.ko*')
  local m
  for m in "${GUEST_MODULES[@]}"; do
    if [[ -n ${MOD_PATH[$m]:-} ]]; then
      mod_add "$m"
    else
      # not a module: fine if built in
      if grep -q "/$m.ko" "$work/kernel/lib/modules/$kver/modules.builtin" 2>/dev/null; then
        note "module $m is built in"
      else
        die "module $m is neither a module nor built in in $kver"
      fi
    fi
  done
  note "modules (load order): ${MOD_ORDER[*]}"

  local root="$work/root"
  mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,etc,lib/modules}
  cp /bin/busybox "$root/bin/busybox"
  ln -s busybox "$root/bin/sh"
  for m in "${MOD_ORDER[@]}"; do
    f=${MOD_PATH[$m]}
    case $f in
      *.ko) cp "$f" "$root/lib/modules/$m.ko" ;;
      *.ko.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
      *.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
      *.ko.gz) gzip -dc "$f" >"$root/lib/modules/$m.ko" ;;
    esac
  done
  printf '%s\n' "${MOD_ORDER[@]}" >"$root/lib/modules/load-order"
  guest_init >"$root/init"
  guest_udhcpc_script >"$root/etc/udhcpc.script"
  chmod 755 "$root/init" "$root/etc/udhcpc.script"
  # the kernel opens /dev/console before init mounts devtmpfs
  mknod -m 600 "$root/dev/console" c 5 1
  mknod -m 666 "$root/dev/null" c 1 3
  (cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet | gzip -9n) \
    >"$BUILD_DIR/initrd.img.tmp"
  cp "$work/kernel/boot/vmlinuz-$kver" "$BUILD_DIR/vmlinuz.tmp"
  mv "$BUILD_DIR/initrd.img.tmp" "$BUILD_DIR/initrd.img"
  mv "$BUILD_DIR/vmlinuz.tmp" "$BUILD_DIR/vmlinuz"
  printf 'kernel=%s\npackage=%s\nmodules=%s\nrecipe=%s\n' "$kver" "$kpkg" "${MOD_ORDER[*]}" \
    "$want_hash" >"$stamp"
  rm -rf "$work"
  note "built $BUILD_DIR/vmlinuz ($(du -h "$BUILD_DIR/vmlinuz" | cut -f1)), initrd.img ($(du -h "$BUILD_DIR/initrd.img" | cut -f1))"
}

# --- runtime files, network, domains -----------------------------------------------------------

# QEMU runs as libvirt-qemu and must be able to read kernel/initrd: keep world-readable
# copies in the images dir (the build dir may sit under an unreadable home).
stage_runtime() {
  mkdir -p "$IMG_DIR/logs"
  chmod 755 "$IMG_DIR"
  local f
  for f in vmlinuz initrd.img; do
    if ! cmp -s "$BUILD_DIR/$f" "$IMG_DIR/$f"; then
      cp "$BUILD_DIR/$f" "$IMG_DIR/$f.tmp"
      chmod 644 "$IMG_DIR/$f.tmp"
      mv "$IMG_DIR/$f.tmp" "$IMG_DIR/$f"
    fi
  done
}

net_xml() {
  cat <<EOF
<network>
  <name>$NET_NAME</name>
  <!-- no <forward>: isolated, guest traffic never leaves this host -->
  <bridge name='$NET_BRIDGE' stp='on' delay='0'/>
  <domain name='nclab.test' localOnly='yes'/>
  <ip address='$NET_PREFIX.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='$NET_PREFIX.100' end='$NET_PREFIX.254'/>
    </dhcp>
  </ip>
</network>
EOF
}

ensure_network() {
  if ! virsh net-info "$NET_NAME" >/dev/null 2>&1; then
    say "network: defining $NET_NAME ($NET_PREFIX.0/24 on $NET_BRIDGE, isolated)"
    local tmp
    tmp=$(mktemp)
    net_xml >"$tmp"
    virsh net-define "$tmp" >/dev/null
    rm -f "$tmp"
  fi
  if virsh net-dumpxml "$NET_NAME" | grep -q '<forward'; then
    die "network $NET_NAME exists but has a <forward> element; run '$PROG down' first"
  fi
  if [[ $(virsh net-info "$NET_NAME" | awk '/^Active:/ {print $2}') != yes ]]; then
    say "network: starting $NET_NAME"
    virsh net-start "$NET_NAME" >/dev/null ||
      die "cannot start network $NET_NAME (is $NET_PREFIX.0/24 already in use? set NOVACRON_LAB_NET_PREFIX)"
  else
    note "network $NET_NAME: active"
  fi
}

# A directory pool over the runtime dir, so the console and its capacity view have a real
# storage pool to watch (the disk guest's qcow2 lives in it).
POOL_NAME=novacron-lab
ensure_pool() {
  if ! virsh pool-info "$POOL_NAME" >/dev/null 2>&1; then
    say "pool: defining $POOL_NAME (dir $IMG_DIR)"
    virsh pool-define-as "$POOL_NAME" dir --target "$IMG_DIR" >/dev/null
  fi
  if [[ $(virsh pool-info "$POOL_NAME" | awk '/^State:/ {print $2}') != running ]]; then
    virsh pool-start "$POOL_NAME" >/dev/null || die "cannot start storage pool $POOL_NAME on $IMG_DIR"
  else
    note "pool $POOL_NAME: running"
  fi
}

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e "s/'/\&apos;/g" <<<"$1"; }

domain_xml() {
  local name=$1 role=$2 disk_xml=""
  if [[ $role == disk ]]; then
    disk_xml="
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$IMG_DIR/$name-data.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>"
  fi
  cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <title>novacron lab guest ($role)</title>
  <description>Created by assets/lab/lab.sh; role=$role. Safe to destroy.</description>
  <metadata>
    <nclab:lab xmlns:nclab='$META_URI'><nclab:role>$role</nclab:role></nclab:lab>
  </metadata>
  <memory unit='MiB'>$MEM_MIB</memory>
  <currentMemory unit='MiB'>$MEM_MIB</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$IMG_DIR/vmlinuz</kernel>
    <initrd>$IMG_DIR/initrd.img</initrd>
    <cmdline>console=ttyS0 loglevel=4 panic=-1 nc.role=$role nc.name=$name</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>$disk_xml
    <interface type='network'>
      <source network='$NET_NAME'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='pty'>
      <log file='$IMG_DIR/logs/$name.console.log' append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <controller type='usb' model='none'/>
    <memballoon model='virtio'>
      <stats period='5'/>
    </memballoon>
  </devices>
</domain>
EOF
}

valid_role() { [[ " $ROLES " == *" $1 "* ]]; }

dom_exists() { virsh dominfo "$1" >/dev/null 2>&1; }
dom_state() { virsh domstate "$1" 2>/dev/null | head -1; }
dom_role() {
  virsh metadata "$1" "$META_URI" 2>/dev/null | sed -n 's/.*<nclab:role>\(.*\)<\/nclab:role>.*/\1/p; s/.*<role>\(.*\)<\/role>.*/\1/p' | head -1
}
is_lab_dom() { [[ $1 == nclab-* ]] || virsh metadata "$1" "$META_URI" >/dev/null 2>&1; }

lab_domains() {
  local d
  while IFS= read -r d; do
    [[ -n $d ]] || continue
    if is_lab_dom "$d"; then printf '%s\n' "$d"; fi
  done < <(virsh list --all --name)
}

define_domain() {
  local name=$1 role=$2
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "bad domain name '$name'"
  valid_role "$role" || die "unknown role '$role' (one of: $ROLES)"
  if dom_exists "$name"; then
    note "$name: already defined ($(dom_state "$name"))"
    return
  fi
  if [[ $role == disk && ! -f $IMG_DIR/$name-data.qcow2 ]]; then
    qemu-img create -q -f qcow2 "$IMG_DIR/$name-data.qcow2" "${DATA_DISK_MIB}M"
  fi
  local tmp
  tmp=$(mktemp)
  domain_xml "$name" "$role" >"$tmp"
  virsh define "$tmp" >/dev/null
  rm -f "$tmp"
  note "$name: defined (role $role)"
}

# Destroy (if active) and undefine lab guests and remove their files. Destroys run a few
# at a time: each waits for QEMU to exit.
remove_domains() {
  local name st n=0
  for name in "$@"; do
    st=$(dom_state "$name" || true)
    if [[ $st == running || $st == paused || $st == "in shutdown" || $st == pmsuspended ]]; then
      virsh destroy "$name" >/dev/null 2>&1 &
      if ((++n % START_PARALLEL == 0)); then wait; fi
    fi
  done
  wait
  for name in "$@"; do
    virsh undefine "$name" >/dev/null
    rm -f "$IMG_DIR/$name-data.qcow2" "$(console_log "$name")"
    note "$name: removed"
  done
}

# The lab needs: packages + daemons, the build, runtime files, the network.
ensure_lab_base() {
  if [[ -n $(missing_packages) ]] || ! libvirt_answers; then
    cmd_install
  fi
  fix_kvm_group
  cmd_build
  stage_runtime
  ensure_network
  ensure_pool
}

wait_running() {
  local name i
  for name in "$@"; do
    for ((i = 0; i < 120; i++)); do
      [[ $(dom_state "$name") == running ]] && break
      sleep 0.5
    done
    [[ $(dom_state "$name") == running ]] || die "$name did not reach 'running' (state: $(dom_state "$name"))"
  done
}

console_log() { printf '%s/logs/%s.console.log' "$IMG_DIR" "$1"; }
log_size() { stat -c %s "$(console_log "$1")" 2>/dev/null || echo 0; }

# A guest has booted when its init has logged its first DHCP lease on the serial console
# since we started it (the console log is appended to across boots, hence the offset).
declare -A LOG_OFFSET=()
has_booted() {
  local name=$1 log off
  log=$(console_log "$name")
  off=${LOG_OFFSET[$name]:-0}
  [[ -f $log ]] || return 1
  (($(stat -c %s "$log") >= off)) || off=0 # rotated by virtlogd
  tail -c +"$((off + 1))" "$log" | grep -q 'nclab: lease '
}

wait_booted() {
  local start=$SECONDS pending=("$@") still name
  say "waiting for ${#pending[@]} guest(s) to boot and take a DHCP lease (up to ${BOOT_TIMEOUT}s)"
  while ((${#pending[@]} > 0)); do
    still=()
    for name in "${pending[@]}"; do
      has_booted "$name" || still+=("$name")
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} == 0)) && break
    if ((SECONDS - start >= BOOT_TIMEOUT)); then
      warn "not booted after ${BOOT_TIMEOUT}s: ${pending[*]} (see $IMG_DIR/logs/<name>.console.log)"
      return 1
    fi
    sleep 1
  done
  note "all booted in $((SECONDS - start))s"
}

# Start guests a few at a time: each 'virsh start' spends seconds waiting on QEMU startup,
# so starting 20 one after another takes a minute on a loaded 2-core host.
start_domains() {
  local -a pids=() names=()
  local name i failed=0 errdir
  errdir=$(mktemp -d)
  for name in "$@"; do
    LOG_OFFSET[$name]=$(log_size "$name")
    virsh start "$name" >/dev/null 2>"$errdir/$name" &
    pids+=($!)
    names+=("$name")
    if ((${#pids[@]} >= START_PARALLEL)); then
      wait "${pids[0]}" || { warn "start ${names[0]} failed: $(cat "$errdir/${names[0]}")"; failed=1; }
      pids=("${pids[@]:1}")
      names=("${names[@]:1}")
    fi
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { warn "start ${names[$i]} failed: $(cat "$errdir/${names[$i]}")"; failed=1; }
  done
  rm -rf "$errdir"
  ((failed == 0)) || die "some guests failed to start"
}

cmd_up() {
  need_root
  local extra="" wait=1
  while (($#)); do
    case $1 in
      --extra) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--extra needs a number"; extra=$2; shift 2 ;;
      --extra=*) extra=${1#--extra=}; [[ $extra =~ ^[0-9]+$ ]] || die "--extra needs a number"; shift ;;
      --no-wait) wait=0; shift ;;
      --busy-quota) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--busy-quota needs microseconds"; NOVACRON_LAB_BUSY_QUOTA_US=$2; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) die "up: unknown argument '$1'" ;;
    esac
  done
  local t0=$SECONDS
  take_lock
  ensure_lab_base

  local -a want=() roles=()
  local r i name
  for r in "${BASE_ROLES[@]}"; do want+=("nclab-$r"); roles+=("$r"); done
  if [[ -n $extra ]]; then
    local width=2
    ((extra >= 100)) && width=${#extra}
    for ((i = 1; i <= extra; i++)); do
      want+=("$(printf 'nclab-extra-%0*d' "$width" "$i")"); roles+=(idle)
    done
    # declarative: remove extras beyond N
    local d keep
    local -a drop=()
    while IFS= read -r d; do
      [[ $d == nclab-extra-* ]] || continue
      keep=0
      for name in "${want[@]}"; do [[ $name == "$d" ]] && keep=1; done
      if ((keep == 0)); then drop+=("$d"); fi
    done < <(virsh list --all --name)
    if ((${#drop[@]})); then
      say "removing extras beyond $extra"
      remove_domains "${drop[@]}"
    fi
  fi

  say "domains: ${#want[@]} wanted"
  for i in "${!want[@]}"; do
    define_domain "${want[$i]}" "${roles[$i]}"
  done
  local -a started=()
  local st
  for name in "${want[@]}"; do
    st=$(dom_state "$name")
    case $st in
      running) ;;
      paused) say "$name: paused, resuming"; virsh resume "$name" >/dev/null ;;
      *) started+=("$name") ;;
    esac
  done
  if ((${#started[@]})); then
    say "starting: ${started[*]}"
    start_domains "${started[@]}"
  fi
  wait_running "${want[@]}"
  if [[ -n ${NOVACRON_LAB_BUSY_QUOTA_US:-} ]]; then
    say "nclab-busy: vcpu_quota=${NOVACRON_LAB_BUSY_QUOTA_US} (period 100000)"
    virsh schedinfo nclab-busy --live --set vcpu_period=100000 >/dev/null
    virsh schedinfo nclab-busy --live --set "vcpu_quota=${NOVACRON_LAB_BUSY_QUOTA_US}" >/dev/null
  fi
  local others
  others=$(virsh list --all --name | grep '^nclab-extra-' | grep -vxF -f <(printf '%s\n' "${want[@]}") || true)
  [[ -z $others ]] || note "left alone (not asked for): ${others//$'\n'/ }"
  local rc=0
  if ((wait && ${#started[@]} > 0)); then
    wait_booted "${started[@]}" || rc=1
  fi
  say "lab up: ${#want[@]} guests running in $((SECONDS - t0))s; '$PROG status' for details"
  return $rc
}

cmd_define() {
  need_root
  (($# >= 1 && $# <= 2)) || die "usage: $PROG define NAME [ROLE]"
  local name=$1 role=${2:-idle}
  valid_role "$role" || die "unknown role '$role' (one of: $ROLES)"
  take_lock
  ensure_lab_base
  define_domain "$name" "$role"
}

cmd_undefine() {
  need_root
  (($# == 1)) || die "usage: $PROG undefine NAME"
  local name=$1
  take_lock
  if ! dom_exists "$name"; then
    note "$name: not defined, nothing to do"
    return
  fi
  is_lab_dom "$name" || die "$name is not a lab guest (no nclab- prefix, no lab metadata); refusing"
  remove_domains "$name"
}

cmd_down() {
  need_root
  take_lock
  libvirt_answers || die "libvirtd does not answer on $URI (run '$PROG install')"
  local -a doms=()
  mapfile -t doms < <(lab_domains)
  say "removing ${#doms[@]} lab guest(s)"
  ((${#doms[@]} == 0)) || remove_domains "${doms[@]}"
  if virsh net-info "$NET_NAME" >/dev/null 2>&1; then
    say "removing network $NET_NAME"
    virsh net-destroy "$NET_NAME" >/dev/null 2>&1 || true
    virsh net-undefine "$NET_NAME" >/dev/null
  fi
  if virsh pool-info "$POOL_NAME" >/dev/null 2>&1; then
    say "removing storage pool $POOL_NAME"
    virsh pool-destroy "$POOL_NAME" >/dev/null 2>&1 || true
    virsh pool-undefine "$POOL_NAME" >/dev/null
  fi
  if [[ -d $IMG_DIR ]]; then
    rm -rf "$IMG_DIR"
    note "removed $IMG_DIR"
  fi
  say "lab down"
}

cmd_status() {
  libvirt_answers || die "libvirtd does not answer on $URI (run '$PROG install')"
  local -a doms=()
  mapfile -t doms < <(lab_domains)
  say "lab guests (${#doms[@]})"
  if ((${#doms[@]})); then
    printf '    %-22s %-12s %-6s %s\n' NAME STATE ROLE ADDRESS
    local d addr
    for d in "${doms[@]}"; do
      addr=$(virsh domifaddr "$d" --source lease 2>/dev/null | awk '/ipv4/ {print $4; exit}')
      printf '    %-22s %-12s %-6s %s\n' "$d" "$(dom_state "$d")" "$(dom_role "$d")" "${addr:--}"
    done
  fi
  say "network $NET_NAME"
  if virsh net-info "$NET_NAME" >/dev/null 2>&1; then
    virsh net-info "$NET_NAME" | sed 's/^/    /'
    say "DHCP leases"
    command virsh -c "$URI" net-dhcp-leases "$NET_NAME" | sed 's/^/    /'
  else
    note "not defined"
  fi
  say "files: build $BUILD_DIR, runtime $IMG_DIR"
}

main() {
  local cmd=${1:-help}
  (($#)) && shift
  case $cmd in
    install) cmd_install "$@" ;;
    build) take_lock; cmd_build "$@" ;;
    up) cmd_up "$@" ;;
    define) cmd_define "$@" ;;
    undefine) cmd_undefine "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
