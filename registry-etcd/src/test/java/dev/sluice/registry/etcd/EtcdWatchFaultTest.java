package dev.sluice.registry.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.CapturedLogs;
import dev.sluice.registry.Poll;
import dev.sluice.registry.RegistryLayout;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Starting a watch fails (a fault in jetcd or in the agent; none is expected): the failure is
 * logged and the watches are started again, so the agent is not left deaf to the registry. The
 * fault is injected through the registry's watch client, at the first start and at a restart after
 * a watch ended.
 */
class EtcdWatchFaultTest {

  /**
   * The agent's watch client, refusing the calls to {@code watch} a test names (counted from 1),
   * and keeping each watch's listener so that a test can end a watch as etcd would.
   */
  static final class FaultyWatches implements UnaryOperator<Watch> {
    final Set<Integer> refused;
    final AtomicInteger calls = new AtomicInteger();
    final List<Watch.Listener> listeners = new CopyOnWriteArrayList<>();

    FaultyWatches(Integer... refused) {
      this.refused = Set.of(refused);
    }

    @Override
    public Watch apply(Watch real) {
      return new Watch() {
        @Override
        public Watcher watch(ByteSequence key, WatchOption option, Listener listener) {
          int call = calls.incrementAndGet();
          if (refused.contains(call)) {
            throw new IllegalStateException("injected: watch call " + call + " refused");
          }
          listeners.add(listener);
          return real.watch(key, option, listener);
        }

        @Override
        public void requestProgress() {
          real.requestProgress();
        }

        @Override
        public void close() {
          real.close();
        }
      };
    }
  }

  /** What the registry reported, as {@code path=value}. */
  static final class Heard implements RegistryListener {
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();

    @Override
    public void instanceValue(String value) {
      events.add("instance=" + value);
    }

    @Override
    public void datasourceValue(String path, String value) {
      events.add(path + "=" + value);
    }

    @Override
    public void connection(boolean connected) {}

    void await(String event) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      List<String> heard = new ArrayList<>();
      while (System.nanoTime() < deadline) {
        String e = events.poll(100, TimeUnit.MILLISECONDS);
        if (e != null) {
          heard.add(e);
          if (e.equals(event)) {
            return;
          }
        }
      }
      throw new AssertionError("never heard " + event + "; heard " + heard);
    }
  }

  private final RegistryPaths paths =
      RegistryLayout.V5.paths("watch-" + UUID.randomUUID().toString().substring(0, 8), "app");
  private final String instance = paths.instancesRoot() + "/10.0.0.1@1@watch";
  private final String node = paths.datasourcePath("orders", "db_1");
  // Lines logged before this test (an earlier test's cluster may have had the same port).
  private final int logMark = CapturedLogs.lines().size();

  @Test
  void aWatchThatCannotBeStartedIsLoggedAndStartedAgain() throws Exception {
    FaultyWatches watches = new FaultyWatches(1);
    try (EtcdCluster cluster = EtcdCluster.single();
        Client operator = cluster.client(null);
        EtcdRegistry registry = registry(cluster, watches)) {
      Heard heard = new Heard();
      registry.start(heard);
      assertTrue(registry.awaitInitialSync(20_000), "initial sync");
      assertTrueWithin("the watches started again", () -> watches.listeners.size() >= 2);
      put(operator, node, "DISABLED");
      heard.await(node + "=DISABLED");
      put(operator, instance, "DISABLED");
      heard.await("instance=DISABLED");
      assertEquals(1, faultLines(cluster), "the failure was logged");
    }
  }

  @Test
  void aWatchThatCannotBeRestartedAfterItEndedIsLoggedAndStartedAgain() throws Exception {
    FaultyWatches watches = new FaultyWatches(3); // the first watch of the first restart
    try (EtcdCluster cluster = EtcdCluster.single();
        Client operator = cluster.client(null);
        EtcdRegistry registry = registry(cluster, watches)) {
      Heard heard = new Heard();
      registry.start(heard);
      assertTrue(registry.awaitInitialSync(20_000), "initial sync");
      assertEquals(2, watches.listeners.size(), "both watches started");
      // etcd ends the datasource watch (not for compaction): the agent restarts both watches
      watches.listeners.get(1).onError(new IllegalStateException("injected: watch ended"));
      assertTrueWithin("the watches started again", () -> watches.calls.get() >= 5);
      put(operator, node, "DISABLED");
      heard.await(node + "=DISABLED");
      put(operator, instance, "DISABLED");
      heard.await("instance=DISABLED");
      assertEquals(1, faultLines(cluster), "the failure was logged");
    }
  }

  private EtcdRegistry registry(EtcdCluster cluster, FaultyWatches watches) {
    return new EtcdRegistry(
        new EtcdSettings(cluster.endpoints(), false, null, null, 5000, 6000),
        paths,
        instance,
        watches);
  }

  private int faultLines(EtcdCluster cluster) {
    String line =
        "internal fault while handling starting the watches on etcd://" + cluster.endpoints();
    List<String> lines = CapturedLogs.lines();
    return (int)
        lines.subList(logMark, lines.size()).stream().filter(l -> l.contains(line)).count();
  }

  private static void put(Client operator, String key, String value) throws Exception {
    operator
        .getKVClient()
        .put(
            ByteSequence.from(key, StandardCharsets.UTF_8),
            ByteSequence.from(value, StandardCharsets.UTF_8))
        .get(10, TimeUnit.SECONDS);
  }

  private static void assertTrueWithin(String what, BooleanSupplier condition)
      throws InterruptedException {
    Poll.until(what, Duration.ofSeconds(20), condition);
  }
}
