#!/bin/sh
# PID 1 of one test host (run by `unshare --pid --mount --uts --fork`): "boots" the host
# by mounting its overlay root, a fresh /run and a minimal /dev, then runs sshd until the
# namespace ends. Every mount lives only in this mount namespace, so it vanishes with the
# host (also when the harness is killed). Reboot: reboot(2) inside the namespace kills us
# with SIGHUP; the harness starts us again on the same overlay, like firmware would.
# Args: NAME PORT LOWER UPPER WORK MERGED
set -eu
name=$1 port=$2 lower=$3 upper=$4 work=$5 root=$6

hostname "$name"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc proc "$root/proc"
# /run is tmpfs on Debian: reboot-required flags and sshd's pid file go with a reboot.
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
mkdir -p "$root/run/sshd" "$root/run/lock"
# Only harmless device nodes: a test host must not reach the machine's disks.
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r n major minor <<NODE
$node
NODE
  mknod -m 666 "$root/dev/$n" c "$major" "$minor"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"

chroot "$root" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 &
sshd=$!
# PID 1 stays: it is the host's "kernel"; the host ends when sshd does or on reboot.
wait "$sshd"
