package dev.sluice.registry;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;

/** Operator access to ZooKeeper, for the CLI. */
public final class ZooKeeperOperator implements OperatorAccess {
  private final CuratorFramework client;

  /**
   * @throws IllegalArgumentException when the TLS CA file holds no certificate
   */
  public ZooKeeperOperator(RegistrySettings settings) {
    ZooKeeperTransport transport =
        settings.tls ? ZooKeeperTransport.tls(settings.caFile) : ZooKeeperTransport.plain();
    CuratorFrameworkFactory.Builder builder =
        CuratorFrameworkFactory.builder()
            .connectString(settings.endpoints)
            .connectionTimeoutMs(settings.connectTimeoutMs)
            .zkClientConfig(transport.clientConfig())
            .retryPolicy(new RetryNTimes(2, 500));
    if (settings.auth != null) {
      builder.authorization("digest", NodeValue.encode(settings.auth));
    }
    client = builder.build();
    client.start();
  }

  @Override
  public Map<String, String> children(String parent) throws Exception {
    Map<String, String> out = new HashMap<>();
    List<String> names;
    try {
      names = client.getChildren().forPath(parent);
    } catch (KeeperException.NoNodeException e) {
      return out;
    }
    for (String name : names) {
      try {
        out.put(name, NodeValue.decode(client.getData().forPath(parent + "/" + name)));
      } catch (KeeperException.NoNodeException gone) {
        // went away while listing
      }
    }
    return out;
  }

  @Override
  public String get(String path) throws Exception {
    try {
      return NodeValue.decode(client.getData().forPath(path));
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  @Override
  public Map<String, String> subtree(String root) throws Exception {
    Map<String, String> out = new TreeMap<>();
    collect(root, out);
    return out;
  }

  private void collect(String parent, Map<String, String> out) throws Exception {
    List<String> names;
    try {
      names = client.getChildren().forPath(parent);
    } catch (KeeperException.NoNodeException e) {
      return;
    }
    for (String name : names) {
      String path = parent + "/" + name;
      try {
        out.put(path, NodeValue.decode(client.getData().forPath(path)));
      } catch (KeeperException.NoNodeException gone) {
        continue; // went away while listing
      }
      collect(path, out);
    }
  }

  private static final String LATCH = "latch-";

  @Override
  public String leader(String electionPath) throws Exception {
    // LeaderLatch's nodes are <prefix>latch-<sequence>; the lowest sequence leads
    Map<String, String> nodes = children(electionPath);
    return nodes.keySet().stream()
        .filter(n -> n.contains(LATCH))
        .min(Comparator.comparing(n -> n.substring(n.lastIndexOf(LATCH) + LATCH.length())))
        .map(nodes::get)
        .orElse("");
  }

  @Override
  public boolean set(String path, String value) throws Exception {
    try {
      client.setData().forPath(path, NodeValue.encode(value));
      return true;
    } catch (KeeperException.NoNodeException e) {
      return false;
    }
  }

  @Override
  public void put(String path, String value) throws Exception {
    if (set(path, value)) {
      return;
    }
    try {
      client.create().creatingParentsIfNeeded().forPath(path, NodeValue.encode(value));
    } catch (KeeperException.NodeExistsException createdMeanwhile) {
      client.setData().forPath(path, NodeValue.encode(value));
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
