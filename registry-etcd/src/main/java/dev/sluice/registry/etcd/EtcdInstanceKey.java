package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.await;
import static dev.sluice.registry.etcd.EtcdCalls.bytes;
import static dev.sluice.registry.etcd.EtcdCalls.describe;
import static dev.sluice.registry.etcd.EtcdCalls.text;
import static dev.sluice.registry.etcd.EtcdCalls.value;

import dev.sluice.registry.InstanceOwners;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryLifecycle;
import dev.sluice.registry.ValueReporter;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's key: written under the agent's lease with the last known value, kept bound to
 * that lease, and told apart when it goes away.
 *
 * <p>A plain {@code etcdctl put} detaches the key from its lease: the value is taken as written and
 * the key re-attached to this agent's lease (guarded by the key's mod revision, so no newer write
 * is overwritten). A deleted key whose lease is still alive (or that had none) is an operator's
 * delete and means "enabled"; a key deleted by the expiry or revocation of this agent's lease
 * changes nothing: the lease is reported lost, and the key comes back with the next lease and the
 * last known value. A key bound to another live lease belongs to another JVM under the same id
 * ({@link InstanceOwners}): it is obeyed, never moved, deleted or overwritten.
 *
 * <p>Runs on the registry's worker thread; each call to etcd waits at most the connect timeout.
 */
final class EtcdInstanceKey {

  private static final Logger log = LoggerFactory.getLogger(EtcdInstanceKey.class);

  private final KV kv;
  private final Lease leases;
  private final String instancePath;
  private final ByteSequence instanceKey;
  private final ValueReporter values;
  private final LongSupplier lease;
  private final BiConsumer<Long, String> leaseLost;
  private final RegistryLifecycle lifecycle;
  private final ScheduledExecutorService worker;
  private final long timeoutMs;
  // The leases this agent has had: a key bound to one of them is ours, a key bound to any other
  // live lease belongs to another JVM with the same id.
  private final InstanceOwners owners = new InstanceOwners();

  // Worker thread only: the revision of our own re-attaching write, whose event is no new value.
  private long reattachRevision = -1;

  /**
   * @param lease the agent's current lease, 0 while it has none
   * @param leaseLost told (lease, why) when the key went away with the agent's own lease
   */
  EtcdInstanceKey(
      KV kv,
      Lease leases,
      String instancePath,
      ValueReporter values,
      LongSupplier lease,
      BiConsumer<Long, String> leaseLost,
      RegistryLifecycle lifecycle,
      ScheduledExecutorService worker,
      long timeoutMs) {
    this.kv = kv;
    this.leases = leases;
    this.instancePath = instancePath;
    this.instanceKey = bytes(instancePath);
    this.values = values;
    this.lease = lease;
    this.leaseLost = leaseLost;
    this.lifecycle = lifecycle;
    this.worker = worker;
    this.timeoutMs = timeoutMs;
  }

  /** Lease {@code id} is this agent's: a key bound to it is ours. */
  void adopt(long id) {
    owners.adopt(id);
  }

