package dev.sluice.it;

import dev.sluice.registry.TestingServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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

/**
 * A real ZooKeeper server (Curator's {@link TestingServer}) and a plain ZooKeeper client acting as
 * the operator, the way {@code zkCli} does.
 */
final class ZooKeeperFixture implements AutoCloseable {

  private final TestingServer server;
  private final ZooKeeper operator;

  ZooKeeperFixture() throws Exception {
    this(FreePort.next());
  }

  ZooKeeperFixture(int port) throws Exception {
    server = new TestingServer(port, true);
    operator = connect(server.getConnectString());
  }

  /** A plain ZooKeeper client, as zkCli makes one, connected (or failing after 20 s). */
  static ZooKeeper connect(String connectString) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk =
        new ZooKeeper(
            connectString,
            30_000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            });
    if (!connected.await(20, TimeUnit.SECONDS)) {
      zk.close();
      throw new IllegalStateException("ZooKeeper client did not connect to " + connectString);
    }
    return zk;
  }

  /** From now on the operator client authenticates as {@code user:password} (zkCli's addauth). */
  void addDigestAuth(String auth) {
    operator.addAuthInfo("digest", auth.getBytes(StandardCharsets.UTF_8));
  }

  String connectString() {
    return server.getConnectString();
  }

  int port() {
    return server.getPort();
  }

  /** The node's value, or {@code null} when it does not exist. */
  String get(String path) throws Exception {
    try {
      byte[] data = operator.getData(path, false, null);
      return data == null ? "" : new String(data, StandardCharsets.UTF_8);
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  Stat stat(String path) throws Exception {
    return operator.exists(path, false);
  }

  /** Writes raw bytes into the node, creating it (and its parents) when absent. */
  void setBytes(String path, byte[] value) throws Exception {
    try {
      operator.setData(path, value, -1);
    } catch (KeeperException.NoNodeException absent) {
      try {
        create(path, "");
      } catch (KeeperException.NodeExistsException raced) {
        // created meanwhile
      }
      operator.setData(path, value, -1);
    }
  }

  void set(String path, String value) throws Exception {
    operator.setData(path, value.getBytes(StandardCharsets.UTF_8), -1);
  }

  /** Creates the node holding {@code value}, and any missing parents empty. */
  void create(String path, String value) throws Exception {
    int slash = path.indexOf('/', 1);
    while (slash > 0) {
      try {
        operator.create(
            path.substring(0, slash),
            new byte[0],
            ZooDefs.Ids.OPEN_ACL_UNSAFE,
            CreateMode.PERSISTENT);
      } catch (KeeperException.NodeExistsException exists) {
        // already there
      }
      slash = path.indexOf('/', slash + 1);
    }
    operator.create(
        path,
        value.getBytes(StandardCharsets.UTF_8),
        ZooDefs.Ids.OPEN_ACL_UNSAFE,
        CreateMode.PERSISTENT);
  }

  /** Deletes the node and creates it again holding {@code value}, in one transaction. */
  void recreate(String path, String value) throws Exception {
    operator.multi(
        List.of(
            org.apache.zookeeper.Op.delete(path, -1),
            org.apache.zookeeper.Op.create(
                path,
                value.getBytes(StandardCharsets.UTF_8),
                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT)));
  }

  void delete(String path) throws Exception {
    operator.delete(path, -1);
  }

  List<String> children(String path) throws Exception {
    try {
      return operator.getChildren(path, false);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
  }

  /** Waits for the one child of {@code parent} whose name contains {@code part}. */
  String awaitChild(String parent, String part) {
    return Await.until(
        "a node under " + parent + " containing " + part,
        Duration.ofSeconds(20),
        () -> {
          try {
            return children(parent).stream().filter(c -> c.contains(part)).findFirst().orElse(null);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        c -> c != null);
  }

  /**
   * Expires a session on the server, as ZooKeeper does when a client is silent past its timeout:
   * the server closes it and deletes its ephemeral nodes, and the client is told its session
   * expired when it next talks to the server.
   */
  void expireSession(long sessionId) throws Exception {
    TestingServers.expireSession(server, sessionId);
  }

  void stop() throws Exception {
    server.stop();
  }

  void restart() throws Exception {
    server.restart();
  }

  @Override
  public void close() throws Exception {
    try {
      operator.close();
    } finally {
      server.close();
    }
  }
}
