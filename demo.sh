#!/usr/bin/env bash
# The Sluice demo: embedded ZooKeeper and H2, the unmodified HikariCP sample app with the agent,
# a narrated disable → cut-off → enable → recovery, then a failover: the app's writes follow a
# primary switch written into orchestrator's key. Builds first when needed.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f agent/target/sluice-agent.jar ] || [ ! -f demo/target/demo.jar ] || [ ! -f test-apps/pool-app/target/pool-app.jar ]; then
  echo "Building Sluice (first run only)..."
  ./mvnw -q -B install -DskipTests
fi
exec java -cp "demo/target/demo.jar:demo/target/lib/*" dev.sluice.demo.Demo "$PWD"
