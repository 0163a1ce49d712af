package dev.sluice.registry;

import dev.sluice.registry.etcd.EtcdCluster;
import dev.sluice.registry.etcd.EtcdRegistry;
import dev.sluice.registry.etcd.EtcdSettings;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;

/**
 * {@link RegistryLimitsContract} against a real etcd server with its default limits: requests of at
 * most 1.5 MiB, so values of 1.4 MB, three of which no longer fit into one response of gRPC's
 * default 4 MiB.
 */
class EtcdRegistryLimitsTest extends RegistryLimitsContract {

  private static final int LARGE = 1_400_000;

  private EtcdLimits backend;

  @BeforeEach
  void startServer() throws Exception {
    backend = new EtcdLimits(EtcdCluster.single());
  }

  @Override
  protected Backend backend() {
    return backend;
  }

  static final class EtcdLimits implements Backend {
    private final EtcdCluster cluster;
    private final Client operator;

    EtcdLimits(EtcdCluster cluster) {
      this.cluster = cluster;
      this.operator = cluster.client(null);
    }

    private static ByteSequence bytes(String s) {
      return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public RegistryCenter newRegistry(RegistryPaths paths, String instancePath) {
      return new EtcdRegistry(
          new EtcdSettings(cluster.endpoints(), false, null, null, 5000, 6000),
          paths,
          instancePath);
    }

    @Override
    public void write(Map<String, byte[]> nodes) throws Exception {
      List<Op> batch = new ArrayList<>();
      long batchBytes = 0;
      for (Map.Entry<String, byte[]> e : nodes.entrySet()) {
        if (batch.size() >= 64 || batchBytes + e.getValue().length > 1_000_000) {
          flush(batch);
          batchBytes = 0;
        }
        batch.add(Op.put(bytes(e.getKey()), ByteSequence.from(e.getValue()), PutOption.DEFAULT));
        batchBytes += e.getValue().length;
      }
      flush(batch);
    }

    private void flush(List<Op> batch) throws Exception {
      if (!batch.isEmpty()) {
        operator
            .getKVClient()
            .txn()
            .Then(batch.toArray(new Op[0]))
            .commit()
            .get(30, TimeUnit.SECONDS);
        batch.clear();
      }
    }

    private KeyValue read(String path) throws Exception {
      List<KeyValue> kvs =
          operator.getKVClient().get(bytes(path)).get(10, TimeUnit.SECONDS).getKvs();
      return kvs.isEmpty() ? null : kvs.get(0);
    }

    /** Keeps the key's lease, as {@code sluice-cli set} does. */
    @Override
    public void set(String path, String value) throws Exception {
      KeyValue current = read(path);
      PutOption option =
          current == null || current.getLease() == 0
              ? PutOption.DEFAULT
              : PutOption.builder().withLeaseId(current.getLease()).build();
      operator.getKVClient().put(bytes(path), bytes(value), option).get(10, TimeUnit.SECONDS);
    }

    @Override
    public String get(String path) throws Exception {
      KeyValue kv = read(path);
      return kv == null ? null : kv.getValue().toString(StandardCharsets.UTF_8);
    }

    @Override
    public String incarnation(String path) throws Exception {
      KeyValue kv = read(path);
      return kv == null ? null : kv.getCreateRevision() + "/" + Long.toHexString(kv.getLease());
    }

    @Override
    public int largeValueBytes() {
      return LARGE;
    }

    @Override
    public void close() throws Exception {
      operator.close();
      cluster.close();
    }
  }
}
