package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * The leadership guard is the server's: a leader whose latch node is gone, though its latch still
 * believes it leads (a latch does not watch its own node), has its write refused by ZooKeeper.
 */
class ZooKeeperLeadershipTest {

  private static final RegistryPaths PATHS = RegistryLayout.V5.paths("lead", "app");
  private static final String ELECTION = "/lead/control/leader";
  private static final String ACTION = "/lead/control/actions/shop/ds_0";

  @Test
  void aWriteIsRefusedByTheServerOnceTheLatchNodeIsGone() throws Exception {
    try (TestingServer server = new TestingServer(true);
        ZooKeeperRegistry registry =
            new ZooKeeperRegistry(
                new ZooKeeperRegistry.Settings(server.getConnectString(), 5000, 10_000, null),
                PATHS,
                PATHS.instancesRoot() + "/10.0.0.1@1@lead");
        CuratorFramework operator =
            CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
      registry.start(new RegistryContract.Heard());
      operator.start();
      Leadership leadership = registry.leadership(ELECTION, "only", leader -> {});
      Poll.until("leading", Duration.ofSeconds(20), leadership::isLeader);
      leadership.writeIfLeader(ACTION, "first");
      assertEquals("first", value(operator));

      List<String> nodes = operator.getChildren().forPath(ELECTION);
      assertEquals(1, nodes.size(), nodes.toString());
      operator.delete().forPath(ELECTION + "/" + nodes.get(0));
      assertTrue(leadership.isLeader(), "still believes it leads: nothing watches its own node");

      assertThrows(NotLeaderException.class, () -> leadership.writeIfLeader(ACTION, "second"));
      assertEquals("first", value(operator), "the refused write changed nothing");
      assertTrue(leadership.leaderId().isEmpty(), "no leader: the only latch node is gone");
    }
  }

  private static String value(CuratorFramework operator) throws Exception {
    return new String(operator.getData().forPath(ACTION), StandardCharsets.UTF_8);
  }
}
