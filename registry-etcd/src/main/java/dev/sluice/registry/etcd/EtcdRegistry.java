package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.bytes;
import static dev.sluice.registry.etcd.EtcdCalls.describe;
import static dev.sluice.registry.etcd.EtcdCalls.value;

import dev.sluice.registry.DatasourceNodes;
import dev.sluice.registry.EphemeralNode;
import dev.sluice.registry.Faults;
import dev.sluice.registry.KeyListener;
import dev.sluice.registry.Leadership;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryLifecycle;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.ValueReporter;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.io.Closeable;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's key and the datasource keys in etcd, kept present and watched, with the semantics
 * of {@code ZooKeeperRegistry}.
 *
 * <p>This class wires its parts: {@link EtcdLease} (grant, keep-alive, loss, the connection state),
 * {@link EtcdInstanceKey} (the instance key), {@link EtcdWatches} (read at a revision and watch on,
 * in pages by {@link EtcdKeyPages}); what both backends do alike is in the {@code registry} module:
 * {@code RegistryLifecycle}, {@code DatasourceNodes}, {@code ValueReporter}, {@code
 * InstanceOwners}. It keeps the settings, the writes and the datasource keys' creation. The
 * primitives are parts of their own, wired here and closed with the registry: {@link EtcdKeyWatch}
 * (a watch on any key or prefix, read again after every reconnect and new lease), {@link
 * EtcdEphemeralKey} (a key under the lease, written again under each new one) and {@link
 * EtcdLeadership} (etcd's election API under the lease, with leadership-guarded writes).
 *
 * <p>The instance key is bound to a lease that the agent keeps alive, so the key of a crashed JVM
 * expires with its lease; datasource keys carry no lease. Whenever a lease is granted the instance
 * key is written with the value this instance last knew, under the same id. A plain {@code etcdctl
 * put} detaches a key from its lease: the value is taken as written and the key re-attached to this
 * agent's lease (guarded by the key's mod revision, so no newer write is overwritten).
 *
 * <p>Two watches run from the revision of the first read: one on this instance's key and one on the
 * datasource prefix. jetcd resumes both from the last revision they delivered after a reconnect;
 * when a watch fails for good (its revision compacted away), the keys are read again, every
 * difference to what was reported is reported, and the watches start again from that read. A watch
 * that cannot be started is logged and started again a second later. Other instances' keys are
 * never watched.
 *
 * <p>A deleted instance key whose lease is still alive (or that had none) is an operator's delete
 * and means "enabled". A key deleted by the expiry or revocation of this agent's lease changes
 * nothing: a new lease is granted and the key written again with the last known value. A deleted
 * datasource key that this JVM met is reported gone (enabled) and created again, empty, unless
 * someone created it first.
 *
 * <p>What etcd holds cannot exhaust this JVM or stop it from syncing: the datasource prefix is read
 * in pages at one revision (at most {@value EtcdKeyPages#PAGE_KEYS} keys, fewer when a response
 * would not fit into one gRPC message, a key alone without its value when even that does not fit),
 * and a watch response too large for one message makes the agent read the keys again that way and
 * watch on from there instead of resuming into the same response. No value is kept: per datasource
 * key (datasource depth only) the path and the mod revision last reported, about 100 bytes plus the
 * path; a value longer than {@link NodeValue#MAX_VALUE_BYTES} is unrecognised and only its first
 * bytes pass on, for the log.
 *
 * <p>Two JVMs with the same id (the legacy layout's {@code {ip}@-@{pid}}, e.g. PID 1 in containers
 * on host networking) share one key: the one that finds it bound to another live lease logs one
 * warning and obeys the key without moving it to its own lease, deleting or overwriting it; when
 * that lease ends (its JVM gone) the key is written again with the last known value, as after the
 * loss of its own lease. So an operator's {@code DISABLED} in that key governs both JVMs and
 * outlives either.
 *
 * <p>All registry work runs on one daemon thread; jetcd's callbacks only hand work to it, so no
 * blocking call ever runs on jetcd's threads. The one exception is a failed keep-alive stream: it
 * is reported to the listener ({@code connection(false)}) at once, on jetcd's thread.
 */
public final class EtcdRegistry implements RegistryCenter {

  private static final Logger log = LoggerFactory.getLogger(EtcdRegistry.class);

  private final RegistryLifecycle lifecycle = new RegistryLifecycle();
  private final EtcdSettings settings;
  private final RegistryPaths paths;
  private final String instancePath;
  private final ByteSequence instanceKey;
  private final ByteSequence datasourcePrefix;
  private final Client client;
  private final KV kv;
  private final EtcdWatches watches;
  private final ScheduledExecutorService worker = RegistryLifecycle.newWorker();
  private final CountDownLatch initialSync = new CountDownLatch(1);
  private final Faults faults = new Faults(log);
  private final ValueReporter values;
  private final DatasourceNodes datasourceNodes;
  private final EtcdInstanceKey instance;

  private final EtcdLease lease;
  private final Supplier<Watch> watchClient;
  private final List<EtcdKeyWatch> keyWatches = new CopyOnWriteArrayList<>();
  private final List<EtcdEphemeralKey> ephemeralKeys = new CopyOnWriteArrayList<>();
  private final List<EtcdLeadership> leaderships = new CopyOnWriteArrayList<>();

  /**
   * @param paths where the datasource keys live
   * @param instancePath this instance's key
   * @throws IllegalArgumentException when the TLS settings cannot be used
   */
  public EtcdRegistry(EtcdSettings settings, RegistryPaths paths, String instancePath) {
    this(settings, paths, instancePath, UnaryOperator.identity());
  }

  /**
   * @param watchClient wraps the client's watch client: where tests inject watch faults
   */
  EtcdRegistry(
      EtcdSettings settings,
      RegistryPaths paths,
      String instancePath,
      UnaryOperator<Watch> watchClient) {
    this.settings = settings;
    this.paths = paths;
    this.instancePath = instancePath;
    this.instanceKey = bytes(instancePath);
    this.datasourcePrefix = bytes(paths.datasourcesRoot() + "/");
    this.values = new ValueReporter(instancePath);
    this.datasourceNodes =
        new DatasourceNodes(worker, faults, this::isConnected, this::createDatasourceNode);
    this.client = settings.newClient();
    this.kv = client.getKVClient();
    this.watchClient = () -> watchClient.apply(client.getWatchClient());
    this.lease =
        new EtcdLease(
            client.getLeaseClient(),
            settings.ttlSeconds(),
            settings.describe(),
            settings.connectTimeoutMs,
            instancePath,
            values,
            lifecycle,
            worker,
            this::submit,
            new EtcdLease.Holder() {
              @Override
              public void granted(long id) throws Exception {
                instance.adopt(id);
                instance.register(id);
              }

              @Override
              public void established() throws Exception {
                if (!watches.watching()) {
                  watches.readAndWatch();
                }
              }

              @Override
              public void ready() {
                initialSync.countDown();
              }

              @Override
              public void connection(boolean connected) {
                values.listener().connection(connected);
              }

              @Override
              public void reconnected() {
                datasourceNodes.retryPending();
                ephemeralKeys.removeIf(EtcdEphemeralKey::closed);
                leaderships.removeIf(EtcdLeadership::closed);
                keyWatches.forEach(EtcdKeyWatch::read);
                ephemeralKeys.forEach(EtcdEphemeralKey::leaseInForce);
                leaderships.forEach(EtcdLeadership::leaseInForce);
              }
            });
    this.instance =
        new EtcdInstanceKey(
            kv,
            client.getLeaseClient(),
            instancePath,
            values,
            lease::id,
            lease::lost,
            lifecycle,
            worker,
            settings.connectTimeoutMs);
    this.watches =
        new EtcdWatches(
            new EtcdKeyPages(kv, settings.describe(), settings.connectTimeoutMs),
            this.watchClient,
            instanceKey,
            datasourcePrefix,
            paths,
            settings.describe(),
            lifecycle,
            worker,
            faults,
            this::submit,
            new EtcdWatches.Events() {
              @Override
              public void instanceRead(EtcdKeyPages.Entry current, boolean first) {
                instance.read(current, first);
              }

              @Override
              public void instanceEvent(WatchEvent event) {
                instance.event(event);
              }

              @Override
              public void datasourceValue(String path, String value, long revision) {
                EtcdRegistry.this.datasourceValue(path, value, revision);
              }
            });
  }

  @Override
  public void start(RegistryListener listener) {
    lifecycle.start();
    values.listenTo(Objects.requireNonNull(listener, "listener"));
    log.info("connecting to {} for {}", settings.describe(), instancePath);
    worker.execute(lease::establish);
  }

  @Override
  public boolean awaitInitialSync(long timeoutMs) throws InterruptedException {
    return initialSync.await(timeoutMs, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean isConnected() {
    return lease.isConnected() && lifecycle.running();
  }

  @Override
  public String sessionId() {
    long id = lease.id();
    return isConnected() ? "0x" + Long.toHexString(id) : "";
  }

  @Override
  public String backend() {
    return "ETCD";
  }

  @Override
  public String endpoints() {
    return settings.endpoints;
  }

  @Override
  public String instancePath() {
    return instancePath;
  }

  // ---------------------------------------------------------------- writes from other threads

  @Override
  public void writeInstanceValue(String value, long timeoutMs) throws RegistryException {
    long id = lease.id();
    write(instancePath, value, id, timeoutMs);
  }

  @Override
  public void writeDatasourceValue(String path, String value, long timeoutMs)
      throws RegistryException {
    write(path, value, 0, timeoutMs);
  }

  private void write(String path, String value, long leaseId, long timeoutMs)
      throws RegistryException {
    long revision = putKey(path, value, leaseId, timeoutMs);
    values.awaitSeen(path, revision, timeoutMs, settings.describe());
  }

  @Override
  public long put(String key, String value, long timeoutMs) throws RegistryException {
    return putKey(key, value, 0, timeoutMs);
  }

  /** Puts {@code path} (under lease {@code leaseId}, 0: none); the revision of the put. */
  private long putKey(String path, String value, long leaseId, long timeoutMs)
      throws RegistryException {
    if (!isConnected()) {
      throw new RegistryException(
          settings.describe() + " is not connected; " + path + " was not written");
    }
    try {
      PutOption option =
          leaseId == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(leaseId).build();
      return EtcdCalls.await(kv.put(bytes(path), bytes(value), option), timeoutMs)
          .getHeader()
          .getRevision();
    } catch (Exception e) {
      throw new RegistryException(
          "writing " + path + " to " + settings.describe() + " failed: " + describe(e), e);
    }
  }

  @Override
  public void ensureDatasourceNode(String path) {
    datasourceNodes.ensure(path);
  }

  // ---------------------------------------------------------------- worker thread

  private boolean running() {
    return lifecycle.running();
  }

  private <T> T await(CompletableFuture<T> future) throws Exception {
    return EtcdCalls.await(future, settings.connectTimeoutMs);
  }

  private void submit(Runnable task) {
    if (running()) {
      faults.execute(worker, "an etcd event", task);
    }
  }

  /** Worker: a datasource key holds {@code value} at {@code revision}, or is gone (null). */
  private void datasourceValue(String path, String value, long revision) {
    values.datasourceValue(path, value);
    values.seen(path, revision);
    if (value == null) {
      datasourceNodes.deleted(path);
    }
  }

  @Override
  public void ensureNode(String path, String value) {
    datasourceNodes.ensure(path, value);
  }

  private boolean createDatasourceNode(String path, String value) {
    ByteSequence key = bytes(path);
    try {
      TxnResponse created =
          await(
              kv.txn()
                  .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                  .Then(Op.put(key, bytes(value), PutOption.DEFAULT))
                  .commit());
      if (created.isSucceeded()) {
        log.info("created key {}", path);
      }
    } catch (Exception e) {
      log.warn("could not create {}: {}; retrying when connected again", path, describe(e));
      return false;
    }
    return true;
  }

  /**
   * {@inheritDoc}
   *
   * <p>An {@link EtcdKeyWatch}: read first when the registry connects (at once when it is
   * connected), and again after every reconnect and new lease.
   */
  @Override
  public Closeable watch(String key, boolean prefix, KeyListener listener) {
    EtcdKeyWatch watch =
        new EtcdKeyWatch(
            new EtcdKeyPages(kv, settings.describe(), settings.connectTimeoutMs),
            watchClient,
            Objects.requireNonNull(key, "key"),
            prefix,
            Objects.requireNonNull(listener, "listener"),
            settings.describe(),
            lifecycle,
            worker,
            this::submit);
    keyWatches.add(watch);
    submit(watch::read);
    return () -> {
      keyWatches.remove(watch);
      watch.close();
    };
  }

  /** {@inheritDoc} An {@link EtcdEphemeralKey} under this registry's lease. */
  @Override
  public EphemeralNode ephemeralNode(String path, String value) {
    EtcdEphemeralKey node =
        new EtcdEphemeralKey(
            kv,
            Objects.requireNonNull(path, "path"),
            value,
            lease::id,
            this::submit,
            settings.connectTimeoutMs);
    ephemeralKeys.add(node);
    submit(node::write);
    return node;
  }

  @Override
  public Leadership leadership(String path, String participantId, Leadership.Listener listener) {
    EtcdLeadership leadership =
        new EtcdLeadership(
            client.getElectionClient(),
            kv,
            client.getLeaseClient(),
            watchClient,
            Objects.requireNonNull(path, "path"),
            Objects.requireNonNull(participantId, "participantId"),
            Objects.requireNonNull(listener, "listener"),
            lease::id,
            this::isConnected,
            settings.ttlSeconds(),
            settings.describe(),
            settings.connectTimeoutMs,
            lifecycle,
            worker,
            this::submit,
            faults);
    leaderships.add(leadership);
    submit(leadership::campaign);
    return leadership;
  }

  @Override
  public void close() {
    if (!lifecycle.close()) {
      client.close();
      worker.shutdownNow();
      return;
    }
    worker.shutdownNow();
    keyWatches.forEach(EtcdKeyWatch::close);
    ephemeralKeys.forEach(EtcdEphemeralKey::stop);
    leaderships.forEach(EtcdLeadership::stop);
    lease.close(Math.min(settings.connectTimeoutMs, 2000));
    watches.close();
    try {
      client.close();
    } catch (RuntimeException e) {
      log.debug("closing the etcd client failed", e);
    }
  }
}
