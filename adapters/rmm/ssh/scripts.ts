import { shellQuote } from './connection.js';

/**
 * The shell scripts the adapter runs on hosts (POSIX sh, coreutils, util-linux: present on
 * every Debian/Ubuntu/RHEL server). Values are validated or quoted before they are put in.
 * Output is split into sections by lines starting with `@@name` (see `sections`).
 */

export const PRELUDE = [
  'export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  // boot_id alone is shared by containers and namespaces; PID 1's start time tells boots apart.
  `bootmark() { printf '%s/%s\\n' "$(cat /proc/sys/kernel/random/boot_id)" "$(sed 's/.*) //' /proc/1/stat | cut -d' ' -f20)"; }`,
  // When this boot began (epoch seconds): PID 1's start time after the kernel's boot time.
  `bootepoch() { echo $(( $(awk '/^btime/{print $2}' /proc/stat) + $(sed 's/.*) //' /proc/1/stat | cut -d' ' -f20) / $(getconf CLK_TCK) )); }`,
  // reboot-required.pkgs written before this boot is stale (a /run that survived a reboot).
  `rebootpkgs() { f=/var/run/reboot-required.pkgs; [ -f "$f" ] && [ "$(stat -c %Y "$f")" -ge "$(bootepoch)" ] && cat "$f"; true; }`,
].join('\n');

/** Splits `@@name rest` sections; `rest` of the marker line is kept as the section's head. */
export function sections(text: string): Map<string, { head: string; body: string }> {
  const out = new Map<string, { head: string; body: string }>();
  let cur: { head: string; lines: string[] } | undefined;
  const flush = (name: string | undefined) => {
    if (name !== undefined && cur) out.set(name, { head: cur.head, body: cur.lines.join('\n') });
  };
  let name: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^@@([\w.]+) ?(.*)$/.exec(line);
    if (m?.[1] !== undefined) {
      flush(name);
      name = m[1];
      cur = { head: m[2] ?? '', lines: [] };
    } else cur?.lines.push(line);
  }
  flush(name);
  return out;
}

export const DETECT = `${PRELUDE}
[ -r /etc/os-release ] && . /etc/os-release
echo "@@id \${ID:-}"
echo "@@like \${ID_LIKE:-}"
echo "@@pretty \${PRETTY_NAME:-}"
echo "@@boot $(bootmark)"
`;

/** Same five columns as DPKG_FORMAT, so one parser reads both. */
const RPM_FORMAT = `'%{NAME}.%{ARCH}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t\\t\\tii \\n'`;
const DPKG_FORMAT = `'\${binary:Package}\\t\${Version}\\t\${source:Package}\\t\${source:Version}\\t\${db:Status-Abbrev}\\n'`;

export function aptUpdate(lockSeconds: number): string {
  return `${PRELUDE}\napt-get -q -o DPkg::Lock::Timeout=${lockSeconds} update 2>&1\n`;
}

export const APT_SCAN = `${PRELUDE}
echo "@@held"; apt-mark showhold
echo "@@sim"; apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>&1; echo "@@simrc $?"
echo "@@dpkg"; dpkg-query -W -f ${DPKG_FORMAT}
`;

export const aptPolicy = (names: string[]): string =>
  `${PRELUDE}\napt-cache policy ${names.map(shellQuote).join(' ')} 2>/dev/null; true\n`;

export const aptMadison = (names: string[]): string =>
  `${PRELUDE}\napt-cache madison ${names.map(shellQuote).join(' ')} 2>/dev/null; true\n`;

export const DPKG_LOG = `${PRELUDE}\ncat /var/log/dpkg.log.1 /var/log/dpkg.log 2>/dev/null; true\n`;

export const DEB_INSTALLED = `${PRELUDE}
echo "@@arch $(dpkg --print-architecture)"
echo "@@dpkg"; dpkg-query -W -f ${DPKG_FORMAT}
echo "@@reboot"; rebootpkgs
`;

export const dnfScan = `${PRELUDE}
echo "@@check"; dnf -q check-update 2>&1; echo "@@checkrc $?"
echo "@@advisories"; dnf -q updateinfo list --updates 2>/dev/null; true
`;

export const RPM_INSTALLED = `${PRELUDE}
echo "@@rpm"; rpm -qa --qf ${RPM_FORMAT}
echo "@@reboot"; needs-restarting -r 2>/dev/null; true
`;

/** Where job records live on a host, named by the SHA-256 of the idempotency key. */
export const jobDir = (stateDir: string, keyHash: string): string => `${stateDir}/jobs/${keyHash}`;

/**
 * Creates the job record atomically: the record is written into a private temp folder that
 * is then renamed to the job's folder. rename(2) onto an existing non-empty folder fails,
 * so of two workers racing with one key exactly one record wins and both read it back.
 */
export function submitJob(
  stateDir: string,
  keyHash: string,
  record: string,
  runner: string,
): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `${PRELUDE}
S=${shellQuote(stateDir)}; J="$S/jobs/${keyHash}"
mkdir -p "$S/jobs" "$S/tmp" || exit 1
if [ ! -d "$J" ]; then
  T=$(mktemp -d "$S/tmp/job.XXXXXX") || exit 1
  printf '%s' ${shellQuote(b64(record))} | base64 -d > "$T/record.json"
  printf '%s' ${shellQuote(b64(runner))} | base64 -d > "$T/run.sh"
  bootmark > "$T/boot.before"
  mv -T "$T" "$J" 2>/dev/null || rm -rf "$T"
fi
echo "@@record"; cat "$J/record.json"; echo
`;
}

