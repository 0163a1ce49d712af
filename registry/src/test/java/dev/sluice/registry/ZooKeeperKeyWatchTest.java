package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * What the key watch does on ZooKeeper beyond the contract: it may be made before the registry
 * starts, it does not read a value longer than any valid one, and a deleted subtree is reported key
 * by key.
 */
class ZooKeeperKeyWatchTest {

  private static final RegistryPaths PATHS = RegistryLayout.V5.paths("kw", "app");

  @Test
  void aWatchMadeBeforeStartBeginsAtStartAndReadsNoOversizedValue() throws Exception {
    try (TestingServer server = new TestingServer(true);
        CuratorFramework operator = operator(server);
        ZooKeeperRegistry registry = registry(server)) {
      byte[] big = new byte[NodeValue.MAX_VALUE_BYTES + 1];
      Arrays.fill(big, (byte) 'x');
      operator.create().creatingParentsIfNeeded().forPath("/foreign/big", big);
      RegistryContract.HeardKeys heard = new RegistryContract.HeardKeys();
      registry.watch("/foreign/big", false, heard);
      registry.start(new RegistryContract.Heard());
      Poll.until("synced", Duration.ofSeconds(20), () -> heard.syncs.get() >= 1);
      assertEquals(NodeValue.notRead(big.length), heard.last("/foreign/big"), heard.describe());
    }
  }

  @Test
  void aDeletedSubtreeIsReportedKeyByKey() throws Exception {
    try (TestingServer server = new TestingServer(true);
        CuratorFramework operator = operator(server);
        ZooKeeperRegistry registry = registry(server)) {
      operator.create().creatingParentsIfNeeded().forPath("/svc/pg/members/a", "1".getBytes());
      operator.create().forPath("/svc/pg/leader", "a".getBytes());
      registry.start(new RegistryContract.Heard());
      RegistryContract.HeardKeys heard = new RegistryContract.HeardKeys();
      registry.watch("/svc/pg", true, heard);
      Poll.until("synced", Duration.ofSeconds(20), () -> heard.syncs.get() >= 1);
      assertEquals("1", heard.last("/svc/pg/members/a"), heard.describe());
      operator.delete().deletingChildrenIfNeeded().forPath("/svc/pg");
      for (String key : new String[] {"/svc/pg", "/svc/pg/members", "/svc/pg/members/a"}) {
        Poll.until(key + " gone", Duration.ofSeconds(20), () -> "<gone>".equals(heard.last(key)));
        heard.assertInOrder(key);
      }
      Poll.until(
          "the leader gone",
          Duration.ofSeconds(20),
          () -> "<gone>".equals(heard.last("/svc/pg/leader")));
      operator.create().creatingParentsIfNeeded().forPath("/svc/pg/leader", "b".getBytes());
      Poll.until(
          "a new leader", Duration.ofSeconds(20), () -> "b".equals(heard.last("/svc/pg/leader")));
      heard.assertInOrder("/svc/pg/leader");
      assertTrue(heard.threads.equals(java.util.Set.of("sluice-registry")), "" + heard.threads);
    }
  }

  private static ZooKeeperRegistry registry(TestingServer server) {
    return new ZooKeeperRegistry(
        new ZooKeeperRegistry.Settings(server.getConnectString(), 5000, 10_000, null),
        PATHS,
        PATHS.instancesRoot() + "/10.0.0.1@1@kw");
  }

  private static CuratorFramework operator(TestingServer server) {
    CuratorFramework c =
        CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
    c.start();
    return c;
  }
}
