package dev.sluice.agent.cli;

import dev.sluice.agent.EtcdClasses;
import dev.sluice.agent.Registries;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.OperatorAccess;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;

/**
 * The registry as the CLI, an operator's tool, sees it: read a level of nodes, write a node that
 * exists. One class per backend, so the CLI loads only the client it uses.
 */
final class OperatorNodes {

  private OperatorNodes() {}

  static OperatorAccess connect(AgentConfig config, RegistryUri uri) throws Exception {
    if (uri.backend() == RegistryUri.Backend.ETCD) {
      return (OperatorAccess)
          EtcdClasses.call(
              "operator",
              new Class<?>[] {String.class, boolean.class, String.class, String.class, int.class},
              uri.endpoints(),
              uri.tls(),
              config.registryTlsCaFile(),
              config.registryAuth(),
              config.registryConnectTimeoutMs());
    }
    return new ZooKeeper(config, uri);
  }

  private static final class ZooKeeper implements OperatorAccess {
    private final CuratorFramework client;

    ZooKeeper(AgentConfig config, RegistryUri uri) {
      CuratorFrameworkFactory.Builder builder =
          CuratorFrameworkFactory.builder()
              .connectString(uri.endpoints())
              .connectionTimeoutMs(config.registryConnectTimeoutMs())
              .zkClientConfig(Registries.transport(config, uri).clientConfig())
              .retryPolicy(new RetryNTimes(2, 500));
      if (config.registryAuth() != null) {
        builder.authorization("digest", NodeValue.encode(config.registryAuth()));
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
    public void close() {
      client.close();
    }
  }
}
