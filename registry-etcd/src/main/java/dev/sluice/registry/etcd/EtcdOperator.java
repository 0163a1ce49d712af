package dev.sluice.registry.etcd;

import dev.sluice.registry.OperatorAccess;
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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** Operator access to etcd, for the CLI. */
final class EtcdOperator implements OperatorAccess {
  private final Client client;
  private final long timeoutMs;

  EtcdOperator(Client client, long timeoutMs) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Override
  public Map<String, String> children(String parent) throws Exception {
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

  @Override
  public String get(String path) throws Exception {
    List<KeyValue> kvs =
        client.getKVClient().get(bytes(path)).get(timeoutMs, TimeUnit.MILLISECONDS).getKvs();
    return kvs.isEmpty() ? null : kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
  }

  @Override
  public Map<String, String> subtree(String root) throws Exception {
    Map<String, String> out = new TreeMap<>();
    for (KeyValue kv :
        client
            .getKVClient()
            .get(bytes(root + "/"), GetOption.builder().isPrefix(true).build())
            .get(timeoutMs, TimeUnit.MILLISECONDS)
            .getKvs()) {
      out.put(
          kv.getKey().toString(StandardCharsets.UTF_8),
          kv.getValue().toString(StandardCharsets.UTF_8));
    }
    return out;
  }

  @Override
  public String leader(String electionPath) throws Exception {
    // the election API's keys are <name>/<lease>; the oldest key leads
    List<KeyValue> first =
        client
            .getKVClient()
            .get(
                bytes(electionPath + "/"),
                GetOption.builder()
                    .isPrefix(true)
                    .withSortField(GetOption.SortTarget.CREATE)
                    .withSortOrder(GetOption.SortOrder.ASCEND)
                    .withLimit(1)
                    .build())
            .get(timeoutMs, TimeUnit.MILLISECONDS)
            .getKvs();
    return first.isEmpty() ? "" : first.get(0).getValue().toString(StandardCharsets.UTF_8);
  }

  /** Writes the value keeping the key's lease, so an instance key still expires with its JVM. */
  @Override
  public boolean set(String path, String value) throws Exception {
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
  public void put(String path, String value) throws Exception {
    client.getKVClient().put(bytes(path), bytes(value)).get(timeoutMs, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    client.close();
  }
}
