#!/bin/sh
# Builds (once) the Debian 12 root that every test host's overlay sits on, and prints its
# path on the last line of stdout. Idempotent: the root lives outside the clone under
# $PATCHOPS_HOSTS_CACHE (default /var/cache/patchops-test-hosts) in a directory named after
# a hash of this script, so editing the script builds a fresh root. Builds into a temporary
# directory and renames it, so a killed build never leaves a half root behind.
# Needs root and Debian's package registry (only here: hosts never download at test time).
set -eu

# Inside hosts: sshd, ps, ip; apt-utils as on a standard install (else debconf warns on
# every install); perl-base (reboot syscall) comes with minbase; python3-apt lets the
# Ansible benchmark (bench/ssh) use its apt module on the same hosts.
INCLUDE=openssh-server,iproute2,procps,apt-utils,python3-apt
SUITE=bookworm
# The Debian mirror this machine's own apt uses (its first "debian" archive), so the
# hosts come from wherever the machine is allowed to fetch packages.
machine_mirror() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
  } | grep -vE -- '-security/?$' | head -n 1
}
MIRROR=${PATCHOPS_DEBIAN_MIRROR:-$(machine_mirror)}
if [ -z "$MIRROR" ]; then
  echo "build-root.sh: no Debian mirror in /etc/apt; set PATCHOPS_DEBIAN_MIRROR" >&2
  exit 1
fi
CACHE=${PATCHOPS_HOSTS_CACHE:-/var/cache/patchops-test-hosts}

stamp=$(sha256sum "$0" | cut -c1-12)
root="$CACHE/$SUITE-$stamp"
mkdir -p "$CACHE"
# One builder at a time; a second caller waits, then finds the root ready.
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$root/.patchops-root" ]; then
  echo "$root"
  exit 0
fi

started=$(date +%s)
if ! command -v debootstrap >/dev/null; then
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2
fi
tmp="$CACHE/.build-$SUITE-$stamp.$$"
rm -rf "$CACHE"/.build-* # leftovers of killed builds (we hold the lock)
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$MIRROR" >&2

# sshd: root by key only, no PAM (no session modules, no lastlog surprises), no DNS
# lookups; the port and listen address come from the command line at start.
cat >"$tmp/etc/ssh/sshd_config.d/patchops-test.conf" <<'CONF'
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
HostKey /etc/ssh/ssh_host_ed25519_key
CONF
# Each host gets host keys of its own at start; the root must not carry shared ones.
rm -f "$tmp"/etc/ssh/ssh_host_*
# With UsePAM no, sshd refuses a locked ("!") account even for key logins; "*" = no password.
sed -i 's/^root:[^:]*:/root:*:/' "$tmp/etc/shadow"
mkdir -p "$tmp/root/.ssh" && chmod 700 "$tmp/root/.ssh"
# Hosts use only the harness's loopback repository.
: >"$tmp/etc/apt/sources.list"
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/archives/*.deb
# Don't let debconf ask, and keep apt quiet about missing recommends.
printf 'APT::Install-Recommends "false";\n' >"$tmp/etc/apt/apt.conf.d/90patchops-test"
date -u +%FT%TZ >"$tmp/.patchops-root"
mv "$tmp" "$root"
echo "built $root in $(($(date +%s) - started)) s" >&2
echo "$root"
