#!/usr/bin/env bash
# Runs the benchmarks and prints one table, every figure next to its no-agent baseline.
#   ./bench.sh                      all of them (several minutes)
#   ./bench.sh hotpath startup      some of them: hotpath propagation failover fanout leader startup footprint
#                                   (failover-patroni: only the Patroni half of failover; needs patroni, haproxy)
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f agent/target/sluice-agent.jar ] || [ ! -f benchmarks/target/benchmarks.jar ]; then
  echo "Building Sluice (first run only)..."
  ./mvnw -q -B install -DskipTests
fi
exec java -Dbench.root="$PWD" -cp "benchmarks/target/benchmarks.jar:benchmarks/target/lib/*" dev.sluice.bench.Bench "$@"
