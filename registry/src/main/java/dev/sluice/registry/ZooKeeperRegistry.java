package dev.sluice.registry;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.CuratorCacheStorage;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's node and the datasource nodes in ZooKeeper, kept present and watched.
 *
 * <p>The instance node is ephemeral. Whenever a session becomes usable it is created with the value
 * this instance last knew, so an instance that was {@code DISABLED} stays disabled across a lost
 * session, under the same id. Datasource nodes are persistent: created empty when this JVM first
 * meets a datasource and absent, never overwritten.
 *
 * <p>A {@link CuratorCache} of this single node and a {@link ZooKeeperDatasources} of the
 * datasource subtree watch (one persistent recursive watch each); other instances' nodes are never
 * watched, so the load on ZooKeeper grows linearly with the number of instances.
 *
 * <p>What the registry holds cannot exhaust this JVM: no node's bytes are cached, only datasource
 * nodes (at their one depth) are read, and a value longer than {@link NodeValue#MAX_VALUE_BYTES} is
 * not read at all (it is unrecognised). Retained: about 100 bytes plus the path per datasource node
 * in the subtree, whatever the values and whatever else lies under the namespace; the instance
 * node's value only passes through.
 *
 * <p>Two JVMs with the same id (the legacy layout's {@code {ip}@-@{pid}}, e.g. PID 1 in containers
 * on host networking) share one node: the one that finds it held by another live session logs one
 * warning and obeys the node, without deleting or overwriting it; when the node goes away it waits
 * {@value #SHARED_NODE_GRACE_MS} ms (the owner, if alive, re-creates it empty after an operator's
 * delete, and that value is heard) and otherwise re-creates it with its last known value. So an
 * operator's {@code DISABLED} in that node governs both JVMs and outlives either.
 *
 * <p>A deletion of the node while this session is alive is an operator's deletion and means
 * "enabled"; the node is then re-created empty. A deletion caused by the loss or expiry of the
 * session changes nothing: the last known value stays in force and the node comes back with it. A
 * datasource node that this JVM met and an operator deleted is reported gone (enabled) and created
 * again, empty, unless someone created it first. Limits: while no session is usable the agent knows
 * nothing newer than its last read, and a value written and overwritten while this instance was
 * partitioned away is not seen.
 *
 * <p>The primitives for routing, the fleet leader and the operator tools each live in their own
 * class, sharing this registry's session, ACLs and worker thread: {@link ZooKeeperKeyWatch}, {@link
 * ZooKeeperEphemeralNode} and {@link ZooKeeperLeadership}. Closing the registry closes those still
 * open (ephemeral nodes go with the session).
 *
 * <p>All registry work runs on one daemon thread; nothing here blocks the application. Connection
 * changes reach the listener on Curator's connection-state thread, not through that thread.
 */
