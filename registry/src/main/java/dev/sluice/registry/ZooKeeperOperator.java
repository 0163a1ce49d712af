package dev.sluice.registry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
