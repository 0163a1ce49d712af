package dev.sluice.registry.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.RegistryLayout;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A three-member cluster loses each of the two members the agent talks to in turn (its watches are
 * spread over both) while an operator keeps writing through the third: after each loss every watch
 * is on the member left (etcd's watcher gauge shows it) and resumes from the last revision it
 * delivered, so every write is heard, in order, and the instance key stays bound to a live lease.
 */
class EtcdMemberLossTest {

  @Test
  void noWriteIsMissedWhenTheAgentsMemberDies() throws Exception {
    try (EtcdCluster cluster = EtcdCluster.start(3, false);
        // The operator writes through the last member, which stays up.
        Client operator = cluster.client(null, cluster.endpoint(2))) {
      RegistryPaths paths = RegistryLayout.V5.paths("loss", "app");
      String node = paths.datasourcePath("orders", "db_1");
      String instance = paths.instancesRoot() + "/10.0.0.1@1@loss";
      BlockingQueue<String> heard = new LinkedBlockingQueue<>();
      // The agent knows the first two members; the operator writes through the third.
      EtcdRegistry registry =
          new EtcdRegistry(
              new EtcdSettings(
                  cluster.endpoint(0) + "," + cluster.endpoint(1), false, null, null, 5000, 6000),
              paths,
              instance);
      try {
        registry.start(
            new RegistryListener() {
              @Override
              public void instanceValue(String value) {}

              @Override
              public void datasourceValue(String path, String value) {
                if (path.equals(node)) {
                  heard.add(String.valueOf(value));
                }
              }

              @Override
              public void connection(boolean connected) {}
            });
        assertTrue(registry.awaitInitialSync(20_000));
        // The client balances its streams over both members it knows: each of its two watches
        // (instance key, datasource prefix) may be on either. Killing one member, then (once it is
        // back) the other, takes every watch's member away at least once; after each loss, both
        // watches must be on the member left (etcd's watcher gauge counts them; only the agent
        // watches in this cluster).
        awaitWatchers(cluster, 2, 0, 1);
        List<String> written = new ArrayList<>();
        for (int i = 0; i < 90; i++) {
          if (i == 20) {
            cluster.kill(0);
            awaitQuorum(operator); // the two left elect a leader if the killed one led
            awaitWatchers(cluster, 2, 1);
          } else if (i == 50) {
            cluster.restart(0);
            awaitGauge(cluster, 0, "etcd_server_has_leader", 1);
            cluster.kill(1);
            awaitQuorum(operator);
            awaitWatchers(cluster, 2, 0);
          }
          String value = i % 2 == 0 ? "DISABLED" : "v" + i;
          operator
              .getKVClient()
              .put(
                  ByteSequence.from(node, StandardCharsets.UTF_8),
                  ByteSequence.from(value, StandardCharsets.UTF_8))
              .get(10, TimeUnit.SECONDS);
          written.add(value);
        }
        List<String> got = new ArrayList<>();
        while (got.size() < written.size()) {
          String v = heard.poll(30, TimeUnit.SECONDS);
          if (v == null) {
            break;
          }
          got.add(v);
        }
        assertEquals(written, got, "every write heard once, in order");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!registry.isConnected() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertTrue(registry.isConnected(), "connected through the surviving member");
        var kv =
            operator
                .getKVClient()
                .get(ByteSequence.from(instance, StandardCharsets.UTF_8))
                .get(10, TimeUnit.SECONDS)
                .getKvs();
        assertEquals(1, kv.size(), "the instance key is present");
        assertEquals("0x" + Long.toHexString(kv.get(0).getLease()), registry.sessionId());
      } finally {
        registry.close();
      }
    }
  }

  /**
   * Waits until the {@code members} together serve {@code expected} watchers (etcd's {@code
   * etcd_debugging_mvcc_watcher_total}), for 20 s.
   */
  static void awaitWatchers(EtcdCluster cluster, long expected, int... members)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      long sum = 0;
      StringBuilder gauges = new StringBuilder();
      for (int m : members) {
        long watchers = gauge(cluster, m, "etcd_debugging_mvcc_watcher_total");
        gauges.append(" m").append(m).append('=').append(watchers);
        sum += Math.max(0, watchers);
      }
      if (sum == expected) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "the agent's " + expected + " watches are not on the members left:" + gauges);
      }
      Thread.sleep(50);
    }
  }

  static void awaitGauge(EtcdCluster cluster, int member, String name, long expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (gauge(cluster, member, name) != expected) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("member " + member + ": " + name + " is not " + expected);
      }
      Thread.sleep(50);
    }
  }

  /** A gauge of one member, {@code -1} while it does not answer. */
  private static long gauge(EtcdCluster cluster, int member, String name) {
    try {
      Matcher m = Pattern.compile("(?m)^" + name + " (\\d+)").matcher(cluster.metrics(member));
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    } catch (IOException dead) {
      return -1;
    }
  }

  private static void awaitQuorum(Client operator) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        operator
            .getKVClient()
            .get(ByteSequence.from("/quorum-probe", StandardCharsets.UTF_8))
            .get(3, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no quorum after a member was killed", e);
        }
      }
    }
  }
}
