package dev.sluice.registry;

import dev.sluice.registry.etcd.EtcdCluster;
import dev.sluice.registry.etcd.EtcdRegistries;
import dev.sluice.registry.etcd.EtcdRegistry;
import dev.sluice.registry.etcd.EtcdSettings;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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

    /** The watches each registry opened, as its watch client was asked for them. */
    private final Map<RegistryCenter, List<String>> watches =
        Collections.synchronizedMap(new IdentityHashMap<>());

    @Override
    public RegistryCenter newRegistry(RegistryPaths paths, String instancePath, String auth) {
      List<String> opened = new CopyOnWriteArrayList<>();
      EtcdRegistry registry =
          EtcdRegistries.withWatchClient(
              new EtcdSettings(
                  cluster.endpoints(),
                  cluster.tls(),
                  cluster.tls() ? cluster.caFile() : null,
                  auth,
                  5000,
                  6000),
              paths,
              instancePath,
              watch -> recording(watch, opened));
      watches.put(registry, opened);
      return registry;
    }

    /** {@code watch}, noting each key or range watched: {@code key}, or {@code prefix*}. */
    private static Watch recording(Watch watch, List<String> opened) {
      return (Watch)
          Proxy.newProxyInstance(
              Watch.class.getClassLoader(),
              new Class<?>[] {Watch.class},
              (proxy, method, args) -> {
                if (method.getName().equals("watch")
                    && args.length == 3
                    && args[1] instanceof WatchOption) {
                  String key = ((ByteSequence) args[0]).toString(StandardCharsets.UTF_8);
                  WatchOption option = (WatchOption) args[1];
                  if (option.isPrefix()) {
                    opened.add(key + "*");
                  } else if (option.getEndKey().isPresent()) {
                    opened.add(key + "*"); // a range: taken as every key from here on
                  } else {
                    opened.add(key);
                  }
                }
                try {
                  return method.invoke(watch, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });
    }

    @Override
    public List<String> watches(RegistryCenter registry) {
      return List.copyOf(watches.get(registry));
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
    public long revision(String path) throws Exception {
      KeyValue kv = read(path);
      return kv == null ? -1 : kv.getModRevision();
    }

    @Override
    public String address() {
      return cluster.endpoint(0);
    }

    @Override
    public RegistryCenter newRegistryAt(String address, RegistryPaths paths, String instancePath) {
      // the test certificate names 127.0.0.1, so TLS passes through a proxy on that address
      return new EtcdRegistry(
          new EtcdSettings(
              address, cluster.tls(), cluster.tls() ? cluster.caFile() : null, null, 5000, 6000),
          paths,
          instancePath);
    }

    @Override
    public void close() throws Exception {
      operator.close();
      cluster.close();
    }
  }
}
