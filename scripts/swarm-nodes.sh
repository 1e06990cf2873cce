#!/usr/bin/env bash
# Thin wrapper: N swarm worker nodes made on this machine, by the lab's own code (`pushpull-lab nodes`).
#   sudo bash scripts/swarm-nodes.sh up 2 [--subnet 198.18.231.0/24]
#   sudo bash scripts/swarm-nodes.sh down
# Everything (checks, state file, teardown) is in lab/src/nodes/; this script only finds the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f lab/dist/main.js ]; then exec node lab/dist/main.js nodes "$@"; fi
exec node --import tsx lab/src/main.ts nodes "$@"
