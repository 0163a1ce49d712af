package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

/**
 * With digest authentication configured, every node the agent creates, parents included, lets an
 * anonymous client read and nothing else: it cannot disable a datasource by creating its node under
 * a parent the agent made, nor replace (delete and create) the instance node. The operator's
 * account, the agents' own, may write.
 */
class ZooKeeperAclTest {

  private static final String ACCOUNT = "sluice:acl-s3cret";
  private static final RegistryPaths PATHS = RegistryLayout.V5.paths("acl", "app");
  private static final String INSTANCE = PATHS.instancesRoot() + "/10.0.0.1@1@acl";
  private static final String DATANODE = PATHS.datasourcePath("orders", "db1_3306");

  @Test
  void anAnonymousClientCanReadButNeitherCreateNorReplace() throws Exception {
    try (TestingServer server = new TestingServer(true);
        ZooKeeperRegistry registry =
            new ZooKeeperRegistry(
                new ZooKeeperRegistry.Settings(server.getConnectString(), 5000, 10_000, ACCOUNT),
                PATHS,
                INSTANCE);
        CuratorFramework anonymous = client(server, null);
        CuratorFramework operator = client(server, ACCOUNT)) {
      CountDownLatch connected = new CountDownLatch(1);
      registry.start(
          new RegistryListener() {
            @Override
            public void instanceValue(String value) {}

            @Override
            public void datasourceValue(String path, String value) {}

            @Override
            public void connection(boolean up) {
              if (up) {
                connected.countDown();
              }
            }
          });
      assertTrue(connected.await(10, TimeUnit.SECONDS));
      registry.ensureDatasourceNode(DATANODE);
      awaitNode(anonymous, INSTANCE);
      awaitNode(anonymous, DATANODE);

      byte[] disabled = "DISABLED".getBytes(StandardCharsets.UTF_8);
      String[] creates = {
        PATHS.datasourcePath("orders", "db2_3306"), // under the schema node the agent made
        PATHS.datasourcesRoot() + "/billing", // a schema, under the datanodes root
        PATHS.instancesRoot() + "/10.0.0.1@1@forged", // beside the instance node
        INSTANCE + "/child",
        "/acl/control" // beside the agent's subtrees, under its namespace root
      };
      for (String path : creates) {
        assertThrows(
            KeeperException.NoAuthException.class,
            () -> anonymous.create().withMode(CreateMode.PERSISTENT).forPath(path, disabled),
            path);
      }
      for (String path : new String[] {INSTANCE, DATANODE}) {
        assertThrows(
            KeeperException.NoAuthException.class,
            () -> anonymous.setData().forPath(path, disabled),
            path);
        assertThrows(
            KeeperException.NoAuthException.class, () -> anonymous.delete().forPath(path), path);
      }
      assertEquals("", new String(anonymous.getData().forPath(DATANODE), StandardCharsets.UTF_8));

      operator.setData().forPath(DATANODE, disabled); // the digest account may
      operator.create().forPath(PATHS.datasourcePath("orders", "db3_3306"), disabled);
    }
  }

  private static CuratorFramework client(TestingServer server, String auth) throws Exception {
    CuratorFrameworkFactory.Builder b =
        CuratorFrameworkFactory.builder()
            .connectString(server.getConnectString())
            .retryPolicy(new RetryOneTime(100));
    if (auth != null) {
      b.authorization("digest", auth.getBytes(StandardCharsets.UTF_8));
    }
    CuratorFramework c = b.build();
    c.start();
    assertTrue(c.blockUntilConnected(10, TimeUnit.SECONDS));
    return c;
  }

  private static void awaitNode(CuratorFramework client, String path) throws Exception {
    Poll.until(
        path,
        Duration.ofSeconds(10),
        () -> Poll.unchecked(() -> client.checkExists().forPath(path) != null));
  }
}
