package dev.sluice.registry;

import dev.sluice.registry.etcd.EtcdCluster;
import dev.sluice.registry.etcd.EtcdRegistry;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;

/** The registry contract against a real etcd server (Debian's {@code etcd} binary). */
class EtcdRegistryContractTest extends RegistryContract {

  private EtcdBackend backend;

  /** Whether the client port speaks TLS. */
  boolean tls() {
    return false;
  }

  @BeforeEach
  void startServer() throws Exception {
    backend = new EtcdBackend(EtcdCluster.start(1, tls()));
  }

  @Override
  Backend backend() {
    return backend;
  }

  static final class EtcdBackend implements Backend {
    private final EtcdCluster cluster;
    private Client operator;

    EtcdBackend(EtcdCluster cluster) {
      this.cluster = cluster;
      this.operator = cluster.client(null);
    }

    private static ByteSequence bytes(String s) {
      return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public RegistryCenter newRegistry(RegistryPaths paths, String instancePath, String auth) {
      return new EtcdRegistry(
          new EtcdRegistry.Settings(
              cluster.endpoints(),
              cluster.tls(),
              cluster.tls() ? cluster.caFile() : null,
              auth,
              5000,
              6000),
          paths,
          instancePath);
    }

    @Override
    public void enableAuth(String auth, String prefix) throws Exception {
      String root = cluster.enableAuth(auth, prefix);
      operator.close();
      operator = cluster.client(root);
    }

    @Override
    public void anonymousPut(String path, String value) throws Exception {
      try (Client anonymous = cluster.client(null)) {
        anonymous.getKVClient().put(bytes(path), bytes(value)).get(10, TimeUnit.SECONDS);
      }
    }

    @Override
    public void put(String path, String value) throws Exception {
      operator.getKVClient().put(bytes(path), bytes(value)).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void set(String path, String value) throws Exception {
      ByteSequence key = bytes(path);
      boolean present =
          operator
              .getKVClient()
              .txn()
              .If(new Cmp(key, Cmp.Op.GREATER, CmpTarget.version(0)))
              .Then(Op.put(key, bytes(value), PutOption.DEFAULT))
              .commit()
              .get(10, TimeUnit.SECONDS)
              .isSucceeded();
      if (!present) {
        throw new IllegalStateException("no key " + path);
      }
    }

    @Override
    public void delete(String path) throws Exception {
      operator.getKVClient().delete(bytes(path)).get(10, TimeUnit.SECONDS);
    }

    private KeyValue read(String path) throws Exception {
      List<KeyValue> kvs =
          operator.getKVClient().get(bytes(path)).get(10, TimeUnit.SECONDS).getKvs();
      return kvs.isEmpty() ? null : kvs.get(0);
    }

    @Override
    public String get(String path) throws Exception {
      KeyValue kv = read(path);
      return kv == null ? null : kv.getValue().toString(StandardCharsets.UTF_8);
    }

    @Override
    public boolean ownedBy(String path, RegistryCenter owner) throws Exception {
      KeyValue kv = read(path);
      return kv != null
          && kv.getLease() != 0
          && ("0x" + Long.toHexString(kv.getLease())).equals(owner.sessionId());
    }

    @Override
    public void expire(RegistryCenter registry) throws Exception {
      long lease = Long.parseLong(registry.sessionId().substring(2), 16);
      operator.getLeaseClient().revoke(lease).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void restart() throws Exception {
      cluster.restartAll();
    }

    @Override
    public void close() throws Exception {
      operator.close();
      cluster.close();
    }
  }
}