  /**
   * Writes the instance key with the last known value under lease {@code id}, unless a key is
   * there: its value (an operator's, or ours from an earlier lease) is then the newest word on this
   * instance and is kept, the key moved to this lease.
   */
  void register(long id) throws Exception {
    PutOption withLease = PutOption.builder().withLeaseId(id).build();
    String lastKnownValue = values.lastKnownValue();
    for (int attempt = 0; attempt < 5; attempt++) {
      TxnResponse created =
          await(
              kv.txn()
                  .If(new Cmp(instanceKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
                  .Then(Op.put(instanceKey, bytes(lastKnownValue), withLease))
                  .Else(Op.get(instanceKey, GetOption.DEFAULT))
                  .commit(),
              timeoutMs);
      if (created.isSucceeded()) {
        log.info("registered {} with value {}", instancePath, NodeValue.printable(lastKnownValue));
        return;
      }
      List<KeyValue> present = created.getGetResponses().get(0).getKvs();
      if (present.isEmpty()) {
        continue; // deleted in between
      }
      KeyValue current = present.get(0);
      if (current.getLease() == id) {
        return;
      }
      if (foreign(current.getLease())) {
        share(current.getLease());
        return;
      }
      if (bindToLease(current, id)) {
        log.info(
            "took over {} with value {}",
            instancePath,
            NodeValue.printable(text(current.getValue())));
        return;
      }
    }
    throw new IllegalStateException(instancePath + " kept changing while being registered");
  }

  /**
   * Moves the instance key to lease {@code id}, keeping its value, unless it changed since {@code
   * current} was read. Returns whether it moved.
   */
  private boolean bindToLease(KeyValue current, long id) throws Exception {
    TxnResponse moved =
        await(
            kv.txn()
                .If(
                    new Cmp(
                        instanceKey, Cmp.Op.EQUAL, CmpTarget.modRevision(current.getModRevision())))
                .Then(
                    Op.put(
                        instanceKey,
                        current.getValue(),
                        PutOption.builder().withLeaseId(id).build()))
                .commit(),
            timeoutMs);
    if (moved.isSucceeded()) {
      reattachRevision = moved.getHeader().getRevision();
    }
    return moved.isSucceeded();
  }

  /** Worker: the key as read, not through the watch; see {@link EtcdWatches.Events}. */
  void read(EtcdKeyPages.Entry current, boolean first) {
    if (first || !current.value.equals(values.lastKnownValue())) {
      values.instanceValue(current.value);
    }
    values.seen(instancePath, current.modRevision);
  }

  /** Worker: one event of the key's watch. */
  void event(WatchEvent event) {
    KeyValue kv = event.getKeyValue();
    long revision = kv.getModRevision();
    if (event.getEventType() == WatchEvent.EventType.DELETE) {
      values.seen(instancePath, revision);
      instanceDeleted(event.getPrevKV());
      return;
    }
    if (revision != reattachRevision) {
      values.instanceValue(value(kv));
    }
    values.seen(instancePath, revision);
    long id = lease.getAsLong();
    if (id != 0 && kv.getLease() != id && foreign(kv.getLease())) {
      share(kv.getLease());
    } else if (id != 0 && kv.getLease() != id) {
      // A plain put detached the key from our lease: keep the value, re-attach the key, so it
      // still goes away with this JVM.
      try {
        bindToLease(kv, id);
      } catch (Exception e) {
        if (lifecycle.running()) {
          log.warn("could not re-attach {} to its lease: {}", instancePath, describe(e));
        }
      }
    }
  }

  private void instanceDeleted(KeyValue previous) {
    long owner = previous == null ? 0 : previous.getLease();
    if (owner != 0 && !leaseAlive(owner)) {
      // Gone with a lease, not by an operator's hand: the last known value stays in force.
      if (owner == lease.getAsLong()) {
        leaseLost.accept(owner, "its keys were deleted");
      } else {
        reRegister();
      }
      return;
    }
    log.info("{} was deleted: instance enabled; re-creating it empty", instancePath);
    values.instanceDeleted();
    reRegister();
  }

  private void reRegister() {
    long id = lease.getAsLong();
    if (id == 0) {
      return; // establish() registers it with the next lease
    }
    try {
      register(id);
    } catch (Exception e) {
      if (!lifecycle.running()) {
        return;
      }
      log.warn("could not register {}: {}; retrying", instancePath, describe(e));
      worker.schedule(this::reRegister, 1000, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Whether {@code owner} is another agent's live lease: the key under our path is then another
   * JVM's with the same id.
   */
  private boolean foreign(long owner) {
    return owners.foreign(owner, lease.getAsLong()) && leaseAlive(owner);
  }

  /**
   * Another JVM registered under our id (the legacy layout's {@code {ip}@-@{pid}} is the same for
   * two JVMs with one IP and PID). Moving its key to our lease would make it move the key back, in
   * a loop; instead both obey the one key.
   */
  private void share(long owner) {
    if (owners.share(owner)) {
      log.warn(
          "{} is bound to another live etcd lease 0x{}: another JVM has the same instance id"
              + " (under the legacy layout, {ip}@-@{pid} is the same for two JVMs with one IP and"
              + " PID). Sharing the key: this instance obeys its value, never moves, deletes or"
              + " overwrites it, and writes it again with its last known value when that lease"
              + " ends. Use layout v5 for ids that cannot collide",
          instancePath,
          Long.toHexString(owner));
    }
  }

  /** Whether etcd still knows the lease; when etcd cannot say, the lease counts as lost. */
  private boolean leaseAlive(long id) {
    try {
      return await(leases.timeToLive(id, LeaseOption.DEFAULT), timeoutMs).getTTL() > 0;
    } catch (Exception e) {
      return false;
    }
  }
}
