package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.bytes;
import static dev.sluice.registry.etcd.EtcdCalls.describe;
import static dev.sluice.registry.etcd.EtcdCalls.notFound;
import static dev.sluice.registry.etcd.EtcdCalls.value;

import dev.sluice.registry.DatasourceNodes;
import dev.sluice.registry.Faults;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryLifecycle;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.ValueReporter;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import java.io.File;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's key and the datasource keys in etcd, kept present and watched, with the semantics
 * of {@code ZooKeeperRegistry}.
 *
 * <p>This class keeps the lease and the connection state; {@link EtcdInstanceKey} the instance key,
 * {@link EtcdWatches} reads and watches the keys (in pages, {@link EtcdKeyPages}); what both
 * backends do alike is in the {@code registry} module: {@code RegistryLifecycle}, {@code
 * DatasourceNodes}, {@code ValueReporter}, {@code InstanceOwners}.
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

  /** How to reach etcd. */
  public static final class Settings {
    final String endpoints;
    final boolean tls;
    final String caFile;
    final String user;
    final String password;
    final int connectTimeoutMs;
    final int sessionTimeoutMs;

    /**
     * @param endpoints {@code h1:2379,h2:2379}
     * @param tls whether to speak TLS ({@code etcd+https://})
     * @param caFile a PEM file of the certificate authorities to trust, or {@code null} for the
     *     JVM's default trust store
     * @param auth {@code user:password}, or {@code null}
     * @param sessionTimeoutMs the lease's time to live (rounded up to whole seconds, at least 2)
     */
    public Settings(
        String endpoints,
        boolean tls,
        String caFile,
        String auth,
        int connectTimeoutMs,
        int sessionTimeoutMs) {
      this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
      this.tls = tls;
      this.caFile = caFile;
      if (auth != null) {
        int colon = auth.indexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("etcd authentication needs user:password");
        }
        this.user = auth.substring(0, colon);
        this.password = auth.substring(colon + 1);
      } else {
        this.user = null;
        this.password = null;
      }
      this.connectTimeoutMs = connectTimeoutMs;
      this.sessionTimeoutMs = sessionTimeoutMs;
    }

    long ttlSeconds() {
      return Math.max(2, (sessionTimeoutMs + 999) / 1000);
    }

    String describe() {
      return (tls ? "etcd+https://" : "etcd://") + endpoints;
    }

    /**
     * A jetcd client for these settings, its threads daemons.
     *
     * @throws IllegalArgumentException when the TLS settings cannot be used
     */
    public Client newClient() {
      String scheme = tls ? "https://" : "http://";
      List<URI> uris = new ArrayList<>();
      for (String hostPort : endpoints.split(",")) {
        uris.add(URI.create(scheme + hostPort.trim()));
      }
      ClientBuilder builder =
          Client.builder()
              .endpoints(uris)
              .connectTimeout(Duration.ofMillis(connectTimeoutMs))
              .keepaliveTime(Duration.ofSeconds(5))
              .keepaliveTimeout(Duration.ofSeconds(3))
              .keepaliveWithoutCalls(true)
              .executorService(
                  Executors.newCachedThreadPool(
                      r -> {
                        Thread t = new Thread(r, "sluice-etcd");
                        t.setDaemon(true);
                        return t;
                      }));
      if (user != null) {
        builder.user(bytes(user)).password(bytes(password));
      }
      if (tls) {
        try {
          builder.sslContext(
              ssl -> {
                if (caFile != null) {
                  ssl.trustManager(new File(caFile));
                }
              });
        } catch (Exception | LinkageError e) {
          throw new IllegalArgumentException(
              "cannot use TLS for etcd"
                  + (caFile == null ? "" : " with the CA file " + caFile)
                  + ": "
                  + e,
              e);
        }
      }
      return builder.build();
    }
  }

  private final RegistryLifecycle lifecycle = new RegistryLifecycle();
  private final Settings settings;
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

  // Read anywhere; the lease is written on the worker thread only, the connection flag (and the
  // listener's connection reports) under connectionLock.
  private final Object connectionLock = new Object();
  private volatile long lease;
  private volatile boolean connected;

  // Worker thread only.
  private volatile CloseableClient keepAlive;
  private int failedAttempts;
  private boolean probing;

  /**
   * @param paths where the datasource keys live
   * @param instancePath this instance's key
   * @throws IllegalArgumentException when the TLS settings cannot be used
   */
  public EtcdRegistry(Settings settings, RegistryPaths paths, String instancePath) {
    this(settings, paths, instancePath, UnaryOperator.identity());
  }

  /**
   * @param watchClient wraps the client's watch client: where tests inject watch faults
   */
  EtcdRegistry(
      Settings settings,
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
    this.instance =
        new EtcdInstanceKey(
            kv,
            client.getLeaseClient(),
            instancePath,
            values,
            () -> lease,
            this::leaseLost,
            lifecycle,
            worker,
            settings.connectTimeoutMs);
    this.watches =
        new EtcdWatches(
            new EtcdKeyPages(kv, settings.describe(), settings.connectTimeoutMs),
            () -> watchClient.apply(client.getWatchClient()),
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
    worker.execute(this::establish);
  }

  @Override
  public boolean awaitInitialSync(long timeoutMs) throws InterruptedException {
    return initialSync.await(timeoutMs, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean isConnected() {
    return connected && lease != 0 && lifecycle.running();
  }

  @Override
  public String sessionId() {
    long id = lease;
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
    long id = lease;
    write(instancePath, value, id, timeoutMs);
  }

  @Override
  public void writeDatasourceValue(String path, String value, long timeoutMs)
      throws RegistryException {
    write(path, value, 0, timeoutMs);
  }

  private void write(String path, String value, long leaseId, long timeoutMs)
      throws RegistryException {
    if (!isConnected()) {
      throw new RegistryException(
          settings.describe() + " is not connected; " + path + " was not written");
    }
    long revision;
    try {
      PutOption option =
          leaseId == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(leaseId).build();
      revision =
          EtcdCalls.await(kv.put(bytes(path), bytes(value), option), timeoutMs)
              .getHeader()
              .getRevision();
    } catch (Exception e) {
      throw new RegistryException(
          "writing " + path + " to " + settings.describe() + " failed: " + describe(e), e);
    }
    values.awaitSeen(path, revision, timeoutMs, settings.describe());
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

  /** Grants a lease, registers the instance key and, the first time, reads and starts watching. */
  private void establish() {
    if (!running() || lease != 0) {
      return;
    }
    long granted = 0;
    try {
      granted = await(client.getLeaseClient().grant(settings.ttlSeconds())).getID();
      long id = granted;
      instance.adopt(id);
      keepAlive = client.getLeaseClient().keepAlive(id, keepAliveObserver(id));
      instance.register(id);
      lease = id;
      if (!watches.watching()) {
        watches.readAndWatch();
      }
      failedAttempts = 0;
      setConnected(true);
      if (initialSync.getCount() > 0) {
        initialSync.countDown();
      }
    } catch (Exception e) {
      if (keepAlive != null) {
        keepAlive.close();
        keepAlive = null;
      }
      lease = 0;
      if (granted != 0) {
        client.getLeaseClient().revoke(granted);
      }
      long delay = Math.min(5000, 250L << Math.min(failedAttempts, 5));
      if (failedAttempts++ == 0) {
        log.warn(
            "no lease from {}: {}; retrying in the background, the application goes on with the"
                + " last known state",
            settings.describe(),
            describe(e));
      } else {
        log.debug("{} still unreachable: {}", settings.describe(), describe(e));
      }
      setConnected(false);
      worker.schedule(this::establish, delay, TimeUnit.MILLISECONDS);
    }
  }

  private StreamObserver<LeaseKeepAliveResponse> keepAliveObserver(long id) {
    return new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse response) {
        submit(() -> keepAliveAnswered(id));
      }

      @Override
      public void onError(Throwable t) {
        if (!notFound(t)) {
          connectionBroken(id, t); // at once: the worker may be busy
        }
        submit(() -> keepAliveFailed(id, t));
      }

      @Override
      public void onCompleted() {
        submit(() -> leaseLost(id, "no keep-alive was answered within the lease's time to live"));
      }
    };
  }

  private void submit(Runnable task) {
    if (running()) {
      faults.execute(worker, "an etcd event", task);
    }
  }

  private void keepAliveAnswered(long id) {
    if (id == lease && !connected) {
      setConnected(true);
    }
  }

  private void keepAliveFailed(long id, Throwable t) {
    if (id != lease) {
      return;
    }
    if (notFound(t)) {
      leaseLost(id, "etcd no longer knows the lease");
      return;
    }
    connectionBroken(id, t);
    probe();
  }

  /**
   * Any thread: the keep-alive stream of lease {@code id} failed while the lease may still live.
   * Reported to the listener at once rather than through the worker, which may be waiting on etcd
   * itself: {@code on-registry-loss=cut-off} counts its grace from this report.
   */
  private void connectionBroken(long id, Throwable t) {
    synchronized (connectionLock) {
      if (id != lease || !connected || !running()) {
        return;
      }
      log.warn(
          "{} unreachable ({}); going on with the last known state",
          settings.describe(),
          describe(t));
      connected = false;
      values.listener().connection(false);
    }
  }

  /** While the connection is down, asks every 500 ms whether etcd answers and the lease lives. */
  private void probe() {
    if (probing || !running()) {
      return;
    }
    probing = true;
    worker.schedule(
        () -> {
          probing = false;
          long id = lease;
          if (!running() || id == 0 || connected) {
            return;
          }
          try {
            await(client.getLeaseClient().keepAliveOnce(id));
            setConnected(true);
          } catch (Exception e) {
            if (notFound(e)) {
              leaseLost(id, "etcd no longer knows the lease");
            } else {
              probe();
            }
          }
        },
        500,
        TimeUnit.MILLISECONDS);
  }

  private void leaseLost(long id, String why) {
    if (id != lease || !running()) {
      return;
    }
    log.warn(
        "etcd lease 0x{} lost ({}); {} will be re-created with its last known value {}",
        Long.toHexString(id),
        why,
        instancePath,
        NodeValue.printable(values.lastKnownValue()));
    lease = 0;
    if (keepAlive != null) {
      keepAlive.close();
      keepAlive = null;
    }
    setConnected(false);
    establish();
  }

  private void setConnected(boolean now) {
    synchronized (connectionLock) {
      if (connected == now || !running()) {
        return;
      }
      connected = now;
      if (now) {
        log.info("{} connected (lease 0x{})", settings.describe(), Long.toHexString(lease));
      }
      values.listener().connection(now);
    }
    if (now) {
      datasourceNodes.retryPending();
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

  private boolean createDatasourceNode(String path) {
    ByteSequence key = bytes(path);
    try {
      TxnResponse created =
          await(
              kv.txn()
                  .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                  .Then(Op.put(key, ByteSequence.EMPTY, PutOption.DEFAULT))
                  .commit());
      if (created.isSucceeded()) {
        log.info("created datasource key {}", path);
      }
    } catch (Exception e) {
      log.warn("could not create {}: {}; retrying when connected again", path, describe(e));
      return false;
    }
    return true;
  }

  @Override
  public void close() {
    if (!lifecycle.close()) {
      client.close();
      worker.shutdownNow();
      return;
    }
    worker.shutdownNow();
    long id = lease;
    if (keepAlive != null) {
      keepAlive.close();
    }
    // Revoking the lease deletes the instance key at once, as closing a ZooKeeper session does.
    if (id != 0) {
      try {
        EtcdCalls.await(
            client.getLeaseClient().revoke(id), Math.min(settings.connectTimeoutMs, 2000));
      } catch (Exception e) {
        log.warn(
            "could not revoke lease 0x{} ({}); {} goes away when the lease expires",
            Long.toHexString(id),
            describe(e),
            instancePath);
      }
    }
    watches.close();
    try {
      client.close();
    } catch (RuntimeException e) {
      log.debug("closing the etcd client failed", e);
    }
  }
}
