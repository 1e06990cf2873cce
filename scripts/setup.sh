#!/usr/bin/env bash
# Installs and starts what the lab and its tests need, or says exactly what to install.
#
#   bash scripts/setup.sh                 # as root (or with sudo) on Debian/Ubuntu: apt-get install what is
#                                         # missing, start dockerd; says so when it is neither root nor has sudo
#   bash scripts/setup.sh --check         # only check; exit 1 and list what is missing (the lab's preflight)
#   bash scripts/setup.sh --no-docker     # skip docker.io / docker-compose and the engine (process runtime only)
#
# Needs: prometheus (with promtool), prometheus-pushgateway, prometheus-node-exporter, chromium, docker.io,
# docker-compose, and a running Docker engine. When this script starts dockerd itself (no systemd),
# it writes the pid to $PUSHPULL_DOCKERD_PIDFILE (default /run/pushpull-dockerd.pid) so whoever
# called it (.ci/run) can stop it by pid.
set -uo pipefail

CHECK_ONLY=0
WITH_DOCKER=1
for a in "$@"; do
  case "$a" in
    --check) CHECK_ONLY=1 ;;
    --no-docker) WITH_DOCKER=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup: unknown flag '$a' (known: --check --no-docker)" >&2; exit 2 ;;
  esac
done
PIDFILE=${PUSHPULL_DOCKERD_PIDFILE:-/run/pushpull-dockerd.pid}

# Linux only: say so at once instead of listing packages a Mac or Windows cannot make work.
if [ "$(uname -s)" != Linux ]; then
  echo "setup: $(uname -s) is not supported: the lab runs on Linux only (its process runtime reads /proc," >&2
  echo "       the kernel's per-process CPU and UDP counters; it is tested on Debian 12). Use a Linux machine or VM." >&2
  exit 1
fi

say() { echo "setup: $*"; }

# How to run something as root here: as is when we are root, with sudo when there is one, else `su -c`.
have_sudo() { command -v sudo >/dev/null 2>&1; }
as_root() {
  if [ "$(id -u)" = 0 ]; then echo "$*"; elif have_sudo; then echo "sudo $*"; else echo "su -c '$*'"; fi
}
# Not root: say which of root/sudo is missing and how to go on.
not_root() {
  if have_sudo; then
    say "$1 needs root: run me as root (or with sudo): sudo bash scripts/setup.sh"
  else
    say "$1 needs root, and I am neither root nor is sudo installed: become root (su -) and run"
    say "  bash scripts/setup.sh   — or ask an administrator to run it, or to install the packages below"
  fi
}

# package -> a program it provides (what the lab actually runs)
declare -A PROGRAM=(
  [prometheus]=prometheus
  [prometheus-pushgateway]=prometheus-pushgateway
  [prometheus-node-exporter]=prometheus-node-exporter
  [docker.io]=dockerd
  [docker-compose]=docker-compose
  [chromium]=chromium
)
# chromium: the reports' browser test (lab/test/report.browser.int.test.ts) drives it with playwright-core.
PACKAGES=(prometheus prometheus-pushgateway prometheus-node-exporter chromium)
[ "$WITH_DOCKER" = 1 ] && PACKAGES+=(docker.io docker-compose)

missing=()
for p in "${PACKAGES[@]}"; do
  command -v "${PROGRAM[$p]}" >/dev/null 2>&1 || missing+=("$p")
done
# promtool ships with Debian's prometheus package; CI checks the config with it.
command -v promtool >/dev/null 2>&1 || { [[ " ${missing[*]} " == *" prometheus "* ]] || missing+=(prometheus); }

engine_up() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

explain() {
  echo "setup: missing: ${missing[*]:-nothing}"
  cat <<TXT
setup: install them with your package manager, e.g.
         Debian/Ubuntu:  $(as_root apt-get install -y "${missing[*]}")
         Fedora/RHEL:    Prometheus, Pushgateway and node_exporter release tarballs from prometheus.io,
                         plus docker (moby-engine) and docker-compose
       Or run this script as root (or with sudo) on Debian/Ubuntu: $(as_root bash scripts/setup.sh)
setup: macOS and Windows are not supported: the process runtime reads Linux's /proc (per-process CPU,
       the kernel's UDP counters) and the lab is tested only on Linux (Debian 12). Use a Linux machine or
       VM (WSL2 on Windows is Linux, but untested).
TXT
}

if [ "$CHECK_ONLY" = 1 ]; then
  status=0
  if [ ${#missing[@]} -gt 0 ]; then explain; status=1; fi
  if [ "$WITH_DOCKER" = 1 ] && ! engine_up; then
    say "no Docker engine answers \`docker version\` (start it: $(as_root bash scripts/setup.sh), or $(as_root systemctl start docker))"
    status=1
  fi
  [ $status = 0 ] && say "all requirements present"
  exit $status
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    [ "$(id -u)" != 0 ] && not_root "installing ${missing[*]}"
    explain
    exit 1
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Bounded: a mirror that does not answer must not hang CI for 90 minutes.
  timeout 600 apt-get update -qq || { say "apt-get update failed"; exit 1; }
  # policy-rc.d 101: do not auto-start the packages' own services (a system Prometheus on :9090 or
  # node-exporter on :9100 would collide with the stack's published ports). The lab starts what it needs.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1; fi
  timeout 1200 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/pushpull-setup-apt.log 2>&1
  rc=$?
  [ $created_policy = 1 ] && rm -f "$policy"
  if [ $rc != 0 ]; then tail -20 /tmp/pushpull-setup-apt.log >&2; say "apt-get install failed (rc=$rc)"; exit 1; fi
  say "installed: ${missing[*]}"
fi

if [ "$WITH_DOCKER" = 1 ] && ! engine_up; then
  if [ "$(id -u)" != 0 ]; then
    not_root "starting the Docker engine"
    exit 1
  fi
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    say "starting docker with systemctl"
    systemctl start docker || { say "systemctl start docker failed"; exit 1; }
  else
    say "starting dockerd (no systemd); pid file $PIDFILE, log /tmp/pushpull-dockerd.log"
    nohup dockerd >/tmp/pushpull-dockerd.log 2>&1 &
    echo $! >"$PIDFILE"
  fi
  for _ in $(seq 1 60); do engine_up && break; sleep 1; done
  if ! engine_up; then
    tail -20 /tmp/pushpull-dockerd.log >&2 2>/dev/null
    say "dockerd did not answer within 60 s"
    exit 1
  fi
  say "docker engine up ($(docker version --format '{{.Server.Version}}'))"
fi
say "ready"
