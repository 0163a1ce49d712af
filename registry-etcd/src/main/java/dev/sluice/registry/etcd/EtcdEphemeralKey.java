package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.await;
import static dev.sluice.registry.etcd.EtcdCalls.bytes;
import static dev.sluice.registry.etcd.EtcdCalls.describe;

import dev.sluice.registry.EphemeralNode;
import dev.sluice.registry.NodeValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key bound to the registry's lease besides the instance key ({@link EphemeralNode}): written
 * with its value under the lease in force, or, while there is none, as soon as one is granted; and
 * written again with its last value under each new lease after a lost one, as the instance key is.
 *
 * <p>{@link #set} and {@link #close} may be called on any thread: they only hand the work to the
 * registry's worker thread, which does all calls to etcd (each bounded by the connect timeout). A
 * write that fails is logged and made again when the registry reconnects ({@link #leaseInForce}).
 * {@link #close} deletes the key unless someone wrote it since this agent did; closing the registry
 * revokes its lease, which deletes the key with it. A key deleted by someone else stays deleted
 * until the next {@link #set} or the next lease.
 */
final class EtcdEphemeralKey implements EphemeralNode {

  private static final Logger log = LoggerFactory.getLogger(EtcdEphemeralKey.class);

  private final KV kv;
  private final String path;
  private final ByteSequence key;
  private final LongSupplier lease;
  private final Executor worker;
  private final long timeoutMs;
  private volatile String value;
  private volatile boolean closed;

  // Worker thread only: the lease and revision of this agent's last write, 0 for none.
  private long writtenLease;
  private long writtenRevision;

  /**
   * @param lease the registry's lease in force, 0 while it has none
   * @param worker hands the work to the registry's worker thread (drops it once the registry is
   *     closed)
   */
  EtcdEphemeralKey(
      KV kv, String path, String value, LongSupplier lease, Executor worker, long timeoutMs) {
    this.kv = kv;
    this.path = path;
    this.key = bytes(path);
    this.value = Objects.requireNonNull(value, "value");
    this.lease = lease;
    this.worker = worker;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public void set(String value) {
    this.value = Objects.requireNonNull(value, "value");
    worker.execute(this::write);
  }

  /** Worker: the lease in force may be new (or back): writes the key unless written under it. */
  void leaseInForce() {
    if (writtenLease != lease.getAsLong()) {
      write();
    }
  }

  /** Worker: writes the last value under the lease in force, if there is one. */
  void write() {
    long id = lease.getAsLong();
    if (closed || id == 0) {
      return; // written when a lease is granted (leaseInForce)
    }
    String now = value;
    try {
      writtenRevision =
          await(kv.put(key, bytes(now), PutOption.builder().withLeaseId(id).build()), timeoutMs)
              .getHeader()
              .getRevision();
      writtenLease = id;
    } catch (Exception e) {
      writtenLease = 0;
      log.warn(
          "could not write {} with value {}: {}; retrying when connected again",
          path,
          NodeValue.printable(now),
          describe(e));
    }
  }

  /** Worker: deletes the key unless someone wrote it after this agent did. */
  private void delete() {
    if (writtenLease == 0) {
      return;
    }
    try {
      await(
          kv.txn()
              .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(writtenRevision)))
              .Then(Op.delete(key, DeleteOption.DEFAULT))
              .commit(),
          timeoutMs);
    } catch (Exception e) {
      log.warn("could not delete {}: {}; it goes away with the lease", path, describe(e));
    }
    writtenLease = 0;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      worker.execute(this::delete);
    }
  }

  boolean closed() {
    return closed;
  }

  /** The registry closes: its lease's revocation deletes the key; nothing more is written. */
  void stop() {
    closed = true;
  }
}
