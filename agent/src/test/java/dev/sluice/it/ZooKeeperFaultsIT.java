package dev.sluice.it;

import static dev.sluice.it.RegistryFaults.CONVERGE;
import static dev.sluice.it.RegistryFaults.SESSION_TIMEOUT_MS;
import static dev.sluice.it.RegistryFaults.allowed;
import static dev.sluice.it.RegistryFaults.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.TestingServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingZooKeeperServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/**
 * Registry faults on a three-node ZooKeeper ensemble (Curator's {@link TestingCluster}), with two
 * apps: one on {@code on-registry-loss=keep} (the default), one on {@code cut-off}. Through the
 * loss of the member the agent talks to, of the leader, a rolling restart and a full outage, the
 * keep app goes on by the last known state, follows the registry within session timeout + 1 s once
 * it is back, and its instance node is there with its last value; the cut-off app refuses access
 * after its grace and gets it back with the session.
 */
class ZooKeeperFaultsIT {

  private TestingCluster cluster;
  private ZooKeeper operator;

  @Test
  void theAppsRideOutMemberLossLeaderLossRollingRestartAndFullOutage() throws Exception {
    cluster = new TestingCluster(3);
    cluster.start();
    String args =
        "registry=zookeeper://"
            + cluster.getConnectString()
            + ",registry.session-timeout-ms="
            + SESSION_TIMEOUT_MS;
    try (H2TcpServer h2 = new H2TcpServer();
        AppProcess keep = AppProcess.jdbcApp(h2.url("faults")).agentArgs(args).jmx().start();
        AppProcess cutOff =
            AppProcess.jdbcApp(h2.url("faults"))
                .agentArgs(args + ",on-registry-loss=cut-off,registry.loss-grace-ms=1000")
                .start()) {
      operator = ZooKeeperFixture.connect(cluster.getConnectString());
      String node = awaitNode(keep);
      awaitNode(cutOff);

      // 1. The member the agent talks to dies; the operator writes through the other two.
      write(node, "DISABLED");
      InstanceCutOffIT.awaitRefused(keep, "connect");
      TestingZooKeeperServer talkingTo = memberServing(sessionOf(keep));
      assertTrue(cluster.killServer(talkingTo.getInstanceSpec()));
      assertTrue(refused(keep), "the last known state holds while the agent moves");
      write(node, "");
      Await.until("enabled after member loss", CONVERGE, () -> allowed(keep));
      assertNodeHolds(node, "");
      assertTrue(cluster.restartServer(talkingTo.getInstanceSpec()));

      // 2. The leader dies.
      TestingZooKeeperServer leader = leader();
      assertTrue(cluster.killServer(leader.getInstanceSpec()));
      write(node, "DISABLED"); // once the two left have elected a new leader
      Await.until("disabled after leader loss", CONVERGE, () -> refused(keep));
      assertNodeHolds(node, "DISABLED");
      assertTrue(cluster.restartServer(leader.getInstanceSpec()));

      // 3. Rolling restart: one member at a time; the state never flips on its own.
      for (TestingZooKeeperServer member : cluster.getServers()) {
        assertTrue(cluster.killServer(member.getInstanceSpec()));
        assertTrue(refused(keep), "still DISABLED with " + member.getInstanceSpec() + " down");
        awaitQuorum();
        assertTrue(cluster.restartServer(member.getInstanceSpec()));
        awaitQuorum();
        assertTrue(refused(keep), "still DISABLED after " + member.getInstanceSpec() + " restart");
      }
      write(node, "");
      Await.until("enabled after the rolling restart", CONVERGE, () -> allowed(keep));
      assertNodeHolds(node, "");

      // 4. Full outage: keep goes on, cut-off refuses after its grace.
      for (TestingZooKeeperServer member : cluster.getServers()) {
        assertTrue(cluster.killServer(member.getInstanceSpec()));
      }
      AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(cutOff, "connect");
      assertTrue(refused.text.contains("on-registry-loss=cut-off"), refused::toString);
      assertTrue(allowed(keep), "keep goes on with the last known state");
      for (TestingZooKeeperServer member : cluster.getServers()) {
        assertTrue(cluster.restartServer(member.getInstanceSpec()));
      }
      awaitQuorum();
      Await.until(
          "the keep app's node back with its last value", CONVERGE, () -> "".equals(value(node)));
      InstanceCutOffIT.awaitAllowed(cutOff, "connect");
      write(node, "DISABLED");
      Await.until("disabled after the outage", CONVERGE, () -> refused(keep));
      assertTrue(allowed(cutOff), "only the keep app's node was written");
    } finally {
      if (operator != null) {
        operator.close();
      }
      cluster.close();
    }
  }

  private String awaitNode(AppProcess app) {
    String parent = InstanceCutOffIT.INSTANCES;
    String child =
        Await.until(
            "the node of pid " + app.pid(),
            Duration.ofSeconds(20),
            () -> {
              try {
                return operator.getChildren(parent, false).stream()
                    .filter(c -> c.contains("@" + app.pid() + "@"))
                    .findFirst()
                    .orElse(null);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            c -> c != null);
    return parent + "/" + child;
  }

  private long sessionOf(AppProcess app) throws Exception {
    String hex =
        (String) app.jmx().getAttribute(new ObjectName("sluice:type=Registry"), "SessionId");
    return Long.parseUnsignedLong(hex.substring(2), 16);
  }

  private TestingZooKeeperServer memberServing(long session) {
    return Await.until(
        "the member serving session 0x" + Long.toHexString(session),
        Duration.ofSeconds(10),
        () -> {
          for (TestingZooKeeperServer member : cluster.getServers()) {
            try {
              if (TestingServers.serves(member, session)) {
                return member;
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
          return null;
        },
        m -> m != null);
  }

  private TestingZooKeeperServer leader() {
    return Await.until(
        "a leader",
        Duration.ofSeconds(20),
        () -> {
          for (TestingZooKeeperServer member : cluster.getServers()) {
            try {
              if (TestingServers.isLeader(member)) {
                return member;
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
          return null;
        },
        m -> m != null);
  }

  /** An operator's write, retried while the ensemble has no quorum. */
  private void write(String path, String value) {
    Await.until(
        "writing " + path,
        Duration.ofSeconds(30),
        () -> {
          try {
            operator.setData(path, value.getBytes(StandardCharsets.UTF_8), -1);
            return true;
          } catch (KeeperException.ConnectionLossException e) {
            return false;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private String value(String path) {
    try {
      return new String(operator.getData(path, false, null), StandardCharsets.UTF_8);
    } catch (KeeperException.NoNodeException e) {
      return null;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void assertNodeHolds(String path, String value) {
    assertEquals(value, value(path));
  }

  /** Waits until the ensemble answers a write-ordered read (a sync), that is, has a quorum. */
  private void awaitQuorum() {
    Await.until(
        "a quorum",
        Duration.ofSeconds(30),
        () -> {
          CountDownLatch synced = new CountDownLatch(1);
          int[] rc = {-1};
          operator.sync(
              "/",
              (code, path, ctx) -> {
                rc[0] = code;
                synced.countDown();
              },
              null);
          try {
            return synced.await(3, TimeUnit.SECONDS) && rc[0] == 0;
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
  }
}