public final class ZooKeeperRegistry implements RegistryCenter {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperRegistry.class);

  /** How to reach ZooKeeper. */
  public static final class Settings {
    final String connectString;
    final int connectTimeoutMs;
    final int sessionTimeoutMs;
    final String digestAuth;
    final ZooKeeperTransport transport;

    /**
     * Over plain TCP.
     *
     * @param connectString {@code h1:2181,h2:2181}
     * @param digestAuth {@code user:password} for ZooKeeper digest authentication, or {@code null}
     */
    public Settings(
        String connectString, int connectTimeoutMs, int sessionTimeoutMs, String digestAuth) {
      this(
          connectString,
          connectTimeoutMs,
          sessionTimeoutMs,
          digestAuth,
          ZooKeeperTransport.plain());
    }

    /**
     * @param connectString {@code h1:2181,h2:2181}
     * @param digestAuth {@code user:password} for ZooKeeper digest authentication, or {@code null}
     * @param transport plain TCP or TLS
     */
    public Settings(
        String connectString,
        int connectTimeoutMs,
        int sessionTimeoutMs,
        String digestAuth,
        ZooKeeperTransport transport) {
      this.connectString = Objects.requireNonNull(connectString, "connectString");
      this.connectTimeoutMs = connectTimeoutMs;
      this.sessionTimeoutMs = sessionTimeoutMs;
      this.digestAuth = digestAuth;
      this.transport = Objects.requireNonNull(transport, "transport");
    }
  }

  private final RegistryLifecycle lifecycle = new RegistryLifecycle();
  private final Settings settings;
  private final String instancePath;
  private final ScheduledExecutorService worker = RegistryLifecycle.newWorker();
  private final CuratorFramework client;
  private final RegistryPaths paths;
  private final CuratorCache instanceCache;
  private final ZooKeeperDatasources datasources;
  private final CountDownLatch initialSync = new CountDownLatch(2);
  private final Faults faults = new Faults(log);
  private final ValueReporter values;
  private final DatasourceNodes datasourceNodes;
  // Where a fault happened, named once rather than on every event.
  private final String instanceChange;

  /**
   * How long a node shared with another JVM under the same id may stay absent before this instance
   * creates it again: its owner, if alive, re-creates it within milliseconds of an operator's
   * delete.
   */
  static final long SHARED_NODE_GRACE_MS = 2000;

  // The sessions this client has had: a node of one of them is ours, any other ephemeral node
  // under our path belongs to another JVM with the same id.
  private final InstanceOwners owners = new InstanceOwners();

  private volatile boolean connected;

  // The watches, ephemeral nodes and leaderships made here and not yet closed; guards the two
  // flags.
  private final List<Closeable> primitives = new ArrayList<>();
  private boolean started;
  private boolean closed;

  /**
   * @param paths where the datasource nodes live
   * @param instancePath this instance's node
   */
  public ZooKeeperRegistry(Settings settings, RegistryPaths paths, String instancePath) {
    this.settings = settings;
    this.paths = paths;
    this.instancePath = instancePath;
    this.values = new ValueReporter(instancePath);
    this.datasourceNodes =
        new DatasourceNodes(worker, faults, this::isConnected, this::createDatasourceNode);
    // The application's JAAS, socket or TLS settings for its own ZooKeeper client are not ours.
    ZKClientConfig zkConfig = settings.transport.clientConfig();
    CuratorFrameworkFactory.Builder builder =
        CuratorFrameworkFactory.builder()
            .connectString(settings.connectString)
            .connectionTimeoutMs(settings.connectTimeoutMs)
            .sessionTimeoutMs(settings.sessionTimeoutMs)
            .retryPolicy(new ExponentialBackoffRetry(100, 5, 1000))
            .zkClientConfig(zkConfig)
            // Curator calls the caches' listeners on this executor; the instance cache's listener
            // hands each event on to the worker anyway, so the worker serves as it: one thread
            // fewer in the application's JVM.
            .runSafeService(worker)
            .threadFactory(
                r -> {
                  Thread t = new Thread(r, "sluice-curator");
                  t.setDaemon(true);
                  return t;
                });
    if (settings.digestAuth != null) {
      builder.authorization("digest", NodeValue.encode(settings.digestAuth));
      // Nodes this agent creates: everything for the account, reading for everyone.
      List<ACL> acl = new ArrayList<>(ZooDefs.Ids.CREATOR_ALL_ACL);
      acl.addAll(ZooDefs.Ids.READ_ACL_UNSAFE);
      builder.aclProvider(
          new ACLProvider() {
            @Override
            public List<ACL> getDefaultAcl() {
              return acl;
            }

            @Override
            public List<ACL> getAclForPath(String path) {
              return acl;
            }
          });
    }
    this.client = builder.build();
    // The instance node alone, without its bytes: its value reaches the listener in the event.
    this.instanceCache =
        CuratorCache.builder(client, instancePath)
            .withOptions(CuratorCache.Options.SINGLE_NODE_CACHE)
            .withStorage(CuratorCacheStorage.dataNotCached())
            .build();
    this.instanceChange = "a change of " + instancePath;
    this.datasources =
        new ZooKeeperDatasources(client, paths, worker, faults, new DatasourceChanges());
  }

  @Override
  public void start(RegistryListener listener) {
    lifecycle.start();
    values.listenTo(Objects.requireNonNull(listener, "listener"));
    // On Curator's own connection-state thread, not the worker: the worker may be blocked in a
    // Curator call that waits for the connection, and a loss must reach the listener at once
    // (on-registry-loss=cut-off counts its grace from here).
    client
        .getConnectionStateListenable()
        .addListener(
            (c, s) -> faults.guard("a ZooKeeper connection change", () -> connectionChanged(s)));
    instanceCache
        .listenable()
        .addListener(
            CuratorCacheListener.builder()
                .forAll(
                    (type, oldData, data) ->
                        faults.guard(instanceChange, () -> instanceEvent(type, oldData, data)))
                .forInitialized(initialSync::countDown)
                .build(),
            worker);
    // Before the client starts: from then on its state listener may log "connected" at any time.
    log.info(
        "connecting to ZooKeeper {} ({}) for {}",
        settings.connectString,
        settings.transport,
        instancePath);
    client.start();
    instanceCache.start();
    datasources.start();
    synchronized (primitives) {
      started = true;
      for (Closeable primitive : primitives) {
        ((ZooKeeperKeyWatch) primitive).start(); // only watches can be made before start
      }
    }
  }

  @Override
  public boolean awaitInitialSync(long timeoutMs) throws InterruptedException {
    return initialSync.await(timeoutMs, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean isConnected() {
    return connected && lifecycle.running();
  }

  @Override
  public String sessionId() {
    if (!isConnected()) {
      return "";
    }
    try {
      return "0x" + Long.toHexString(client.getZookeeperClient().getZooKeeper().getSessionId());
    } catch (Exception e) {
      return "";
    }
  }

  @Override
  public String backend() {
    return "ZOOKEEPER";
  }

  @Override
  public String endpoints() {
    return settings.connectString;
  }

  @Override
  public String instancePath() {
    return instancePath;
  }

  @Override
  public void writeInstanceValue(String value, long timeoutMs) throws RegistryException {
    write(instancePath, value, CreateMode.EPHEMERAL, timeoutMs);
  }

  @Override
  public void writeDatasourceValue(String path, String value, long timeoutMs)
      throws RegistryException {
    write(path, value, CreateMode.PERSISTENT, timeoutMs);
  }

  @Override
  public void ensureDatasourceNode(String path) {
    datasourceNodes.ensure(path);
  }

  @Override
  public void ensureNode(String path, String value) {
    datasourceNodes.ensure(path, value);
  }

  private boolean createDatasourceNode(String path, String value) {
    try {
      client.create().creatingParentsIfNeeded().forPath(path, NodeValue.encode(value));
      log.info("created node {}", path);
    } catch (KeeperException.NodeExistsException exists) {
      // never overwrite an operator's value
    } catch (Exception e) {
      log.warn("could not create {}: {}; retrying when the session is back", path, e.toString());
      return false;
    }
    return true;
  }

  /**
   * Writes a node and returns once this agent has seen its own write come back through its watch,
   * so that the agent's state is the registry's when the caller goes on.
   */
  private void write(String path, String value, CreateMode mode, long timeoutMs)
      throws RegistryException {
    long mzxid = setOrCreate(path, value, mode);
    values.awaitSeen(path, mzxid, timeoutMs, "ZooKeeper " + settings.connectString);
  }

  @Override
  public long put(String key, String value, long timeoutMs) throws RegistryException {
    return setOrCreate(key, value, CreateMode.PERSISTENT);
  }

  /** Sets {@code path}, creating it and its parents with {@code mode} when absent; its mzxid. */
  private long setOrCreate(String path, String value, CreateMode mode) throws RegistryException {
    if (!isConnected()) {
      throw new RegistryException(
          "ZooKeeper "
              + settings.connectString
              + " is not connected; "
              + path
              + " was not written");
    }
    try {
      Stat stat;
      try {
        stat = client.setData().forPath(path, NodeValue.encode(value));
      } catch (KeeperException.NoNodeException absent) {
        stat = new Stat();
        try {
          client
              .create()
              .storingStatIn(stat)
              .creatingParentsIfNeeded()
              .withMode(mode)
              .forPath(path, NodeValue.encode(value));
        } catch (KeeperException.NodeExistsException raced) {
          stat = client.setData().forPath(path, NodeValue.encode(value));
        }
      }
      return stat.getMzxid();
    } catch (KeeperException e) {
      throw new RegistryException(
          "ZooKeeper " + settings.connectString + " refused writing " + path + ": " + e, e);
    } catch (Exception e) {
      throw new RegistryException(
          "writing " + path + " to ZooKeeper " + settings.connectString + " failed: " + e, e);
    }
  }

  /** What the datasource watch reports, on the worker thread. */
  private final class DatasourceChanges implements ZooKeeperDatasources.Changes {
    private boolean synced;

    @Override
    public void changed(String path, String value, long mzxid) {
      if (!lifecycle.running()) {
        return;
      }
      values.datasourceValue(path, value);
      if (value == null) {
        datasourceNodes.deleted(path);
        return;
      }
      values.seen(path, mzxid);
    }

    @Override
    public void read(boolean complete) {
      if (complete && !synced) {
        synced = true;
        initialSync.countDown();
      }
    }
  }

  @Override
  public Closeable watch(String key, boolean prefix, KeyListener listener) {
    Objects.requireNonNull(listener, "listener");
    Holder<ZooKeeperKeyWatch> self = new Holder<>();
    self.value =
        new ZooKeeperKeyWatch(
            client, key, prefix, listener, worker, faults, () -> forget(self.value));
    synchronized (primitives) {
      if (closed) {
        return self.value; // never started: closing it does nothing
      }
      primitives.add(self.value);
      if (started) {
        self.value.start();
      }
    }
    return self.value;
  }

  @Override
  public EphemeralNode ephemeralNode(String path, String value) {
    Holder<ZooKeeperEphemeralNode> self = new Holder<>();
    self.value = new ZooKeeperEphemeralNode(client, path, value, () -> forget(self.value));
    synchronized (primitives) {
      requireRunning("ephemeralNode");
      primitives.add(self.value);
      self.value.start();
    }
    return self.value;
  }

  @Override
  public Leadership leadership(String path, String participantId, Leadership.Listener listener) {
    Objects.requireNonNull(listener, "listener");
    Holder<ZooKeeperLeadership> self = new Holder<>();
    self.value =
        new ZooKeeperLeadership(
            client,
            path,
            participantId,
            listener,
            worker,
            faults,
            settings.connectString,
            () -> forget(self.value));
    synchronized (primitives) {
      requireRunning("leadership");
      primitives.add(self.value);
      self.value.start();
    }
    return self.value;
  }

  /** A primitive's reference to itself, for the callback that makes the registry forget it. */
  private static final class Holder<T> {
    T value;
  }

  private void requireRunning(String what) {
    if (!started || closed) {
      throw new IllegalStateException(
          what + " needs a started registry that is not closed (" + instancePath + ")");
    }
  }

  private void forget(Closeable primitive) {
    synchronized (primitives) {
      primitives.remove(primitive);
    }
  }

  /** Closes the watches, ephemeral nodes and leaderships still open, before the session ends. */
  private void closePrimitives() {
    List<Closeable> open;
    synchronized (primitives) {
      closed = true;
      open = new ArrayList<>(primitives);
      primitives.clear();
    }
    for (Closeable primitive : open) {
      try {
        if (primitive instanceof ZooKeeperEphemeralNode) {
          ((ZooKeeperEphemeralNode) primitive).abandon(); // goes with the session
        } else {
          primitive.close();
        }
      } catch (IOException | RuntimeException e) {
        log.debug("closing {} failed", primitive, e);
      }
    }
  }

  @Override
  public void close() {
    closePrimitives();
    if (!lifecycle.close()) {
      return;
    }
    // Closing the session makes ZooKeeper delete the ephemeral instance node before close returns.
    try {
      instanceCache.close();
      datasources.close();
    } catch (RuntimeException e) {
      log.debug("closing the watch failed", e);
    }
    try {
      client.close();
    } catch (RuntimeException e) {
      log.warn("closing the ZooKeeper session failed: {}", e.toString());
    }
    worker.shutdownNow();
  }

  private void connectionChanged(ConnectionState newState) {
    if (!lifecycle.running()) {
      return;
    }
    switch (newState) {
      case CONNECTED:
      case RECONNECTED:
        connected = true;
        owners.adopt(currentSession());
        log.info("ZooKeeper {} connected (session {})", settings.connectString, sessionId());
        values.listener().connection(true);
        faults.execute(
            worker,
            "registering after a connection change",
            () -> {
              ensureInstanceNode();
              datasourceNodes.retryPending();
            });
        break;
      case SUSPENDED:
        connected = false;
        log.warn(
            "ZooKeeper {} connection suspended; going on with the last known state",
            settings.connectString);
        values.listener().connection(false);
        break;
      case LOST:
        connected = false;
        log.warn(
            "ZooKeeper session lost; {} will be re-created with its last known value {}",
            instancePath,
            NodeValue.printable(values.lastKnownValue()));
        values.listener().connection(false);
        break;
      default:
        break;
    }
  }

  private void instanceEvent(CuratorCacheListener.Type type, ChildData oldData, ChildData data) {
    if (!lifecycle.running()) {
      return;
    }
    if (type == CuratorCacheListener.Type.NODE_DELETED) {
      if (!instancePath.equals(oldData.getPath())) {
        return;
      }
      long owner = oldData.getStat().getEphemeralOwner();
      if (foreign(owner)) {
        // The node we share went away: its JVM ended, or an operator deleted it and its owner
        // re-creates it empty at once (and that value reaches us). Which one, no one can tell
        // here: the last known value stays, and the node comes back with it if it stays absent.
        scheduleInstanceNode(SHARED_NODE_GRACE_MS);
        return;
      }
      if (sessionStillAlive(oldData.getStat().getEphemeralOwner())) {
        log.info("{} was deleted: instance enabled; re-creating it empty", instancePath);
        values.instanceDeleted();
      }
      ensureInstanceNode();
      return;
    }
    if (!instancePath.equals(data.getPath())) {
      return;
    }
    values.instanceValue(NodeValue.decodeBounded(data.getData()));
    values.seen(data.getPath(), data.getStat().getMzxid());
    if (data.getStat().getEphemeralOwner() != currentSession()) {
      // An operator replaced the node (a delete and create may reach us as one change): keep
      // the value, but make the node ephemeral again, so it still goes away with this JVM.
      ensureInstanceNode();
    }
  }

  /**
   * Whether the session that owned the deleted node is still alive. When ZooKeeper expires a
   * session it deletes the session's ephemeral nodes and tells the still-open connection so before
   * closing it; that deletion is no operator's word. One raw round trip (no Curator retry, which
   * would quietly open a new session) tells the two apart: on a closed session it fails.
   */
  private boolean sessionStillAlive(long owner) {
    try {
      org.apache.zookeeper.ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
      if (zk.getSessionId() != owner) {
        return false;
      }
      zk.exists(instancePath, false);
      return zk.getSessionId() == owner && zk.getState().isConnected();
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * Whether {@code owner} is another client's live session: an ephemeral node under our path that
   * none of our sessions created belongs to another JVM with the same id (ZooKeeper deletes the
   * nodes of a session when it ends).
   */
  private boolean foreign(long owner) {
    return owners.foreign(owner, currentSession());
  }

  /**
   * Another JVM registered under our id (the legacy layout's {@code {ip}@-@{pid}} is the same for
   * two JVMs with one IP and PID). Taking its node over would make it take the node back, in a loop
   * that clears {@code DISABLED} each time; instead both obey the one node.
   */
  private void share(long owner) {
    if (owners.share(owner)) {
      log.warn(
          "{} is held by another live ZooKeeper session 0x{}: another JVM has the same instance id"
              + " (under the legacy layout, {ip}@-@{pid} is the same for two JVMs with one IP and"
              + " PID). Sharing the node: this instance obeys its value, never deletes or"
              + " overwrites it, and re-creates it with its last known value if it stays absent"
              + " for {} ms. Use layout v5 for ids that cannot collide",
          instancePath,
          Long.toHexString(owner),
          SHARED_NODE_GRACE_MS);
    }
  }

  private void scheduleInstanceNode(long delayMs) {
    try {
      worker.schedule(
          () -> faults.guard("registering " + instancePath, this::ensureInstanceNode),
          delayMs,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      // the registry is closed
    }
  }

  private long currentSession() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  private void createInstanceNode(String value) throws Exception {
    client
        .create()
        .creatingParentsIfNeeded()
        .withMode(CreateMode.EPHEMERAL)
        .forPath(instancePath, NodeValue.encode(value));
  }

  /** Creates the instance node with the last known value unless this session already owns it. */
  private void ensureInstanceNode() {
    if (!isConnected()) {
      return;
    }
    String value = values.lastKnownValue();
    owners.adopt(currentSession());
    try {
      try {
        createInstanceNode(value);
        log.info("registered {} with value {}", instancePath, NodeValue.printable(value));
      } catch (KeeperException.NodeExistsException exists) {
        Stat stat = new Stat();
        byte[] data = client.getData().storingStatIn(stat).forPath(instancePath);
        if (foreign(stat.getEphemeralOwner())) {
          share(stat.getEphemeralOwner());
        } else if (stat.getEphemeralOwner() != currentSession()) {
          // Left by an earlier session of ours, or written by an operator: its value is the
          // newest word on this instance, so keep it and take the node over.
          String current = NodeValue.decode(data);
          client.delete().withVersion(stat.getVersion()).forPath(instancePath);
          createInstanceNode(current);
          log.info("took over {} with value {}", instancePath, NodeValue.printable(current));
        }
      }
    } catch (KeeperException.NodeExistsException
        | KeeperException.BadVersionException
        | KeeperException.NoNodeException raced) {
      // The node changed between our read and our write (an operator, or the expiry of our old
      // session); the watch reports that change and its event runs this check again.
      log.debug("{} changed while being registered: {}", instancePath, raced.toString());
    } catch (Exception e) {
      log.warn(
          "could not register {}: {}; retrying when the session is back",
          instancePath,
          e.toString());
    }
  }
}
