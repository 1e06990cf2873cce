#!/usr/bin/env bash
# Builds every image docker-compose.yml needs (but Grafana) without a registry, from binaries on this host,
# and tags each with exactly the name compose uses, so `docker compose up` needs no pull.
#
#   bash scripts/airgap-images.sh            # build what is missing (tries a pull first unless --no-pull)
#   bash scripts/airgap-images.sh --force    # rebuild all
#   bash scripts/airgap-images.sh --no-pull  # never touch a registry
#
# Bases come from Debian packages (see scripts/setup.sh): /usr/bin/node, /usr/bin/prometheus,
# /usr/bin/prometheus-pushgateway, /usr/bin/prometheus-node-exporter, each with the shared libraries `ldd`
# names, packed into a rootfs tarball and `docker import`ed (no FROM, no pull). The service images
# (pushpull/collector, pushpull/producer) are then built FROM the node base with the classic builder.
set -euo pipefail
cd "$(dirname "$0")/.."

FORCE=0
PULL=1
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --no-pull) PULL=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "airgap-images: unknown flag '$a' (known: --force --no-pull)" >&2; exit 2 ;;
  esac
done

NODE_IMAGE=node:20-bookworm-slim
PROM_IMAGE=prom/prometheus:v2.42.0
PGW_IMAGE=prom/pushgateway:v1.5.1
NE_IMAGE=prom/node-exporter:v1.5.0
COLLECTOR_IMAGE=pushpull/collector:0.1.0
PRODUCER_IMAGE=pushpull/producer:0.1.0

say() { echo "airgap-images: $*"; }
die() { echo "airgap-images: ERROR: $*" >&2; exit 1; }

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

# import ROOTFS IMAGE [--change ...]: tar the rootfs and docker import it under IMAGE.
import_rootfs() {
  local root=$1 image=$2
  shift 2
  tar -C "$root" -cf "$WORK/rootfs.tar" .
  docker import "$@" "$WORK/rootfs.tar" "$image" >/dev/null
  rm -f "$WORK/rootfs.tar"
  say "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
}

need() {
  local image=$1
  if [ "$FORCE" = 0 ] && have "$image"; then say "$image present"; return 1; fi
  if [ "$FORCE" = 0 ] && try_pull "$image"; then say "$image pulled"; return 1; fi
  return 0
}

if need "$NODE_IMAGE"; then
  r="$WORK/node"; base_rootfs "$r"
  copy_with_libs "$r" /usr/bin/node /usr/local/bin/node
  import_rootfs "$r" "$NODE_IMAGE" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["node"]' --change 'WORKDIR /app'
fi

if need "$PROM_IMAGE"; then
  r="$WORK/prom"; base_rootfs "$r"
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
  copy_with_libs "$r" /usr/bin/prometheus-pushgateway /bin/pushgateway
  # Debian keeps the web UI's static files outside the binary.
  if [ -d /usr/share/prometheus/pushgateway ]; then
    mkdir -p "$r/usr/share/prometheus" && cp -r /usr/share/prometheus/pushgateway "$r/usr/share/prometheus/"
  fi
  import_rootfs "$r" "$PGW_IMAGE" --change 'ENTRYPOINT ["/bin/pushgateway"]' --change 'EXPOSE 9091'
fi

if need "$NE_IMAGE"; then
  r="$WORK/ne"; base_rootfs "$r"
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

if ! have grafana/grafana:10.4.2 && ! try_pull grafana/grafana:10.4.2; then
  say "note: grafana/grafana:10.4.2 is not available (no registry). The stack and the lab run without it;"
  say "      it is only started with \`--profile grafana\`."
fi
say "done: docker-compose up -d needs no pull now"
