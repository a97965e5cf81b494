#!/usr/bin/env bash
# Build and run the native floor benchmarks, with Node's equivalent round trip beside them, in one run.
#   native-bench/run.sh [N]      (N round trips per ping-pong, default 50000)
# Pinning: "1 vCPU" runs client and server on CPU 0 (taskset -c 0); "2 vCPUs" puts them on CPUs 0 and 1.
set -euo pipefail
cd "$(dirname "$0")"
N="${1:-50000}"
make -s all
echo "# native-bench $(date -u +%FT%TZ) on $(nproc) vCPU, $(uname -r), node $(node --version)"
echo "## compute"
./build/hmac
./build/jsonscan
echo "## loopback round trips (N=$N)"
taskset -c 0 ./build/pingpong --n "$N" --cpus 0,0
taskset -c 0 ./build/pingpong --n "$N" --ws --cpus 0,0
if [ "$(nproc)" -ge 2 ]; then
  ./build/pingpong --n "$N" --cpus 0,1
fi
taskset -c 0 node node-pingpong.mjs "$N" 150
if [ "$(nproc)" -ge 2 ]; then
  echo "(node:net unpinned: the scheduler decides)"; node node-pingpong.mjs "$N" 150
fi
