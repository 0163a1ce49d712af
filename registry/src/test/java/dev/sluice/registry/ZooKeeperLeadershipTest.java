package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * A leader whose latch node is deleted (by an operator) while its session lives stops leading, has
 * its guarded write refused (by ZooKeeper itself if the write comes before the deletion's event)
 * and joins the election again, though a Curator latch never notices the deletion of its own node.
 */
class ZooKeeperLeadershipTest {

  private static final RegistryPaths PATHS = RegistryLayout.V5.paths("lead", "app");
  private static final String ELECTION = "/lead/control/leader";
  private static final String ACTION = "/lead/control/actions/shop/ds_0";

  @Test
  void aLeaderWhoseLatchNodeIsDeletedIsRefusedThenRejoins() throws Exception {
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
      assertThrows(NotLeaderException.class, () -> leadership.writeIfLeader(ACTION, "second"));
      assertEquals("first", value(operator), "the refused write changed nothing");

      Poll.until("leading again", Duration.ofSeconds(20), leadership::isLeader);
      List<String> again = operator.getChildren().forPath(ELECTION);
      assertEquals(1, again.size(), "the old latch left no node: " + again);
      assertEquals("only", leadership.leaderId());
      leadership.writeIfLeader(ACTION, "third");
      assertEquals("third", value(operator));
    }
  }

  private static String value(CuratorFramework operator) throws Exception {
    return new String(operator.getData().forPath(ACTION), StandardCharsets.UTF_8);
  }
}
