package dev.sluice.registry;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.BeforeEach;

/** The registry contract against a real ZooKeeper server (Curator's {@link TestingServer}). */
class ZooKeeperRegistryContractTest extends RegistryContract {

  private ZooKeeperBackend backend;

  @BeforeEach
  void startServer() throws Exception {
    backend = new ZooKeeperBackend();
  }

  @Override
  Backend backend() {
    return backend;
  }

  static final class ZooKeeperBackend implements Backend {
    private final TestingServer server;
    private ZooKeeper operator;

    ZooKeeperBackend() throws Exception {
      server = new TestingServer(true);
      operator = connect();
    }

    private ZooKeeper connect() throws Exception {
      CountDownLatch up = new CountDownLatch(1);
      ZooKeeper zk =
          new ZooKeeper(
              server.getConnectString(),
              30_000,
              e -> {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                  up.countDown();
                }
              });
      if (!up.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("operator not connected");
      }
      return zk;
    }

    @Override
    public RegistryCenter newRegistry(RegistryPaths paths, String instancePath, String auth) {
      return new ZooKeeperRegistry(
          new ZooKeeperRegistry.Settings(server.getConnectString(), 5000, 6000, auth),
          paths,
          instancePath);
    }

    @Override
    public void put(String path, String value) throws Exception {
      byte[] data = value.getBytes(StandardCharsets.UTF_8);
      while (true) {
        try {
          operator.setData(path, data, -1);
          return;
        } catch (KeeperException.NoNodeException absent) {
          int slash = path.indexOf('/', 1);
          while (slash > 0) {
            try {
              operator.create(
                  path.substring(0, slash),
                  new byte[0],
                  ZooDefs.Ids.OPEN_ACL_UNSAFE,
                  CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException exists) {
              // there already
            }
            slash = path.indexOf('/', slash + 1);
          }
          try {
            operator.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            return;
          } catch (KeeperException.NodeExistsException raced) {
            // created in between (an agent putting back a deleted datasource node): set it
          }
        }
      }
    }

    @Override
    public void set(String path, String value) throws Exception {
      operator.setData(path, value.getBytes(StandardCharsets.UTF_8), -1);
    }

    @Override
    public void enableAuth(String auth, String prefix) {
      // ZooKeeper has no switch: the agent's nodes carry ACLs, and the operator authenticates.
      operator.addAuthInfo("digest", auth.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void anonymousPut(String path, String value) throws Exception {
      ZooKeeper anonymous = connect();
      try {
        anonymous.setData(path, value.getBytes(StandardCharsets.UTF_8), -1);
      } finally {
        anonymous.close();
      }
    }

    @Override
    public void delete(String path) throws Exception {
      operator.delete(path, -1);
    }

    @Override
    public String get(String path) throws Exception {
      try {
        byte[] data = operator.getData(path, false, null);
        return data == null ? "" : new String(data, StandardCharsets.UTF_8);
      } catch (KeeperException.NoNodeException e) {
        return null;
      }
    }

    @Override
    public boolean ownedBy(String path, RegistryCenter owner) throws Exception {
      Stat stat = operator.exists(path, false);
      return stat != null
          && stat.getEphemeralOwner() != 0
          && ("0x" + Long.toHexString(stat.getEphemeralOwner())).equals(owner.sessionId());
    }

    @Override
    public void expire(RegistryCenter registry) throws Exception {
      TestingServers.expireSession(server, Long.parseLong(registry.sessionId().substring(2), 16));
    }

    @Override
    public void restart() throws Exception {
      server.restart();
      // The operator's session outlives the restart; wait until its connection is back, as an
      // operator at zkCli would, so that the test's next write does not fail with ConnectionLoss.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (true) {
        try {
          operator.exists("/", false);
          return;
        } catch (KeeperException.ConnectionLossException notYet) {
          if (System.nanoTime() > deadline) {
            throw notYet;
          }
          Thread.sleep(50);
        }
      }
    }

    @Override
    public List<String> watches(RegistryCenter registry) throws Exception {
      return TestingServers.watchesOf(
          server, Long.parseLong(registry.sessionId().substring(2), 16));
    }

    @Override
    public long revision(String path) throws Exception {
      Stat stat = operator.exists(path, false);
      return stat == null ? -1 : stat.getMzxid();
    }

    @Override
    public String address() {
      return server.getConnectString();
    }

    @Override
    public RegistryCenter newRegistryAt(String address, RegistryPaths paths, String instancePath) {
      return new ZooKeeperRegistry(
          new ZooKeeperRegistry.Settings(address, 5000, 6000, null), paths, instancePath);
    }

    @Override
    public void close() throws Exception {
      operator.close();
      server.close();
    }
  }
}
