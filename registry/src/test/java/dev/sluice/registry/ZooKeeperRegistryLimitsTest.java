package dev.sluice.registry;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * {@link RegistryLimitsContract} against a real ZooKeeper server whose {@code jute.maxbuffer}
 * admits values of several megabytes, as an operator may have raised it.
 */
class ZooKeeperRegistryLimitsTest extends RegistryLimitsContract {

  private static final int LARGE = 3 << 20;
  private static String juteBefore;

  private ZooKeeperLimits backend;

  @BeforeAll
  static void admitLargeValues() {
    // Read by the server (and, in this one JVM, by every client) when it starts.
    juteBefore = System.setProperty("jute.maxbuffer", String.valueOf(LARGE * 2));
  }

  @AfterAll
  static void restoreMaxBuffer() {
    if (juteBefore == null) {
      System.clearProperty("jute.maxbuffer");
    } else {
      System.setProperty("jute.maxbuffer", juteBefore);
    }
  }

  @BeforeEach
  void startServer() throws Exception {
    backend = new ZooKeeperLimits();
  }

  @Override
  protected Backend backend() {
    return backend;
  }

  static final class ZooKeeperLimits implements Backend {
    private final TestingServer server;
    private final CuratorFramework operator;

    ZooKeeperLimits() throws Exception {
      server = new TestingServer(true);
      operator =
          CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
      operator.start();
      operator.blockUntilConnected();
    }

    @Override
    public RegistryCenter newRegistry(RegistryPaths paths, String instancePath) {
      return new ZooKeeperRegistry(
          new ZooKeeperRegistry.Settings(server.getConnectString(), 5000, 6000, null),
          paths,
          instancePath);
    }

    @Override
    public void write(Map<String, byte[]> nodes) throws Exception {
      java.util.List<CuratorOp> batch = new java.util.ArrayList<>();
      for (Map.Entry<String, byte[]> e : nodes.entrySet()) {
        String parent = e.getKey().substring(0, e.getKey().lastIndexOf('/'));
        if (operator.checkExists().forPath(parent) == null) {
          flush(batch);
          try {
            operator.create().creatingParentsIfNeeded().forPath(parent);
          } catch (KeeperException.NodeExistsException raced) {
            // there already
          }
        }
        batch.add(operator.transactionOp().create().forPath(e.getKey(), e.getValue()));
        if (batch.size() >= 100 || e.getValue().length > 4096) {
          flush(batch);
        }
      }
      flush(batch);
    }

    private void flush(java.util.List<CuratorOp> batch) throws Exception {
      if (!batch.isEmpty()) {
        operator.transaction().forOperations(batch);
        batch.clear();
      }
    }

    @Override
    public void set(String path, String value) throws Exception {
      operator.setData().forPath(path, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String get(String path) throws Exception {
      try {
        byte[] data = operator.getData().forPath(path);
        return data == null ? "" : new String(data, StandardCharsets.UTF_8);
      } catch (KeeperException.NoNodeException e) {
        return null;
      }
    }

    @Override
    public String incarnation(String path) throws Exception {
      Stat stat = operator.checkExists().forPath(path);
      return stat == null
          ? null
          : stat.getCzxid() + "/" + Long.toHexString(stat.getEphemeralOwner());
    }

    @Override
    public int largeValueBytes() {
      return LARGE;
    }

    @Override
    public void close() throws Exception {
      operator.close();
      server.close();
    }
  }
}
