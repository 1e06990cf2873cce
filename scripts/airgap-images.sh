#!/usr/bin/env bash
# Builds every image docker-compose.yml needs (but Grafana) without a registry, from binaries on this host,
# and tags each with exactly the name compose uses, so `docker compose up` needs no pull.
#
#   bash scripts/airgap-images.sh                 # build what is missing
#   bash scripts/airgap-images.sh --force         # rebuild all
#   bash scripts/airgap-images.sh --no-pull       # never touch a registry
#   bash scripts/airgap-images.sh --print-images  # the image each compose service uses, and stop
#
# Names: the same PUSHPULL_<SERVICE>_IMAGE variables and defaults as docker-compose.yml (read from it). The
# air-gapped builds are tagged pushpull-airgap/<name>:<version>-debian, never an upstream name; an image
# variable pointed elsewhere (e.g. prom/prometheus:v2.42.0) is pulled when absent, unless --no-pull.
# Bases come from Debian packages (see scripts/setup.sh): /usr/bin/node, /usr/bin/prometheus,
# /usr/bin/prometheus-pushgateway, /usr/bin/prometheus-node-exporter, each with the shared libraries `ldd`
# names, packed into a rootfs tarball and `docker import`ed (no FROM, no pull). The service images
# (pushpull/collector, pushpull/producer) are then built FROM the node base (PUSHPULL_NODE_IMAGE, default
# pushpull-airgap/node:<major>-debian) with the classic builder.
set -euo pipefail
cd "$(dirname "$0")/.."

FORCE=0
PULL=1
PRINT=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --no-pull) PULL=0 ;;
    --print-images) PRINT=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "airgap-images: unknown flag '$a' (known: --force --no-pull --print-images)" >&2; exit 2 ;;
  esac
done

say() { echo "airgap-images: $*"; }
die() { echo "airgap-images: ERROR: $*" >&2; exit 1; }

# compose_default VAR: the default of `${VAR:-default}` in docker-compose.yml (one source for the names).
compose_default() {
  local d
  d=$(sed -n "s/^[[:space:]]*image:[[:space:]]*\"\{0,1\}\\\${$1:-\([^}]*\)}.*/\1/p" docker-compose.yml | head -n 1)
  [ -n "$d" ] || die "docker-compose.yml has no image: \${$1:-...}"
  echo "$d"
}
# image_for VAR: the variable's value when set and not empty (as compose's :- does), else the default.
image_for() { local v=${!1:-}; if [ -n "$v" ]; then echo "$v"; else compose_default "$1"; fi; }

PROM_IMAGE=$(image_for PUSHPULL_PROMETHEUS_IMAGE)
PGW_IMAGE=$(image_for PUSHPULL_PUSHGATEWAY_IMAGE)
NE_IMAGE=$(image_for PUSHPULL_NODE_EXPORTER_IMAGE)
COLLECTOR_IMAGE=$(image_for PUSHPULL_COLLECTOR_IMAGE)
PRODUCER_IMAGE=$(image_for PUSHPULL_PRODUCER_IMAGE)
# The base of our two service images: the host's node, major version in the tag.
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 20)
NODE_IMAGE=${PUSHPULL_NODE_IMAGE:-pushpull-airgap/node:${NODE_MAJOR}-debian}

if [ "$PRINT" = 1 ]; then
  printf '%s=%s\n' prometheus "$PROM_IMAGE" pushgateway "$PGW_IMAGE" collector "$COLLECTOR_IMAGE" \
    node-exporter "$NE_IMAGE" producer "$PRODUCER_IMAGE" node-base "$NODE_IMAGE"
  exit 0
fi

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || die "no Docker engine answers (start one: sudo bash scripts/setup.sh, or sudo dockerd &)"

have() { docker image inspect "$1" >/dev/null 2>&1; }

# A pull fails at once when no registry is reachable; bound it anyway so a black-holed network cannot hang us.
try_pull() {
  [ "$PULL" = 1 ] || return 1
  timeout 60 docker pull -q "$1" >/dev/null 2>&1
}

