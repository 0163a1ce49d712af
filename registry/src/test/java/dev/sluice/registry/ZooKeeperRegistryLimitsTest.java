package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RegistryLimitsContract} against a real ZooKeeper server in a JVM of its own, whose {@code
 * jute.maxbuffer} admits values of several megabytes, as an operator may have raised it; the
 * agent's client keeps ZooKeeper's default limit of 1 MiB. In a JVM of its own the server's data is
 * not counted in this JVM's heap, and its limit (read once per JVM) is its own.
 */
class ZooKeeperRegistryLimitsTest extends RegistryLimitsContract {

  private static final int LARGE = 3 << 20;

  private ZooKeeperLimits backend;

  @BeforeEach
  void startServer() throws Exception {
    backend = new ZooKeeperLimits();
  }

  @Override
  protected Backend backend() {
    return backend;
  }

  /**
   * A datanode and a watched key last read with a short value are read again in one request, value
   * and stat together. When a change makes one of them longer than the client's {@code
   * jute.maxbuffer} (1 MiB; the server here admits 6 MiB), that read drops the connection, once:
   * after the reconnect the full read reads it stat first and reports it unrecognised, and later
   * changes are heard as before.
   */
  @Test
  void aShortValueOverwrittenWithMegabytesIsUnrecognisedAndTheRegistryGoesOn() throws Exception {
    RegistryPaths paths = RegistryLayout.V5.paths(namespace, "app");
    String orders = paths.datasourcePath("shop", "orders");
    String stock = paths.datasourcePath("shop", "stock");
    String key = "/" + namespace + "/states/groups/shop/primary";
    backend.write(
        Map.of(
            orders,
            new byte[0],
            stock,
            new byte[0],
            key,
            "db1:3306".getBytes(StandardCharsets.UTF_8)));
    RegistryContract.Heard heard = new RegistryContract.Heard();
    RegistryCenter r =
        start(paths, paths.instancePath(new InstanceId("10.0.0.9", 4712, "limits")), heard);
    RegistryContract.HeardKeys keys = new RegistryContract.HeardKeys();
    r.watch(key, false, keys);
    await("the key read", () -> "db1:3306".equals(keys.last(key)));
    backend.set(orders, "DISABLED");
    heard.awaitDatasource(orders, "DISABLED", 60);

    String huge = "x".repeat(LARGE);
    backend.set(orders, huge);
    heard.awaitDatasource(orders, NodeValue.notRead(LARGE), 60);
    backend.set(key, huge);
    await("the long key reported unread", () -> NodeValue.notRead(LARGE).equals(keys.last(key)));

    backend.set(stock, "DISABLED");
    heard.awaitDatasource(stock, "DISABLED", 60);
    backend.set(orders, "DISABLED");
    heard.awaitDatasource(orders, "DISABLED", 60);
    backend.set(key, "db2:3306");
    await("the key read again", () -> "db2:3306".equals(keys.last(key)));
    await("connected", r::isConnected);
    long drops = heard.connections.stream().filter(c -> !c).count();
    assertTrue(drops <= 2, "one drop for each long value at most, not " + drops);
  }

  static final class ZooKeeperLimits implements Backend {
    private final Path dataDir;
    private final Process server;
    private final String connectString;
    private final CuratorFramework operator;

    ZooKeeperLimits() throws Exception {
      dataDir = Files.createTempDirectory("sluice-zk-limits");
      int port;
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
      connectString = "127.0.0.1:" + port;
      server =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-Djute.maxbuffer=" + (LARGE * 2),
                  "-Dzookeeper.admin.enableServer=false",
                  "-cp",
                  System.getProperty("java.class.path"),
                  "org.apache.zookeeper.server.ZooKeeperServerMain",
                  String.valueOf(port),
                  dataDir.toString())
              .redirectErrorStream(true)
              .redirectOutput(dataDir.resolve("server.log").toFile())
              .start();
      operator = CuratorFrameworkFactory.newClient(connectString, new RetryOneTime(100));
      operator.start();
      if (!operator.blockUntilConnected(60, TimeUnit.SECONDS)) {
        close();
        throw new IllegalStateException("ZooKeeper did not start; see " + dataDir);
      }
    }

    @Override
    public RegistryCenter newRegistry(RegistryPaths paths, String instancePath) {
      return new ZooKeeperRegistry(
          new ZooKeeperRegistry.Settings(connectString, 5000, 6000, null), paths, instancePath);
    }

    @Override
    public void write(Map<String, byte[]> nodes) throws Exception {
      List<CuratorOp> batch = new ArrayList<>();
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

    private void flush(List<CuratorOp> batch) throws Exception {
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
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}
