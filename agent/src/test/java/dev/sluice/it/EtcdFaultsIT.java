package dev.sluice.it;

import static dev.sluice.it.RegistryFaults.CONVERGE;
import static dev.sluice.it.RegistryFaults.SESSION_TIMEOUT_MS;
import static dev.sluice.it.RegistryFaults.allowed;
import static dev.sluice.it.RegistryFaults.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.etcd.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Registry faults on a three-member etcd cluster, as {@link ZooKeeperFaultsIT} does them on
 * ZooKeeper: the loss of the member the agent talks to, of the leader, a rolling restart and a full
 * outage, with a {@code keep} app and a {@code cut-off} app.
 */
class EtcdFaultsIT {

  private EtcdCluster cluster;
  private Client operator;

  @Test
  void theAppsRideOutMemberLossLeaderLossRollingRestartAndFullOutage() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.start(3, false);
        H2TcpServer h2 = new H2TcpServer()) {
      cluster = etcd;
      operator = etcd.client(null);
      String args =
          "registry=etcd://"
              + etcd.endpoints()
              + ",registry.session-timeout-ms="
              + SESSION_TIMEOUT_MS;
      try (AppProcess keep = AppProcess.jdbcApp(h2.url("faults")).agentArgs(args).start();
          AppProcess cutOff =
              AppProcess.jdbcApp(h2.url("faults"))
                  .agentArgs(args + ",on-registry-loss=cut-off,registry.loss-grace-ms=1000")
                  .start()) {
        Etcdctl etcdctl = new Etcdctl(etcd, null);
        String key = EtcdIT.instanceKey(etcdctl, keep);
        EtcdIT.instanceKey(etcdctl, cutOff);

        // 1. The member the agent talks to dies; the operator writes through the other two.
        write(key, "DISABLED");
        InstanceCutOffIT.awaitRefused(keep, "connect");
        int talkingTo = memberWatchedMost(); // each agent watches two keys, on the member it uses
        etcd.kill(talkingTo);
        assertTrue(refused(keep), "the last known state holds while the agent moves");
        write(key, "");
        Await.until("enabled after member loss", CONVERGE, () -> allowed(keep));
        assertKeyHolds(key, "");
        etcd.restart(talkingTo);
        etcd.awaitHealthy();

        // 2. The leader dies.
        int leader = leader();
        etcd.kill(leader);
        write(key, "DISABLED");
        Await.until("disabled after leader loss", CONVERGE, () -> refused(keep));
        assertKeyHolds(key, "DISABLED");
        etcd.restart(leader);
        etcd.awaitHealthy();

        // 3. Rolling restart: one member at a time; the state never flips on its own.
        for (int m = 0; m < etcd.size(); m++) {
          etcd.kill(m);
          assertTrue(refused(keep), "still DISABLED with member " + m + " down");
          etcd.awaitHealthy();
          etcd.restart(m);
          etcd.awaitHealthy();
          assertTrue(refused(keep), "still DISABLED after member " + m + " restarted");
        }
        write(key, "");
        Await.until("enabled after the rolling restart", CONVERGE, () -> allowed(keep));
        assertKeyHolds(key, "");

        // 4. Full outage: keep goes on, cut-off refuses after its grace.
        for (int m = 0; m < etcd.size(); m++) {
          etcd.kill(m);
        }
        AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(cutOff, "connect");
        assertTrue(refused.text.contains("on-registry-loss=cut-off"), refused::toString);
        assertTrue(allowed(keep), "keep goes on with the last known state");
        for (int m = 0; m < etcd.size(); m++) {
          etcd.restart(m);
        }
        etcd.awaitHealthy();
        Await.until(
            "the keep app's key back with its last value, on a live lease",
            CONVERGE,
            () -> {
              KeyValue kv = read(key);
              return kv != null && kv.getLease() != 0 && "".equals(text(kv.getValue()));
            });
        InstanceCutOffIT.awaitAllowed(cutOff, "connect");
        write(key, "DISABLED");
        Await.until("disabled after the outage", CONVERGE, () -> refused(keep));
        assertTrue(allowed(cutOff), "only the keep app's key was written");
      } finally {
        operator.close();
      }
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static String text(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  /** The member with the most watchers (at least two): the one the agents talk to. */
  private int memberWatchedMost() {
    return Await.until(
        "the member the agents watch on",
        Duration.ofSeconds(10),
        () -> {
          int best = -1;
          long most = 1;
          for (int m = 0; m < cluster.size(); m++) {
            long watchers = gauge(m, "etcd_debugging_mvcc_watcher_total");
            if (watchers > most) {
              best = m;
              most = watchers;
            }
          }
          return best;
        },
        m -> m >= 0);
  }

  private int leader() {
    return Await.until(
        "a leader",
        Duration.ofSeconds(20),
        () -> {
          for (int m = 0; m < cluster.size(); m++) {
            if (gauge(m, "etcd_server_is_leader") == 1) {
              return m;
            }
          }
          return -1;
        },
        m -> m >= 0);
  }

  private long gauge(int member, String name) {
    try {
      Matcher m =
          Pattern.compile("(?m)^" + name + " (\\d+)(\\.\\d+)?$").matcher(cluster.metrics(member));
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    } catch (Exception dead) {
      return -1;
    }
  }

  /** An operator's write, retried while the cluster has no quorum. */
  private void write(String key, String value) {
    Await.until(
        "writing " + key,
        Duration.ofSeconds(30),
        () -> {
          try {
            operator.getKVClient().put(bytes(key), bytes(value)).get(3, TimeUnit.SECONDS);
            return true;
          } catch (Exception e) {
            return false;
          }
        });
  }

  private KeyValue read(String key) {
    try {
      List<KeyValue> kvs = operator.getKVClient().get(bytes(key)).get(3, TimeUnit.SECONDS).getKvs();
      return kvs.isEmpty() ? null : kvs.get(0);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void assertKeyHolds(String key, String value) {
    KeyValue kv = read(key);
    assertEquals(value, kv == null ? null : text(kv.getValue()));
  }
}
