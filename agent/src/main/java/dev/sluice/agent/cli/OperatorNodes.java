package dev.sluice.agent.cli;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.etcd.EtcdRegistry;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;

/**
 * The registry as the CLI, an operator's tool, sees it: read a level of nodes, write a node that
 * exists. One class per backend, so the CLI loads only the client it uses.
 */
abstract class OperatorNodes implements AutoCloseable {

  /** The children of {@code parent}: name to value. */
  abstract Map<String, String> children(String parent) throws Exception;

  /** Writes an existing node; {@code false} when there is none. */
  abstract boolean set(String path, String value) throws Exception;

  @Override
  public abstract void close();

  static OperatorNodes connect(AgentConfig config, RegistryUri uri) throws Exception {
    return uri.backend() == RegistryUri.Backend.ETCD
        ? new Etcd(config, uri)
        : new ZooKeeper(config, uri);
  }

  private static final class ZooKeeper extends OperatorNodes {
    private final CuratorFramework client;

    ZooKeeper(AgentConfig config, RegistryUri uri) {
      CuratorFrameworkFactory.Builder builder =
          CuratorFrameworkFactory.builder()
              .connectString(uri.endpoints())
              .connectionTimeoutMs(config.registryConnectTimeoutMs())
              .retryPolicy(new RetryNTimes(2, 500));
      if (config.registryAuth() != null) {
        builder.authorization("digest", NodeValue.encode(config.registryAuth()));
      }
      client = builder.build();
      client.start();
    }

    @Override
    Map<String, String> children(String parent) throws Exception {
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
    boolean set(String path, String value) throws Exception {
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

  private static final class Etcd extends OperatorNodes {
    private final Client client;
    private final long timeoutMs;

    Etcd(AgentConfig config, RegistryUri uri) throws Exception {
      AgentLog.captureJavaUtilLogging("dev.sluice.shaded");
      timeoutMs = config.registryConnectTimeoutMs();
      client =
          new EtcdRegistry.Settings(
                  uri.endpoints(),
                  uri.tls(),
                  config.registryTlsCaFile(),
                  config.registryAuth(),
                  config.registryConnectTimeoutMs(),
                  config.registrySessionTimeoutMs())
              .newClient();
    }

    private static ByteSequence bytes(String s) {
      return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    Map<String, String> children(String parent) throws Exception {
      String prefix = parent + "/";
      Map<String, String> out = new HashMap<>();
      for (KeyValue kv :
          client
              .getKVClient()
              .get(bytes(prefix), GetOption.builder().isPrefix(true).build())
              .get(timeoutMs, TimeUnit.MILLISECONDS)
              .getKvs()) {
        String name = kv.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
        if (!name.contains("/")) {
          out.put(name, kv.getValue().toString(StandardCharsets.UTF_8));
        }
      }
      return out;
    }

    /** Writes the value keeping the key's lease, so an instance key still expires with its JVM. */
    @Override
    boolean set(String path, String value) throws Exception {
      ByteSequence key = bytes(path);
      for (int attempt = 0; attempt < 5; attempt++) {
        List<KeyValue> kvs =
            client.getKVClient().get(key).get(timeoutMs, TimeUnit.MILLISECONDS).getKvs();
        if (kvs.isEmpty()) {
          return false;
        }
        KeyValue current = kvs.get(0);
        PutOption keepLease =
            current.getLease() == 0
                ? PutOption.DEFAULT
                : PutOption.builder().withLeaseId(current.getLease()).build();
        boolean written =
            client
                .getKVClient()
                .txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(current.getModRevision())))
                .Then(Op.put(key, bytes(value), keepLease))
                .commit()
                .get(timeoutMs, TimeUnit.MILLISECONDS)
                .isSucceeded();
        if (written) {
          return true;
        }
      }
      throw new IllegalStateException(path + " kept changing; not written");
    }

    @Override
    public void close() {
      client.close();
    }
  }
}