WORK=$(mktemp -d /tmp/pushpull-airgap.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# copy_with_libs ROOTFS BINARY DEST: the binary plus every shared library ldd names, at the same paths.
copy_with_libs() {
  local root=$1 bin=$2 dest=$3
  [ -x "$bin" ] || die "$bin not found (install it: sudo bash scripts/setup.sh)"
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$bin" "$root$dest"
  ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
    [ -e "$lib" ] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# base_rootfs ROOTFS: the bits every image needs (tmp, name resolution, CA certs when present).
base_rootfs() {
  local root=$1
  mkdir -p "$root"/{tmp,etc,proc,sys,dev}
  chmod 1777 "$root/tmp"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$root/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  fi
}

# same_version BINARY IMAGE: warn when the host binary is not the version the air-gapped tag names.
same_version() {
  local want=${2##*:}
  want=${want%-debian}
  "$1" --version 2>&1 | head -n 1 | grep -q "version ${want}" \
    || say "warning: $2 is built from $1, which is not version $want: $("$1" --version 2>&1 | head -n 1)"
}

# import ROOTFS IMAGE [--change ...]: tar the rootfs and docker import it under IMAGE.
import_rootfs() {
  local root=$1 image=$2
  shift 2
  tar -C "$root" -cf "$WORK/rootfs.tar" .
  docker import "$@" "$WORK/rootfs.tar" "$image" >/dev/null
  rm -f "$WORK/rootfs.tar"
  say "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# need IMAGE: 0 (build it here) only for an air-gapped name; any other name must be present or pullable.
need() {
  local image=$1
  case "$image" in
    pushpull-airgap/*)
      if [ "$FORCE" = 0 ] && have "$image"; then say "$image present"; return 1; fi
      return 0 ;;
  esac
  if have "$image"; then say "$image present (not built here: not a pushpull-airgap/ name)"; return 1; fi
  if try_pull "$image"; then say "$image pulled"; return 1; fi
  die "$image is not present and cannot be pulled$([ "$PULL" = 1 ] || echo ' (--no-pull)'); unset its PUSHPULL_*_IMAGE variable to build the air-gapped image instead"
}

if need "$NODE_IMAGE"; then
  r="$WORK/node"; base_rootfs "$r"
  copy_with_libs "$r" /usr/bin/node /usr/local/bin/node
  import_rootfs "$r" "$NODE_IMAGE" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["node"]' --change 'WORKDIR /app'
fi

if need "$PROM_IMAGE"; then
  r="$WORK/prom"; base_rootfs "$r"
  same_version /usr/bin/prometheus "$PROM_IMAGE"
  copy_with_libs "$r" /usr/bin/prometheus /bin/prometheus
  copy_with_libs "$r" /usr/bin/promtool /bin/promtool
  mkdir -p "$r/etc/prometheus" "$r/prometheus"
  cp prometheus/prometheus.yml "$r/etc/prometheus/prometheus.yml"
  import_rootfs "$r" "$PROM_IMAGE" \
    --change 'ENTRYPOINT ["/bin/prometheus"]' \
    --change 'CMD ["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]' \
    --change 'WORKDIR /prometheus' --change 'EXPOSE 9090'
fi

if need "$PGW_IMAGE"; then
  r="$WORK/pgw"; base_rootfs "$r"
  same_version /usr/bin/prometheus-pushgateway "$PGW_IMAGE"
  copy_with_libs "$r" /usr/bin/prometheus-pushgateway /bin/pushgateway
  # Debian keeps the web UI's static files outside the binary.
  if [ -d /usr/share/prometheus/pushgateway ]; then
    mkdir -p "$r/usr/share/prometheus" && cp -r /usr/share/prometheus/pushgateway "$r/usr/share/prometheus/"
  fi
  import_rootfs "$r" "$PGW_IMAGE" --change 'ENTRYPOINT ["/bin/pushgateway"]' --change 'EXPOSE 9091'
fi

if need "$NE_IMAGE"; then
  r="$WORK/ne"; base_rootfs "$r"
  same_version /usr/bin/prometheus-node-exporter "$NE_IMAGE"
  copy_with_libs "$r" /usr/bin/prometheus-node-exporter /bin/node_exporter
  import_rootfs "$r" "$NE_IMAGE" --change 'ENTRYPOINT ["/bin/node_exporter"]' --change 'EXPOSE 9100'
fi

# Our services: one esbuild bundle each on the node base. Always rebuilt when the bundle is newer.
if [ ! -f services/collector/dist/main.js ] || [ ! -f services/producer/dist/main.js ]; then
  say "building bundles (npm run build)"
  npm run -s build
fi
for svc in collector producer; do
  image=$([ "$svc" = collector ] && echo "$COLLECTOR_IMAGE" || echo "$PRODUCER_IMAGE")
  # The classic builder resolves FROM against local images; BuildKit would try the registry first.
  DOCKER_BUILDKIT=0 docker build -q -f "services/$svc/Dockerfile" --build-arg "NODE_IMAGE=$NODE_IMAGE" -t "$image" . >/dev/null 2>"$WORK/build.err" \
    || { cat "$WORK/build.err" >&2; die "docker build of $image failed"; }
  say "built $image"
done

GRAFANA_IMAGE=$(image_for PUSHPULL_GRAFANA_IMAGE)
if ! have "$GRAFANA_IMAGE" && ! try_pull "$GRAFANA_IMAGE"; then
  say "note: $GRAFANA_IMAGE is not available (no registry). The stack and the lab run without it;"
  say "      it is only started with \`--profile grafana\`."
fi
say "done: docker-compose up -d needs no pull now"