/** Starts the runner once: the `launch` folder is the lock, so a replay never starts it twice. */
export function launchJob(stateDir: string, keyHash: string): string {
  return `${PRELUDE}
J=${shellQuote(jobDir(stateDir, keyHash))}
if mkdir "$J/launch" 2>/dev/null; then
  cd "$J" && setsid nohup sh ./run.sh >/dev/null 2>&1 </dev/null &
  echo "@@launched"
fi
`;
}

export function readJobScript(stateDir: string, keyHash: string, family: 'deb' | 'rpm'): string {
  const query = family === 'deb' ? `dpkg-query -W -f ${DPKG_FORMAT}` : `rpm -qa --qf ${RPM_FORMAT}`;
  return `${PRELUDE}
J=${shellQuote(jobDir(stateDir, keyHash))}
[ -d "$J" ] || { echo "@@missing"; exit 0; }
echo "@@record"; cat "$J/record.json"; echo
# Order matters: the runner writes pid, then started, then (at its end) finished. Reading
# started, then alive, then finished means a runner seen dead without "finished" really died.
# A zombie (exited, not yet reaped by an init that only waits for sshd) is not alive.
echo "@@started"; cat "$J/started" 2>/dev/null
echo "@@alive"; set -- $(cat "$J/pid" 2>/dev/null); [ -n "\${1:-}" ] && [ "\${2:-}" = "$(bootmark)" ] && [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^Z' && echo yes
for f in finished exit held boot.before; do echo "@@$f"; cat "$J/$f" 2>/dev/null; done
echo "@@launched"; [ -d "$J/launch" ] && echo yes
echo "@@after"; cat "$J/after.tsv" 2>/dev/null
echo "@@rebootpkgs"; cat "$J/reboot.pkgs" "$J/reboot.txt" 2>/dev/null
echo "@@now"; ${query} 2>/dev/null
echo "@@nowreboot"; ${family === 'deb' ? 'rebootpkgs' : 'needs-restarting -r 2>/dev/null; true'}
echo "@@tail"; tail -n 15 "$J/output.log" 2>/dev/null
echo "@@boot"; bootmark
`;
}

/** The record of a key's job, if there is one (empty output otherwise). */
export const peekRecord = (stateDir: string, keyHash: string): string => `${PRELUDE}
cat ${shellQuote(jobDir(stateDir, keyHash))}/record.json 2>/dev/null; true
`;

/** Every deploy/uninstall record on the host, for a reboot job to know what it completes. */

export const LIST_RECORDS = (stateDir: string): string => `${PRELUDE}
for r in ${shellQuote(stateDir)}/jobs/*/record.json; do [ -f "$r" ] && { echo "@@rec"; cat "$r"; echo; }; done; true
`;

const RUNNER_HEAD = `${PRELUDE}
J=$(pwd)
echo "$$ $(bootmark)" > pid
date -u +%FT%TZ > started
rc=0
`;

const RUNNER_TAIL = `echo "$rc" > exit.tmp && mv exit.tmp exit
date -u +%FT%TZ > finished
`;

/** Package specs are checked by the caller against a strict pattern; see SPEC in jobs.ts. */
export function debRunner(
  kind: 'deploy' | 'uninstall',
  specs: string[],
  lockSeconds: number,
): string {
  const names = specs.map((s) => s.split('=')[0] ?? s);
  const apt =
    kind === 'deploy'
      ? `apt-get install -y --only-upgrade -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=${lockSeconds} "$@"`
      : `apt-get install -y --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=${lockSeconds} "$@"`;
  return `${RUNNER_HEAD}export DEBIAN_FRONTEND=noninteractive
{
  HELD=$(apt-mark showhold)
  set --
  for spec in ${specs.join(' ')}; do
    p=\${spec%%=*}
    if printf '%s\\n' "$HELD" | grep -qx -- "$p"; then echo "$p" >> held; echo "$p is held (apt-mark hold): not upgraded"; else set -- "$@" "$spec"; fi
  done
  # An interrupted dpkg run blocks apt until it is finished; dpkg itself does not wait for locks.
  if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
    w=0; until dpkg --force-confdef --force-confold --configure -a; do w=$((w+5)); [ $w -ge ${lockSeconds} ] && break; sleep 5; done
  fi
  if [ $# -gt 0 ]; then ${apt}; rc=$?; fi
} > output.log 2>&1
dpkg-query -W -f ${DPKG_FORMAT} ${names.join(' ')} > after.tsv 2>/dev/null
rebootpkgs > reboot.pkgs
${RUNNER_TAIL}`;
}

export function rpmRunner(kind: 'deploy' | 'uninstall', nevras: string[]): string {
  const verb = kind === 'deploy' ? 'upgrade' : 'downgrade';
  return `${RUNNER_HEAD}{
  # dnf 4 waits for another dnf's lock by itself (exit_on_lock defaults to False).
  dnf -y ${verb} ${nevras.join(' ')}; rc=$?
} > output.log 2>&1
rpm -qa --qf ${RPM_FORMAT} > after.tsv 2>/dev/null
needs-restarting -r > reboot.txt 2>&1; true
${RUNNER_TAIL}`;
}

/** systemd when it runs the host, else the reboot binary, else the reboot(2) syscall itself. */
export const REBOOT_RUNNER = `${RUNNER_HEAD}sleep 2
{
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl reboot
  elif command -v reboot >/dev/null 2>&1; then reboot
  else
    case $(uname -m) in x86_64) n=169 ;; aarch64) n=142 ;; *) n=0 ;; esac
    [ "$n" -gt 0 ] && perl -e "syscall($n, 0xfee1dead, 672274793, 0x01234567) == 0 or die qq(reboot: \\$!\\n)"
  fi
} > output.log 2>&1
rc=$?
${RUNNER_TAIL}`;
