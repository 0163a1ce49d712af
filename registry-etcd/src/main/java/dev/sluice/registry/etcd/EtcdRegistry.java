package dev.sluice.registry.etcd;

import dev.sluice.registry.Faults;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.SeenWrites;
import dev.sluice.registry.UnrecognisedValues;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's key and the datasource keys in etcd, kept present and watched, with the semantics
 * of {@code ZooKeeperRegistry}.
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
 * in pages at one revision (at most {@value #PAGE_KEYS} keys, fewer when a response would not fit
 * into one gRPC message, a key alone without its value when even that does not fit), and a watch
 * response too large for one message makes the agent read the keys again that way and watch on from
 * there instead of resuming into the same response. No value is kept: per datasource key
 * (datasource depth only) the path and the mod revision last reported, about 100 bytes plus the
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

  private enum State {
    LATENT,
    STARTED,
    CLOSED
  }

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

  private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
  private final Settings settings;
  private final RegistryPaths paths;
  private final String instancePath;
  private final ByteSequence instanceKey;
  private final ByteSequence datasourcePrefix;
  private final Client client;
  private final KV kv;
  private final UnaryOperator<Watch> watchClient;
  private final ScheduledExecutorService worker;
  private final CountDownLatch initialSync = new CountDownLatch(1);
  private final SeenWrites seen = new SeenWrites();
  private final Faults faults = new Faults(log);
  private final String startingWatches;
  private final Set<String> metDatasourceNodes = ConcurrentHashMap.newKeySet();
  private final Set<String> pendingDatasourceNodes = ConcurrentHashMap.newKeySet();
  private volatile RegistryListener listener;
  // The leases this agent has had: a key bound to one of them is ours, a key bound to any other
  // live lease belongs to another JVM with the same id.
  private final Set<Long> ownLeases = ConcurrentHashMap.newKeySet();

  // Read anywhere; the lease is written on the worker thread only, the connection flag (and the
  // listener's connection reports) under connectionLock.
  private final Object connectionLock = new Object();
  private volatile long lease;
  private volatile boolean connected;

  // Worker thread only.
  private volatile CloseableClient keepAlive;
  private String lastKnownValue = "";
  // Per datasource key the mod revision last reported: never a value.
  private final Map<String, Long> datasources = new HashMap<>();
  private final UnrecognisedValues unrecognised = new UnrecognisedValues();
  private final List<Watch.Watcher> watchers = new CopyOnWriteArrayList<>();
  private int watchGeneration;
  private boolean watching;
  private long instanceRevision;
  private long datasourceRevision;
  private long reattachRevision = -1;
  private int failedAttempts;
  private boolean probing;
  private long sharedWith;

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
    this.watchClient = watchClient;
    this.paths = paths;
    this.instancePath = instancePath;
    this.startingWatches = "starting the watches on " + settings.describe();
    this.instanceKey = bytes(instancePath);
    this.datasourcePrefix = bytes(paths.datasourcesRoot() + "/");
    this.worker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sluice-registry");
              t.setDaemon(true);
              return t;
            });
    this.client = settings.newClient();
    this.kv = client.getKVClient();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static String text(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  @Override
  public void start(RegistryListener listener) {
    if (!state.compareAndSet(State.LATENT, State.STARTED)) {
      throw new IllegalStateException("already started or closed");
    }
    this.listener = Objects.requireNonNull(listener, "listener");
    log.info("connecting to {} for {}", settings.describe(), instancePath);
    worker.execute(this::establish);
  }

  @Override
  public boolean awaitInitialSync(long timeoutMs) throws InterruptedException {
    return initialSync.await(timeoutMs, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean isConnected() {
    return connected && lease != 0 && state.get() == State.STARTED;
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
          await(kv.put(bytes(path), bytes(value), option), timeoutMs).getHeader().getRevision();
    } catch (Exception e) {
      throw new RegistryException(
          "writing " + path + " to " + settings.describe() + " failed: " + describe(e), e);
    }
    seen.await(path, revision, timeoutMs, settings.describe());
  }

  @Override
  public void ensureDatasourceNode(String path) {
    metDatasourceNodes.add(path);
    if (pendingDatasourceNodes.add(path)) {
      // Through Faults: after close (the agent's shutdown hook) the worker rejects work, and a
      // connect that meets a new datasource then must not see that.
      faults.execute(worker, "creating " + path, () -> createDatasourceNode(path));
    }
  }

  // ---------------------------------------------------------------- worker thread

  private boolean running() {
    return state.get() == State.STARTED;
  }

  private <T> T await(CompletableFuture<T> future) throws Exception {
    return await(future, settings.connectTimeoutMs);
  }

  private static <T> T await(CompletableFuture<T> future, long timeoutMs) throws Exception {
    try {
      return future.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof Exception ? (Exception) cause : e;
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new TimeoutException("no answer within " + timeoutMs + " ms");
    }
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : message;
  }

  private static boolean notFound(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof EtcdException && ((EtcdException) t).getErrorCode() == ErrorCode.NOT_FOUND) {
        return true;
      }
    }
    return false;
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
      ownLeases.add(id);
      keepAlive = client.getLeaseClient().keepAlive(id, keepAliveObserver(id));
      registerInstance(id);
      lease = id;
      if (!watching) {
        readAndWatch();
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
      listener.connection(false);
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
        NodeValue.printable(lastKnownValue));
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
      listener.connection(now);
    }
    if (now) {
      new ArrayList<>(pendingDatasourceNodes).forEach(this::createDatasourceNode);
    }
  }

  /**
   * Writes the instance key with the last known value under lease {@code id}, unless a key is
   * there: its value (an operator's, or ours from an earlier lease) is then the newest word on this
   * instance and is kept, the key moved to this lease.
   */
  private void registerInstance(long id) throws Exception {
    PutOption withLease = PutOption.builder().withLeaseId(id).build();
    for (int attempt = 0; attempt < 5; attempt++) {
      TxnResponse created =
          await(
              kv.txn()
                  .If(new Cmp(instanceKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
                  .Then(Op.put(instanceKey, bytes(lastKnownValue), withLease))
                  .Else(Op.get(instanceKey, GetOption.DEFAULT))
                  .commit());
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
                .commit());
    if (moved.isSucceeded()) {
      reattachRevision = moved.getHeader().getRevision();
    }
    return moved.isSucceeded();
  }

  /**
   * Reads the instance key and the datasource keys, reports what changed, and watches on.
   *
   * <p>The datasource prefix is read in pages of at most {@value #PAGE_KEYS} keys, every page at
   * the revision of the first read, so the whole is one consistent snapshot and the watches resume
   * right after it. No response has to hold the whole prefix: a page too large for one gRPC message
   * (4 MiB by default) is read again in halves, down to single keys, and a single key too large for
   * one message is read without its value, which is then unrecognised.
   */
  private void readAndWatch() throws Exception {
    closeWatchers();
    Page first = page(instanceKey, null, 0, 1);
    long revision = first.revision;
    if (!first.entries.isEmpty()) {
      Entry current = first.entries.get(0);
      if (!watching || !current.value.equals(lastKnownValue)) {
        instanceValue(current.value);
      }
      seen.seen(instancePath, current.modRevision);
    }
    Set<String> present = new HashSet<>();
    ByteSequence end = OptionsUtil.prefixEndOf(datasourcePrefix);
    ByteSequence from = datasourcePrefix;
    int limit = PAGE_KEYS;
    while (true) {
      Page page = page(from, end, revision, limit);
      for (Entry e : page.entries) {
        if (paths.isDatasourcePath(e.path)) {
          present.add(e.path);
          Long known = datasources.get(e.path);
          if (known == null || known != e.modRevision) {
            datasourceValue(e.path, e.value, e.modRevision);
          }
        }
      }
      if (!page.more || page.entries.isEmpty()) {
        break;
      }
      from = after(page.entries.get(page.entries.size() - 1).key);
      limit = Math.min(PAGE_KEYS, page.limit * 2);
    }
    for (String gone : new ArrayList<>(datasources.keySet())) {
      if (!present.contains(gone)) {
        datasourceValue(gone, null, revision);
      }
    }
    instanceRevision = revision;
    datasourceRevision = revision;
    watching = true;
    startWatchesOrRetry();
  }

  /** The most keys one read of the datasource prefix asks for. */
  static final int PAGE_KEYS = 256;

  /** A key as the agent keeps it while reading: its value bounded. */
  private static final class Entry {
    final ByteSequence key;
    final String path;
    final String value;
    final long modRevision;

    Entry(KeyValue kv, String value) {
      this.key = kv.getKey();
      this.path = text(kv.getKey());
      this.value = value;
      this.modRevision = kv.getModRevision();
    }
  }

  private static final class Page {
    final long revision;
    final List<Entry> entries = new ArrayList<>();
    final boolean more;
    final int limit;

    Page(GetResponse response, int limit, boolean valuesRead) {
      this.revision = response.getHeader().getRevision();
      this.more = response.isMore();
      this.limit = limit;
      for (KeyValue kv : response.getKvs()) {
        entries.add(new Entry(kv, valuesRead ? value(kv) : TOO_LARGE));
      }
    }
  }

  /** Stands for a value too large for one gRPC message: unrecognised, never valid. */
  static final String TOO_LARGE = "(not read: too large for one etcd response)";

  /**
   * At most {@code limit} keys from {@code from} (to {@code end}, or {@code from} alone when {@code
   * end} is {@code null}) at {@code revision} (0: the newest), in as many reads as it takes to fit
   * each response into one gRPC message: when one does not fit, half as many keys are asked for,
   * and a single key that does not fit is read without its value.
   */
  private Page page(ByteSequence from, ByteSequence end, long revision, int limit)
      throws Exception {
    GetOption.Builder option = GetOption.builder().withLimit(limit).withRevision(revision);
    if (end != null) {
      option.withRange(end);
    }
    try {
      return new Page(await(kv.get(from, option.build())), limit, true);
    } catch (Exception e) {
      if (!tooLarge(e)) {
        throw e;
      }
      if (limit > 1) {
        return page(from, end, revision, limit / 2);
      }
      log.warn(
          "a key at {} is too large for one response of {}; read without its value, which is"
              + " unrecognised",
          text(from),
          settings.describe());
      return new Page(await(kv.get(from, option.withKeysOnly(true).build())), limit, false);
    }
  }

  /** The smallest key after {@code key}. */
  private static ByteSequence after(ByteSequence key) {
    return key.concat(ByteSequence.from(new byte[] {0}));
  }

  private static String value(KeyValue kv) {
    return NodeValue.decodeBounded(kv.getValue().getBytes());
  }

  /** Whether a response did not fit into one gRPC message. */
  private static boolean tooLarge(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof EtcdException
          && ((EtcdException) t).getErrorCode() == ErrorCode.RESOURCE_EXHAUSTED) {
        return true;
      }
      if (Status.fromThrowable(t).getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        return true;
      }
    }
    return false;
  }

  /**
   * Starts both watches; when that fails (a fault: jetcd only refuses a closed client), the fault
   * is logged and the watches are started again a second later. Never throws: a failure thrown from
   * here into establish() would be taken for a lost connection, which re-grants the lease but does
   * not start the watches again, and one thrown from a scheduled task is never seen.
   */
  private void startWatchesOrRetry() {
    if (running() && !faults.guard(startingWatches, this::startWatches)) {
      log.warn("starting the watches on {} again in 1 s", settings.describe());
      scheduleWatches(1000);
    }
  }

  private void scheduleWatches(long delayMs) {
    try {
      worker.schedule(this::startWatchesOrRetry, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      // the registry is closed: no watches any more
    }
  }

  /** Starts both watches from the revision after the last one each has delivered. */
  private void startWatches() {
    closeWatchers();
    int generation = ++watchGeneration;
    Watch watch = watchClient.apply(client.getWatchClient());
    watchers.add(
        watch.watch(
            instanceKey,
            WatchOption.builder().withRevision(instanceRevision + 1).withPrevKV(true).build(),
            listener(generation, this::instanceEvents)));
    watchers.add(
        watch.watch(
            datasourcePrefix,
            WatchOption.builder().withRevision(datasourceRevision + 1).isPrefix(true).build(),
            listener(generation, this::datasourceEvents)));
  }

  private Watch.Listener listener(int generation, Consumer<WatchResponse> events) {
    return Watch.listener(
        response ->
            submit(
                () -> {
                  if (generation == watchGeneration && running()) {
                    events.accept(response);
                  }
                }),
        error -> submit(() -> watchFailed(generation, error)),
        () -> submit(() -> watchFailed(generation, null)));
  }

  private void watchFailed(int generation, Throwable error) {
    if (generation != watchGeneration || !running()) {
      return;
    }
    watchGeneration++; // ignore whatever the failed watches still deliver
    if (compacted(error)) {
      log.warn(
          "{} compacted the revisions the watch had not delivered yet; reading the keys again and"
              + " reporting every difference",
          settings.describe());
      worker.execute(this::resync);
    } else if (tooLarge(error)) {
      // Resuming from the same revision would meet the same response again, for ever. Reading in
      // pages gets past it (a value too large is unrecognised), and the watches resume after it.
      log.warn(
          "a watch response of {} was too large for one gRPC message; reading the keys again in"
              + " pages and watching on from there",
          settings.describe());
      worker.execute(this::resync);
    } else {
      log.info(
          "the watch on {} ended ({}); resuming after the last revision it delivered ({})",
          settings.describe(),
          error == null ? "closed by the server" : describe(error),
          Math.max(instanceRevision, datasourceRevision));
      scheduleWatches(200);
    }
  }

  private static boolean compacted(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof CompactedException) {
        return true;
      }
    }
    return false;
  }

  private void resync() {
    if (!running()) {
      return;
    }
    try {
      readAndWatch();
    } catch (Exception e) {
      log.debug("reading {} again failed: {}; retrying", settings.describe(), describe(e));
      worker.schedule(this::resync, 1000, TimeUnit.MILLISECONDS);
    }
  }

  private void closeWatchers() {
    watchers.forEach(
        w -> {
          try {
            w.close();
          } catch (RuntimeException e) {
            log.debug("closing a watch failed", e);
          }
        });
    watchers.clear();
  }

  private void instanceValue(String value) {
    unrecognised.check(instancePath, value);
    lastKnownValue = value;
    listener.instanceValue(value);
  }

  private void datasourceValue(String path, String value, long revision) {
    if (value == null) {
      unrecognised.forget(path);
      datasources.remove(path);
    } else {
      unrecognised.check(path, value);
      datasources.put(path, revision);
    }
    listener.datasourceValue(path, value);
    seen.seen(path, revision);
    if (value == null && metDatasourceNodes.contains(path)) {
      // Deleting is how an operator re-enables; a later put of DISABLED by a tool that only
      // updates needs the key there. Created only if absent: an operator's own new key wins.
      log.info("{} was deleted: datasource enabled; re-creating it empty", path);
      pendingDatasourceNodes.add(path);
      createDatasourceNode(path);
    }
  }

  private void datasourceEvents(WatchResponse response) {
    for (WatchEvent event : response.getEvents()) {
      KeyValue kv = event.getKeyValue();
      datasourceRevision = Math.max(datasourceRevision, kv.getModRevision());
      String path = text(kv.getKey());
      if (!paths.isDatasourcePath(path)) {
        continue; // the schema level, or an unexpected key: not a datasource
      }
      boolean deleted = event.getEventType() == WatchEvent.EventType.DELETE;
      datasourceValue(path, deleted ? null : value(kv), kv.getModRevision());
    }
  }

  private void instanceEvents(WatchResponse response) {
    for (WatchEvent event : response.getEvents()) {
      KeyValue kv = event.getKeyValue();
      long revision = kv.getModRevision();
      instanceRevision = Math.max(instanceRevision, revision);
      if (event.getEventType() == WatchEvent.EventType.DELETE) {
        seen.seen(instancePath, revision);
        instanceDeleted(event.getPrevKV());
        continue;
      }
      if (revision != reattachRevision) {
        instanceValue(value(kv));
      }
      seen.seen(instancePath, revision);
      long id = lease;
      if (id != 0 && kv.getLease() != id && foreign(kv.getLease())) {
        share(kv.getLease());
      } else if (id != 0 && kv.getLease() != id) {
        // A plain put detached the key from our lease: keep the value, re-attach the key, so it
        // still goes away with this JVM.
        try {
          bindToLease(kv, id);
        } catch (Exception e) {
          if (running()) {
            log.warn("could not re-attach {} to its lease: {}", instancePath, describe(e));
          }
        }
      }
    }
  }

  private void instanceDeleted(KeyValue previous) {
    long owner = previous == null ? 0 : previous.getLease();
    if (owner != 0 && !leaseAlive(owner)) {
      // Gone with a lease, not by an operator's hand: the last known value stays in force.
      if (owner == lease) {
        leaseLost(owner, "its keys were deleted");
      } else {
        reRegister();
      }
      return;
    }
    log.info("{} was deleted: instance enabled; re-creating it empty", instancePath);
    unrecognised.forget(instancePath);
    lastKnownValue = "";
    listener.instanceValue(null);
    reRegister();
  }

  private void reRegister() {
    long id = lease;
    if (id == 0) {
      return; // establish() registers it with the next lease
    }
    try {
      registerInstance(id);
    } catch (Exception e) {
      if (!running()) {
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
    return owner != 0 && owner != lease && !ownLeases.contains(owner) && leaseAlive(owner);
  }

  /**
   * Another JVM registered under our id (the legacy layout's {@code {ip}@-@{pid}} is the same for
   * two JVMs with one IP and PID). Moving its key to our lease would make it move the key back, in
   * a loop; instead both obey the one key.
   */
  private void share(long owner) {
    if (sharedWith != owner) {
      sharedWith = owner;
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
      return await(client.getLeaseClient().timeToLive(id, LeaseOption.DEFAULT)).getTTL() > 0;
    } catch (Exception e) {
      return false;
    }
  }

  private void createDatasourceNode(String path) {
    if (!isConnected() || !pendingDatasourceNodes.contains(path)) {
      return; // retried when the connection is back
    }
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
      return;
    }
    pendingDatasourceNodes.remove(path);
  }

  @Override
  public void close() {
    if (state.getAndSet(State.CLOSED) != State.STARTED) {
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
        await(client.getLeaseClient().revoke(id), Math.min(settings.connectTimeoutMs, 2000));
      } catch (Exception e) {
        log.warn(
            "could not revoke lease 0x{} ({}); {} goes away when the lease expires",
            Long.toHexString(id),
            describe(e),
            instancePath);
      }
    }
    closeWatchers();
    try {
      client.close();
    } catch (RuntimeException e) {
      log.debug("closing the etcd client failed", e);
    }
  }
}
