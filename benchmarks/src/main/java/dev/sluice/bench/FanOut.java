package dev.sluice.bench;

import dev.sluice.registry.InstanceId;
import dev.sluice.registry.RegistryLayout;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.TestingServers;
import dev.sluice.registry.ZooKeeperRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Fan-out: many sessions of the agent's own registry code (one {@link ZooKeeperRegistry} per
 * simulated JVM, all in this one) against one ZooKeeper server. Reports how long one datanode
 * change takes to reach all of them, and the server's watch count as the sessions grow.
 */
final class FanOut {

  static final int SESSIONS = Integer.getInteger("bench.sessions", 1000);
  static final int WRITES = 20;

  private final Bench bench;

  FanOut(Bench bench) {
    this.bench = bench;
  }

  /** Listens for one datanode and counts down the current round's latch. */
  static final class Listener implements RegistryListener {
    final String node;
    final AtomicReference<CountDownLatch> round;
    final long[] arrivals;
    final int slot;

    Listener(String node, AtomicReference<CountDownLatch> round, long[] arrivals, int slot) {
      this.node = node;
      this.round = round;
      this.arrivals = arrivals;
      this.slot = slot;
    }

    @Override
    public void instanceValue(String value) {}

    @Override
    public void datasourceValue(String path, String value) {
      if (node.equals(path)) {
        arrivals[slot] = System.nanoTime();
        round.get().countDown();
      }
    }

    @Override
    public void connection(boolean connected) {}
  }

  void run() throws Exception {
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, -1, 0);
    try (TestingServer server = new TestingServer(spec, true)) {
      ZooKeeper operator = Propagation.connect(server.getConnectString());
      RegistryPaths paths = RegistryLayout.V5.paths("fanout", "bench");
      String node = paths.datasourcePath("db", "primary");
      create(operator, node);
      AtomicReference<CountDownLatch> round = new AtomicReference<>(new CountDownLatch(0));
      long[] arrivals = new long[SESSIONS];
      List<ZooKeeperRegistry> registries = new ArrayList<>();
      List<String> watchCounts = new ArrayList<>();
      long[] single = null;
      try {
        int[] steps = {1, SESSIONS / 4, SESSIONS / 2, SESSIONS};
        for (int step : steps) {
          while (registries.size() < step) {
            int i = registries.size();
            ZooKeeperRegistry r =
                new ZooKeeperRegistry(
                    new ZooKeeperRegistry.Settings(server.getConnectString(), 15_000, 30_000, null),
                    paths,
                    paths.instancePath(new InstanceId("10.0.0.1", i, "fanout-" + i)));
            r.start(new Listener(node, round, arrivals, i));
            registries.add(r);
          }
          for (ZooKeeperRegistry r : registries) {
            if (!r.awaitInitialSync(120_000)) {
              throw new IllegalStateException("a session did not sync");
            }
          }
          if (step > 1) {
            int watches = TestingServers.watchCount(server);
            watchCounts.add(
                String.format(
                    Locale.ROOT,
                    "%,d at %,d (%.1f each)",
                    watches,
                    registries.size(),
                    watches / (double) registries.size()));
          }
          if (step == 1) {
            single = changeRounds(operator, node, round, arrivals, 1);
          }
        }
        long[] all = changeRounds(operator, node, round, arrivals, registries.size());
        bench.row(
            "fan-out: datanode change reaches all " + SESSIONS + " sessions (µs)",
            Bench.percentiles(all),
            Bench.percentiles(single),
            "baseline: 1 session",
            "");
        bench.row(
            "fan-out: ZooKeeper server watches",
            String.join("; ", watchCounts),
            "",
            "",
            "linear in sessions");
      } finally {
        registries.parallelStream().forEach(ZooKeeperRegistry::close);
        operator.close();
      }
    }
  }

  /** {@link #WRITES} changes; every session's delay for each. */
  private static long[] changeRounds(
      ZooKeeper operator,
      String node,
      AtomicReference<CountDownLatch> round,
      long[] arrivals,
      int sessions)
      throws Exception {
    long[] delays = new long[WRITES * sessions];
    for (int w = 0; w < WRITES; w++) {
      CountDownLatch latch = new CountDownLatch(sessions);
      round.set(latch);
      long t0 = System.nanoTime();
      operator.setData(node, ((w % 2 == 0) ? "DISABLED" : "").getBytes(StandardCharsets.UTF_8), -1);
      if (!latch.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException(latch.getCount() + " sessions did not see the change");
      }
      for (int i = 0; i < sessions; i++) {
        delays[w * sessions + i] = (arrivals[i] - t0) / 1_000;
      }
    }
    return delays;
  }

  private static void create(ZooKeeper zk, String path) throws Exception {
    int slash = path.indexOf('/', 1);
    while (slash > 0) {
      if (zk.exists(path.substring(0, slash), false) == null) {
        zk.create(
            path.substring(0, slash),
            new byte[0],
            ZooDefs.Ids.OPEN_ACL_UNSAFE,
            CreateMode.PERSISTENT);
      }
      slash = path.indexOf('/', slash + 1);
    }
    zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
  }
}
