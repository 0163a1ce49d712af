package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rules of SPEC section 3, written once and run against every registry backend. A rule that
 * holds on one backend and not on another is a failing test.
 */
abstract class RegistryContract {

  /** A backend as an operator sees it (zkCli, etcdctl), plus the faults tests inject. */
  interface Backend extends AutoCloseable {
    /** A registry authenticating as {@code auth} ({@code user:password}), or anonymous. */
    RegistryCenter newRegistry(RegistryPaths paths, String instancePath, String auth);

    default RegistryCenter newRegistry(RegistryPaths paths, String instancePath) {
      return newRegistry(paths, instancePath, null);
    }

    /**
     * Turns authentication on for the keys under {@code prefix}: {@code auth} ({@code
     * user:password}) is the agents' account; the operator's own client authenticates from now on.
     */
    void enableAuth(String auth, String prefix) throws Exception;

    /** Writes as a client without credentials; throws when the registry refuses. */
    void anonymousPut(String path, String value) throws Exception;

    /** Creates or overwrites the node (persistent), creating parents as needed. */
    void put(String path, String value) throws Exception;

    /** Writes a node that exists, as {@code zkCli set} does; throws when there is none. */
    void set(String path, String value) throws Exception;

    void delete(String path) throws Exception;

    /** The value, or {@code null} when there is no node. */
    String get(String path) throws Exception;

    /** Whether the node is bound to the session (ZooKeeper) or lease (etcd) of {@code owner}. */
    boolean ownedBy(String path, RegistryCenter owner) throws Exception;

    /** Ends the registry's session or lease on the server side, as a long partition would. */
    void expire(RegistryCenter registry) throws Exception;

    /** Stops and restarts the server, keeping its data. */
    void restart() throws Exception;

    /**
     * The watches {@code registry} holds on the server now, as the server (ZooKeeper) or the client
     * (etcd) records them: {@code path} for one node, {@code path/**} for a node and all below it.
     */
    List<String> watches(RegistryCenter registry) throws Exception;

    /** The node's revision as the server records it (mzxid, mod_revision); -1 when absent. */
    long revision(String path) throws Exception;

    /** {@code host:port} of the server, for a {@link TcpProxy} to forward to. */
    String address();

    /** A registry that reaches the server at {@code address} (a proxy) instead of directly. */
    RegistryCenter newRegistryAt(String address, RegistryPaths paths, String instancePath);
  }

  /** Whether a watch as {@link Backend#watches} renders it sees changes of {@code path}. */
  static boolean covers(String watch, String path) {
    if (watch.endsWith("/**")) {
      String root = watch.substring(0, watch.length() - "/**".length());
      return path.equals(root) || path.startsWith(root.endsWith("/") ? root : root + "/");
    }
    if (watch.endsWith("*")) { // a key prefix (etcd)
      return path.startsWith(watch.substring(0, watch.length() - 1));
    }
    return watch.equals(path);
  }

  /** What a listener heard. */
  static class Heard implements RegistryListener {
    final BlockingQueue<String> instance = new LinkedBlockingQueue<>();
    final BlockingQueue<String[]> datasources = new LinkedBlockingQueue<>();
    final BlockingQueue<Boolean> connections = new LinkedBlockingQueue<>();

    @Override
    public void instanceValue(String value) {
      instance.add(value == null ? "<deleted>" : value);
    }

    @Override
    public void datasourceValue(String path, String value) {
      datasources.add(new String[] {path, value == null ? "<deleted>" : value});
    }

    @Override
    public void connection(boolean connected) {
      connections.add(connected);
    }

    String nextInstance() throws InterruptedException {
      String v = instance.poll(20, TimeUnit.SECONDS);
      assertNotNull(v, "no instance event");
      return v;
    }

    /**
     * Waits for {@code value} at {@code path}, skipping other datasource events.
     *
     * @return the events skipped, as {@code path=value}
     */
    List<String> awaitDatasource(String path, String value) throws InterruptedException {
      return awaitDatasource(path, value, 20);
    }

    List<String> awaitDatasource(String path, String value, int seconds)
        throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      List<String> seen = new ArrayList<>();
      while (System.nanoTime() < deadline) {
        String[] e = datasources.poll(100, TimeUnit.MILLISECONDS);
        if (e != null) {
          if (e[0].equals(path) && e[1].equals(value)) {
            return seen;
          }
          seen.add(e[0] + "=" + e[1]);
        }
      }
      throw new AssertionError(
          "no " + path + "=" + value + " within " + seconds + " s; heard " + seen);
    }
  }

  private final List<RegistryCenter> started = new ArrayList<>();
  final String namespace = "contract-" + UUID.randomUUID().toString().substring(0, 8);
  final RegistryPaths paths = RegistryLayout.V5.paths(namespace, "app");

  abstract Backend backend();

  RegistryCenter start(String instancePath, Heard heard) throws InterruptedException {
    return start(instancePath, heard, null);
  }

  RegistryCenter start(String instancePath, Heard heard, String auth) throws InterruptedException {
    RegistryCenter r = backend().newRegistry(paths, instancePath, auth);
    started.add(r);
    r.start(heard);
    assertTrue(r.awaitInitialSync(20_000), "initial sync");
    return r;
  }

  String instancePath(String id) {
    return paths.instancePath(new InstanceId("10.0.0.9", 4711, id));
  }

  /** Closes the registries first, while their server still answers, then the backend. */
  @AfterEach
  void closeRegistriesThenBackend() throws Exception {
    started.forEach(RegistryCenter::close);
    backend().close();
  }

  /** Polls {@code condition} until it holds; an operator's transient error counts as "not yet". */
  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Poll.until(what, Duration.ofSeconds(20), condition);
  }

  boolean exists(String path) {
    try {
      return backend().get(path) != null;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  String value(String path) {
    try {
      return backend().get(path);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theInstanceNodeIsRegisteredEmptyBoundToTheSessionAndRemovedOnClose() throws Exception {
    String path = instancePath("a");
    RegistryCenter r = start(path, new Heard());
    await("registered", () -> "".equals(value(path)));
    assertTrue(backend().ownedBy(path, r));
    r.close();
    await("removed on close", () -> !exists(path));
  }

  @Test
  void updatesAndDeletesOfTheInstanceNodeAreReported() throws Exception {
    String path = instancePath("b");
    Heard heard = new Heard();
    RegistryCenter r = startDisabled(path, heard);
    backend().put(path, " maintenance ");
    assertEquals(
        " maintenance ", heard.nextInstance(), "any value reaches the listener as written");
    backend().delete(path);
    assertEquals("<deleted>", heard.nextInstance(), "an operator's delete enables");
    await("registered again, empty", () -> "".equals(value(path)));
    await("bound to the session again", () -> owned(path, r));
  }

  @Test
  void unrecognisedValuesReachTheListenerAndAreLoggedOncePerNodeAndValue() throws Exception {
    String path = instancePath("u");
    String node = paths.datasourcePath("orders", "odd_1");
    Heard heard = new Heard();
    start(path, heard);
    assertEquals("", heard.nextInstance());
    for (String v : List.of("maintenance", "maintenance", "DISABLED", "maintenance", "later")) {
      backend().put(path, v);
      assertEquals(v, heard.nextInstance(), "every value reaches the listener as written");
    }
    backend().put(node, "maint-" + namespace);
    heard.awaitDatasource(node, "maint-" + namespace);
    backend().put(node, "maint-" + namespace);
    heard.awaitDatasource(node, "maint-" + namespace);
    // once per node and value: again only after a recognised value came in between
    assertEquals(2, CapturedLogs.count(path + " holds the unrecognised value 'maintenance'"));
    assertEquals(1, CapturedLogs.count(path + " holds the unrecognised value 'later'"));
    assertEquals(
        1, CapturedLogs.count(node + " holds the unrecognised value 'maint-" + namespace + "'"));
  }

  /** What {@link RegistryListener} promises: values come on the registry's own thread. */
  @Test
  void valuesAreReportedOnTheRegistrysOwnThread() throws Exception {
    String path = instancePath("t");
    String node = paths.datasourcePath("orders", "threads_1");
    Set<String> threads = ConcurrentHashMap.newKeySet();
    Heard heard =
        new Heard() {
          @Override
          public void instanceValue(String value) {
            threads.add(Thread.currentThread().getName());
            super.instanceValue(value);
          }

          @Override
          public void datasourceValue(String path, String value) {
            threads.add(Thread.currentThread().getName());
            super.datasourceValue(path, value);
          }
        };
    start(path, heard);
    assertEquals("", heard.nextInstance());
    backend().put(node, "DISABLED");
    heard.awaitDatasource(node, "DISABLED");
    backend().put(path, "DISABLED");
    assertEquals("DISABLED", heard.nextInstance());
    assertEquals(Set.of("sluice-registry"), threads);
  }

  /**
   * The log tells what happened in the order it happened: "connecting" before "connected", also
   * when writing a line is slow (here the "connecting" line takes until a "connected" line was
   * written, or 2 s): a "connecting" line written after the client started comes out second.
   */
  @Test
  void connectingIsLoggedBeforeConnected() throws Exception {
    String path = instancePath("o");
    RegistryCenter r = backend().newRegistry(paths, path);
    started.add(r);
    String connecting = "connecting to ";
    String connected = r.endpoints() + " connected";
    int from = CapturedLogs.lines().size();
    try (CapturedLogs.SlowLines slow =
        CapturedLogs.slow(
            line -> line.contains(connecting) && line.contains(path),
            () -> awaitLine(from, connected, 2))) {
      r.start(new Heard());
      assertTrue(r.awaitInitialSync(20_000), "initial sync");
      await("connected", r::isConnected);
    }
    List<String> lines = CapturedLogs.lines();
    lines = lines.subList(from, lines.size());
    int connectingAt = indexOf(lines, l -> l.contains(connecting) && l.contains(path));
    int connectedAt = indexOf(lines, l -> l.contains(connected));
    assertTrue(connectingAt >= 0 && connectingAt < connectedAt, "logged: " + lines);
  }

  private static void awaitLine(int from, String text, int seconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      List<String> lines = CapturedLogs.lines();
      if (indexOf(lines.subList(from, lines.size()), l -> l.contains(text)) >= 0) {
        return;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static int indexOf(List<String> lines, Predicate<String> which) {
    for (int i = 0; i < lines.size(); i++) {
      if (which.test(lines.get(i))) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void writeThroughReturnsOnceTheAgentSawItsOwnWrite() throws Exception {
    String path = instancePath("c");
    Heard heard = new Heard();
    RegistryCenter r = start(path, heard);
    assertEquals("", heard.nextInstance());
    r.writeInstanceValue("DISABLED", 5000);
    assertEquals("DISABLED", heard.instance.poll(), "already heard when the write returned");
    assertEquals("DISABLED", value(path));
  }

  @Test
  void datasourceNodesCreatedUpdatedAndDeletedAreReported() throws Exception {
    Heard heard = new Heard();
    start(instancePath("d"), heard);
    String node = paths.datasourcePath("orders", "db2_3306");
    backend().put(node, "DISABLED"); // created holding DISABLED
    heard.awaitDatasource(node, "DISABLED");
    backend().put(node, "");
    heard.awaitDatasource(node, "");
    backend().put(node, "disabled");
    heard.awaitDatasource(node, "disabled");
    backend().delete(node);
    heard.awaitDatasource(node, "<deleted>");
  }

  @Test
  void aDatasourceNodeThatExistsBeforeStartIsPartOfTheInitialSync() throws Exception {
    String node = paths.datasourcePath("orders", "early");
    backend().put(node, "DISABLED");
    Heard heard = new Heard();
    start(instancePath("e"), heard);
    String[] first = heard.datasources.poll();
    assertNotNull(first, "reported before the initial sync completed");
    assertEquals(node, first[0]);
    assertEquals("DISABLED", first[1]);
  }

  @Test
  void datasourceNodesAreCreatedEmptyWhenAbsentAndNeverOverwritten() throws Exception {
    Heard heard = new Heard();
    RegistryCenter r = start(instancePath("f"), heard);
    String absent = paths.datasourcePath("shop", "new_1");
    String present = paths.datasourcePath("shop", "kept_1");
    backend().put(present, "maintenance");
    r.ensureDatasourceNode(absent);
    r.ensureDatasourceNode(present);
    await("created", () -> "".equals(value(absent)));
    heard.awaitDatasource(absent, "");
    assertEquals("maintenance", value(present));
    assertTrue(!backend().ownedBy(absent, r), "datasource nodes are persistent");
  }

  /**
   * A datasource's endpoint is recorded for the fleet leader (SPEC 8): created holding its value
   * when absent, persistent, and never overwritten (another JVM recorded it first, or an operator
   * corrected it).
   */
  @Test
  void anEnsuredNodeIsCreatedWithItsValueAndNeverOverwritten() throws Exception {
    RegistryCenter r = start(instancePath("e"), new Heard());
    String absent = paths.endpointPath("shop", "db1_3306");
    String present = paths.endpointPath("shop", "db2_3306");
    backend().put(present, "db2.example.com:3306/shop");
    r.ensureNode(absent, "db1.example.com:3306/shop");
    r.ensureNode(present, "10.0.0.2:3306/shop");
    await("created", () -> "db1.example.com:3306/shop".equals(value(absent)));
    assertEquals("db2.example.com:3306/shop", value(present), "not overwritten");
    assertFalse(backend().ownedBy(absent, r), "persistent");
  }

  /**
   * The agent's shutdown hook closes the registry while the application may still meet a new
   * datasource: that must not throw into the connecting thread.
   */
  @Test
  void ensuringADatasourceNodeAfterCloseDoesNothing() throws Exception {
    String node = paths.datasourcePath("shop", "late_1");
    RegistryCenter r = start(instancePath("n"), new Heard());
    r.close();
    assertDoesNotThrow(() -> r.ensureDatasourceNode(node), "after close");
    RegistryCenter neverStarted = backend().newRegistry(paths, instancePath("n2"));
    neverStarted.close();
    assertDoesNotThrow(() -> neverStarted.ensureDatasourceNode(node), "closed before start");
    assertFalse(exists(node), "a closed registry creates nothing");
  }

  /**
   * Deleting a datasource node is the README's way to re-enable it. Every agent that met the
   * datasource hears "gone = enabled" and puts the node back, empty, at once, so that an operator's
   * later {@code set DISABLED} finds it. The node of a datasource this agent never met stays away.
   */
  @Test
  void aDeletedDatasourceNodeIsReportedEnabledAndCreatedAgainEmpty() throws Exception {
    Heard heard = new Heard();
    RegistryCenter r = start(instancePath("p"), heard);
    String node = paths.datasourcePath("shop", "deleted_1");
    String foreign = paths.datasourcePath("shop", "foreign_1");
    backend().put(foreign, "");
    heard.awaitDatasource(foreign, "");
    r.ensureDatasourceNode(node);
    heard.awaitDatasource(node, "");
    backend().delete(foreign);
    backend().delete(node);
    heard.awaitDatasource(node, "<deleted>");
    heard.awaitDatasource(node, "", 5);
    assertEquals("", value(node), "back, empty");
    assertFalse(backend().ownedBy(node, r), "back as a persistent node");
    assertNull(value(foreign), "a node of a datasource this agent never met stays deleted");
    backend().set(node, "DISABLED");
    heard.awaitDatasource(node, "DISABLED");
  }

  /**
   * An operator who deletes a datasource node and at once creates it again holding {@code DISABLED}
   * keeps {@code DISABLED}: the agent only creates the node when it is absent.
   */
  @Test
  void aDatasourceNodeDeletedAndCreatedAgainDisabledStaysDisabled() throws Exception {
    String node = paths.datasourcePath("shop", "replaced_1");
    CountDownLatch createdAgain = new CountDownLatch(1);
    Heard heard =
        new Heard() {
          @Override
          public void datasourceValue(String path, String value) {
            super.datasourceValue(path, value);
            if (path.equals(node) && value == null) {
              // The agent reacts to the delete after this report: hold it until the operator
              // was quicker, so that its create always finds the operator's node.
              try {
                createdAgain.await(20, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }
        };
    RegistryCenter r = start(instancePath("q"), heard);
    r.ensureDatasourceNode(node);
    heard.awaitDatasource(node, "");
    backend().delete(node);
    heard.awaitDatasource(node, "<deleted>");
    backend().put(node, "DISABLED");
    createdAgain.countDown();
    heard.awaitDatasource(node, "DISABLED");
    // The agent handles changes in order: once it reported a later one, it is done with the delete.
    String later = paths.datasourcePath("shop", "later_1");
    backend().put(later, "");
    List<String> between = heard.awaitDatasource(later, "");
    assertTrue(between.stream().noneMatch(e -> e.startsWith(node + "=")), "heard " + between);
    assertEquals("DISABLED", value(node));
  }

  @Test
  void otherInstancesNodesAreNotWatched() throws Exception {
    String mine = instancePath("g");
    String theirs = instancePath("other");
    Heard heard = new Heard();
    RegistryCenter registry = start(mine, heard);
    assertEquals("", heard.nextInstance());
    backend().put(theirs, "DISABLED");
    backend().put(mine, "after");
    assertEquals("after", heard.nextInstance(), "the other instance's write was not heard");
    assertTrue(heard.datasources.isEmpty());
    // Not hearing it is not enough: a registry that watched every instance and dropped the others'
    // events would pass the above, and load the registry with every instance's changes (SPEC 3).
    List<String> watches = backend().watches(registry);
    assertTrue(
        watches.stream().anyMatch(w -> covers(w, mine)),
        "its own node is watched (the watches are visible): " + watches);
    assertTrue(
        watches.stream().noneMatch(w -> covers(w, theirs)),
        "no watch sees another instance's node: " + watches);
  }

  @Test
  void afterALostSessionTheNodeComesBackWithTheLastKnownValue() throws Exception {
    String path = instancePath("h");
    Heard heard = new Heard();
    RegistryCenter r = startDisabled(path, heard);
    backend().expire(r);
    await(
        "re-created, bound to a new session, with the last value",
        () -> owned(path, r) && "DISABLED".equals(value(path)));
    for (String v; (v = heard.instance.poll()) != null; ) {
      assertTrue(!v.equals("<deleted>") && !v.isEmpty(), "the loss never reads as enabled: " + v);
    }
  }

  /**
   * An election, a watch and an ephemeral node begun while the session is being replaced (an
   * agent's start-up work, or an election restarting, at the moment the session is lost) keep
   * nothing of the instance node from being heard: an operator's enable after the new session is
   * applied, and each of them works once the session is back.
   */
  @Test
  void workBegunWhileTheSessionIsReplacedHoldsNothingUp() throws Exception {
    String path = instancePath("x");
    Heard heard = new Heard();
    RegistryCenter r = startDisabled(path, heard);
    String key = foreignKey("mysql/master/cluster-x");
    backend().put(key, "v1");

    backend().expire(r);
    BlockingQueue<Boolean> leading = new LinkedBlockingQueue<>();
    Leadership leadership = r.leadership(leaderPath(), "x", leading::add);
    HeardKeys keys = new HeardKeys();
    r.watch(key, false, keys);
    String meta = "/" + namespace + "/meta/instances/x";
    r.ephemeralNode(meta, "{}");

    await(
        "the instance node re-created under a new session, still DISABLED",
        () -> owned(path, r) && "DISABLED".equals(value(path)));
    backend().put(path, "");
    await("the operator's enable heard", () -> heard.instance.contains(""));
    await("leading", leadership::isLeader);
    await("the watch read v1", () -> "v1".equals(keys.last(key)));
    backend().put(key, "v2");
    await("and heard v2", () -> "v2".equals(keys.last(key)));
    await("the ephemeral node under the new session", () -> owned(meta, r));
  }

  @Test
  void aRegistryRestartWithTheAppRunningConverges() throws Exception {
    String path = instancePath("i");
    Heard heard = new Heard();
    RegistryCenter r = startDisabled(path, heard);
    backend().restart();
    await("connected again", r::isConnected);
    await("the node present with its value", () -> "DISABLED".equals(value(path)));
    backend().put(path, "");
    await("a write after the restart is heard", () -> heard.instance.contains(""));
  }

  /**
   * A lost connection is reported even while the registry's own thread is busy (here: still in the
   * listener's previous callback): {@code on-registry-loss=cut-off} counts its grace from this
   * report, so it must not queue behind other registry work.
   */
  @Test
  void aLossIsReportedWhileAnEarlierCallbackIsStillRunning() throws Exception {
    String path = instancePath("l");
    CountDownLatch inCallback = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Heard heard =
        new Heard() {
          @Override
          public void instanceValue(String value) {
            super.instanceValue(value);
            if ("DISABLED".equals(value)) {
              inCallback.countDown();
              try {
                release.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }
        };
    RegistryCenter r = start(path, heard);
    try {
      await("connected", () -> heard.connections.contains(true));
      backend().put(path, "DISABLED");
      assertTrue(inCallback.await(20, TimeUnit.SECONDS), "the DISABLED callback runs");
      backend().close();
      Boolean report = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!Boolean.FALSE.equals(report) && System.nanoTime() < deadline) {
        report = heard.connections.poll(100, TimeUnit.MILLISECONDS);
      }
      assertEquals(Boolean.FALSE, report, "the loss was reported while the callback ran");
      assertFalse(r.isConnected());
    } finally {
      release.countDown();
    }
  }

  @Test
  void writesFailClearlyWhileTheRegistryIsUnreachable() throws Exception {
    String path = instancePath("j");
    RegistryCenter r = start(path, new Heard());
    backend().close();
    await("disconnected", () -> !r.isConnected());
    RegistryException e =
        assertThrows(RegistryException.class, () -> r.writeInstanceValue("DISABLED", 2000));
    assertTrue(Objects.requireNonNull(e.getMessage()).contains(r.endpoints()), e.getMessage());
    String key = foreignKey("groups/j/primary");
    e = assertThrows(RegistryException.class, () -> r.put(key, "db1:3306", 2000));
    assertTrue(Objects.requireNonNull(e.getMessage()).contains(key), e.getMessage());
  }

  @Test
  void withCredentialsTheNodesAreWritableByTheOperatorAndClosedToAnonymousClients()
      throws Exception {
    String account = "sluice-agent:agent-secret";
    backend().enableAuth(account, "/" + namespace + "/");
    String path = instancePath("k");
    Heard heard = new Heard();
    RegistryCenter r = start(path, heard, account);
    assertEquals("", heard.nextInstance());
    backend().put(path, "DISABLED");
    assertEquals("DISABLED", heard.nextInstance(), "the operator's write is heard");
    assertThrows(Exception.class, () -> backend().anonymousPut(path, ""));
    assertEquals("DISABLED", value(path), "an anonymous client cannot enable");
    String node = paths.datasourcePath("shop", "guarded_1");
    r.ensureDatasourceNode(node);
    await("datasource node created", () -> "".equals(value(node)));
    assertThrows(Exception.class, () -> backend().anonymousPut(node, "DISABLED"));
    assertEquals("", value(node), "an anonymous client cannot disable");
    r.writeInstanceValue("", 5000);
    assertEquals("", value(path), "the agent's own write-through is allowed");

    String refused = instancePath("wrong-password");
    RegistryCenter wrong = backend().newRegistry(paths, refused, "sluice-agent:not-the-secret");
    started.add(wrong);
    wrong.start(new Heard());
    wrong.awaitInitialSync(3000); // reads may be open, writes are not
    RegistryException e =
        assertThrows(RegistryException.class, () -> wrong.writeInstanceValue("DISABLED", 2000));
    assertTrue(Objects.requireNonNull(e.getMessage()).contains(refused), e.getMessage());
    assertTrue(!exists(refused), "wrong credentials register nothing");
  }

  // ---- Primitives for routing, the fleet leader and the operator tools (SPEC 7, 8, 9)

  /** What a key watch heard: {@code key=value@revision}, with value {@code <gone>} when deleted. */
  static final class HeardKeys implements KeyListener {
    final List<String[]> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    final java.util.concurrent.atomic.AtomicInteger syncs =
        new java.util.concurrent.atomic.AtomicInteger();
    final Set<String> threads = ConcurrentHashMap.newKeySet();

    @Override
    public void changed(String key, String value, long revision) {
      threads.add(Thread.currentThread().getName());
      events.add(new String[] {key, value == null ? "<gone>" : value, Long.toString(revision)});
    }

    @Override
    public void synced() {
      syncs.incrementAndGet();
    }

    /** The last value heard for {@code key}, or {@code null}. */
    String last(String key) {
      String v = null;
      for (String[] e : events) {
        if (e[0].equals(key)) {
          v = e[1];
        }
      }
      return v;
    }

    List<long[]> revisions(String key) {
      List<long[]> out = new ArrayList<>();
      for (String[] e : events) {
        if (e[0].equals(key)) {
          out.add(new long[] {Long.parseLong(e[2]), e[1].equals("<gone>") ? 1 : 0});
        }
      }
      return out;
    }

    /** Asserts the revisions of {@code key} only grew: values strictly, a deletion not less. */
    void assertInOrder(String key) {
      long last = Long.MIN_VALUE;
      for (String[] e : events) {
        if (!e[0].equals(key)) {
          continue;
        }
        long rev = Long.parseLong(e[2]);
        boolean gone = e[1].equals("<gone>");
        assertTrue(
            gone ? rev >= last : rev > last,
            key + ": revision " + rev + " after " + last + " in " + describe());
        last = rev;
      }
    }

    String describe() {
      StringBuilder b = new StringBuilder();
      for (String[] e : events) {
        b.append(e[0]).append('=').append(e[1]).append('@').append(e[2]).append(' ');
      }
      return b.toString();
    }
  }

  /** A key outside Sluice's namespace, as orchestrator or Patroni would write it. */
  String foreignKey(String rest) {
    return "/" + namespace + "-foreign/" + rest;
  }

  @Test
  void aKeyOutsideTheNamespaceIsWatchedWithItsRevisionsInOrder() throws Exception {
    RegistryCenter r = start(instancePath("w1"), new Heard());
    String key = foreignKey("mysql/master/cluster1");
    backend().put(key, "db1:3306");
    long first = backend().revision(key);
    HeardKeys heard = new HeardKeys();
    r.watch(key, false, heard);
    await("the current value, then synced", () -> heard.syncs.get() >= 1);
    assertEquals("db1:3306", heard.last(key), heard.describe());
    assertEquals(first, heard.revisions(key).get(0)[0], "the node's own revision");

    java.util.Map<Long, String> written = new java.util.HashMap<>();
    written.put(first, "db1:3306");
    for (String v : List.of("db2:3306", "db3:3306")) {
      backend().put(key, v);
      written.put(backend().revision(key), v);
    }
    backend().delete(key);
    await("the deletion", () -> "<gone>".equals(heard.last(key)));
    backend().put(key, "db4:3306");
    written.put(backend().revision(key), "db4:3306");
    await("the last value", () -> "db4:3306".equals(heard.last(key)));
    heard.assertInOrder(key);
    for (String[] e : heard.events) {
      if (!e[1].equals("<gone>")) {
        assertEquals(
            written.get(Long.parseLong(e[2])), e[1], "a value reported at its own revision");
      }
    }
    assertEquals(Set.of("sluice-registry"), heard.threads, "on the registry's own thread");
  }

  @Test
  void aPutCreatesTheKeyAndReturnsTheRevisionAWatchReportsWithIt() throws Exception {
    RegistryCenter r = start(instancePath("w5"), new Heard());
    String key = foreignKey("states/groups/g5/primary");
    HeardKeys heard = new HeardKeys();
    r.watch(key, false, heard);
    await("synced", () -> heard.syncs.get() >= 1);
    long first = r.put(key, "db1:3306", 5000);
    assertEquals(first, backend().revision(key));
    long second = r.put(key, "db2:3306", 5000);
    assertTrue(second > first, second + " after " + first);
    await("db2:3306 heard", () -> "db2:3306".equals(heard.last(key)));
    // a watch may skip a value overwritten before it read it, never report one at another revision
    for (String[] e : heard.events) {
      assertEquals(e[1].equals("db1:3306") ? first : second, Long.parseLong(e[2]), e[1]);
    }
  }

  @Test
  void aPrefixWatchHearsEveryKeyBelowItAndNothingBesideIt() throws Exception {
    RegistryCenter r = start(instancePath("w2"), new Heard());
    String prefix = foreignKey("service/pg1");
    backend().put(prefix + "/leader", "member-a");
    HeardKeys heard = new HeardKeys();
    r.watch(prefix, true, heard);
    await("synced", () -> heard.syncs.get() >= 1);
    assertEquals("member-a", heard.last(prefix + "/leader"), heard.describe());
    backend().put(prefix + "/members/member-b", "{\"role\":\"replica\"}");
    backend().put(foreignKey("service/pg1x/leader"), "not-ours");
    backend().put(foreignKey("service/other/leader"), "not-ours");
    backend().put(prefix + "/leader", "member-b");
    await("the leader change", () -> "member-b".equals(heard.last(prefix + "/leader")));
    assertEquals("{\"role\":\"replica\"}", heard.last(prefix + "/members/member-b"));
    for (String[] e : heard.events) {
      assertTrue(e[0].equals(prefix) || e[0].startsWith(prefix + "/"), "only keys below: " + e[0]);
    }
    heard.assertInOrder(prefix + "/leader");
  }

  @Test
  void aWatchResumesAfterARestartAndALostSessionWithoutLossOrAnOlderRevision() throws Exception {
    RegistryCenter r = start(instancePath("w3"), new Heard());
    String key = foreignKey("mysql/master/cluster3");
    backend().put(key, "v1");
    HeardKeys heard = new HeardKeys();
    r.watch(key, false, heard);
    await("v1", () -> "v1".equals(heard.last(key)));
    backend().restart();
    backend().put(key, "v2"); // while the registry reconnects
    await("v2 after the restart", () -> "v2".equals(heard.last(key)));
    await("connected", r::isConnected);
    backend().expire(r);
    backend().put(key, "v3"); // while the session is being replaced
    await("v3 after the lost session", () -> "v3".equals(heard.last(key)));
    int syncs = heard.syncs.get();
    backend().put(key, "v4");
    await("v4", () -> "v4".equals(heard.last(key)));
    heard.assertInOrder(key);
    assertTrue(syncs >= 2, "read again in full after reconnecting: " + syncs);
  }

  @Test
  void aClosedWatchHearsNoMore() throws Exception {
    RegistryCenter r = start(instancePath("w4"), new Heard());
    String key = foreignKey("mysql/master/cluster4");
    backend().put(key, "v1");
    HeardKeys closed = new HeardKeys();
    HeardKeys open = new HeardKeys();
    java.io.Closeable handle = r.watch(key, false, closed);
    r.watch(key, false, open);
    await("both heard v1", () -> "v1".equals(closed.last(key)) && "v1".equals(open.last(key)));
    handle.close();
    backend().put(key, "v2");
    await("the open watch heard v2", () -> "v2".equals(open.last(key)));
    assertEquals("v1", closed.last(key), "one closed hears no more: " + closed.describe());
  }

  @Test
  void anEphemeralNodeIsBoundToTheSessionAndComesBackWithItsLastValue() throws Exception {
    RegistryCenter r = start(instancePath("e1"), new Heard());
    String path = "/" + namespace + "/meta/instances/e1";
    EphemeralNode node = r.ephemeralNode(path, "{\"pid\":1}");
    assertEquals(path, node.path());
    await("created with its value", () -> "{\"pid\":1}".equals(value(path)) && owned(path, r));
    node.set("{\"pid\":2}");
    await("updated", () -> "{\"pid\":2}".equals(value(path)));
    backend().expire(r);
    await(
        "re-created with its last value under the new session",
        () -> "{\"pid\":2}".equals(value(path)) && owned(path, r));
    node.close();
    await("closing deletes it", () -> !exists(path));

    String other = "/" + namespace + "/meta/instances/e2";
    r.ephemeralNode(other, "x");
    await("a second one", () -> "x".equals(value(other)));
    r.close();
    await("gone with the session", () -> !exists(other));
  }

  /** Starts a registry for {@code path}; an operator then disables it, and it hears both. */
  private RegistryCenter startDisabled(String path, Heard heard) throws Exception {
    RegistryCenter r = start(path, heard);
    assertEquals("", heard.nextInstance());
    backend().put(path, "DISABLED");
    assertEquals("DISABLED", heard.nextInstance());
    return r;
  }

  String leaderPath() {
    return "/" + namespace + "/control/leader";
  }

  /** A participant: its registry, its leadership, and what its listener heard. */
  final class Candidate {
    final RegistryCenter registry;
    final Leadership leadership;
    final BlockingQueue<Boolean> heard = new LinkedBlockingQueue<>();
    final String id;

    Candidate(String id, RegistryCenter registry) {
      this.id = id;
      this.registry = registry;
      this.leadership = registry.leadership(leaderPath(), id, heard::add);
    }
  }

  Candidate candidate(String id) throws InterruptedException {
    return new Candidate(id, start(instancePath(id), new Heard()));
  }

  /** Samples every 1 ms that no two candidates say they lead at once. */
  static final class NeverTwoLeaders implements AutoCloseable {
    private final Thread sampler;
    private volatile boolean running = true;
    private volatile String violation;

    NeverTwoLeaders(List<Candidate> candidates) {
      sampler =
          new Thread(
              () -> {
                while (running) {
                  List<String> leaders = new ArrayList<>();
                  for (Candidate c : candidates) {
                    if (c.leadership.isLeader()) {
                      leaders.add(c.id);
                    }
                  }
                  if (leaders.size() > 1) {
                    violation = "two leaders at once: " + leaders;
                  }
                  try {
                    Thread.sleep(1);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "leader-sampler");
      sampler.setDaemon(true);
      sampler.start();
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      sampler.join();
      assertNull(violation, violation);
    }
  }

  static Candidate leaderOf(List<Candidate> candidates) {
    Candidate found = null;
    for (Candidate c : candidates) {
      if (c.leadership.isLeader()) {
        found = c;
      }
    }
    return found;
  }

  @Test
  void oneLeaderAtATimeAndAnotherTakesOverWhenItLeaves() throws Exception {
    List<Candidate> all = List.of(candidate("c1"), candidate("c2"), candidate("c3"));
    try (NeverTwoLeaders check = new NeverTwoLeaders(all)) {
      await("a leader", () -> leaderOf(all) != null);
      Candidate first = leaderOf(all);
      assertEquals(Boolean.TRUE, first.heard.poll(20, TimeUnit.SECONDS), "told it leads");
      for (Candidate c : all) {
        await(c.id + " sees the leader", () -> first.id.equals(leaderIdOf(c)));
      }
      first.leadership.close();
      assertFalse(first.leadership.isLeader());
      await(
          "another leads",
          () -> {
            Candidate now = leaderOf(all);
            return now != null && now != first;
          });
      Candidate second = leaderOf(all);
      await("the new leader is named", () -> second.id.equals(leaderIdOf(first)));
    }
  }

  private static String leaderIdOf(Candidate c) {
    try {
      return c.leadership.leaderId();
    } catch (RegistryException e) {
      return "error: " + e.getMessage();
    }
  }

  @Test
  void leadershipIsLostWithTheSessionBeforeAnotherTakesOver() throws Exception {
    List<Candidate> all = List.of(candidate("s1"), candidate("s2"));
    try (NeverTwoLeaders check = new NeverTwoLeaders(all)) {
      await("a leader", () -> leaderOf(all) != null);
      Candidate first = leaderOf(all);
      assertEquals(Boolean.TRUE, first.heard.poll(20, TimeUnit.SECONDS));
      backend().expire(first.registry);
      assertEquals(Boolean.FALSE, first.heard.poll(20, TimeUnit.SECONDS), "told it lost");
      await(
          "the other leads",
          () -> {
            Candidate now = leaderOf(all);
            return now != null && now != first;
          });
    }
  }

  @Test
  void onlyTheLeaderWritesThroughTheLeadershipGuard() throws Exception {
    List<Candidate> all = List.of(candidate("g1"), candidate("g2"));
    await("a leader", () -> leaderOf(all) != null);
    Candidate leader = leaderOf(all);
    Candidate other = all.get(0) == leader ? all.get(1) : all.get(0);
    String key = "/" + namespace + "/control/actions/shop/ds_0";
    leader.leadership.writeIfLeader(key, "{\"action\":\"disable\"}");
    assertEquals("{\"action\":\"disable\"}", value(key), "created with its parents");
    assertThrows(NotLeaderException.class, () -> other.leadership.writeIfLeader(key, "theirs"));
    assertEquals("{\"action\":\"disable\"}", value(key), "the other's write changed nothing");
    leader.leadership.close();
    assertThrows(NotLeaderException.class, () -> leader.leadership.writeIfLeader(key, "gone"));
    await("the other leads", other.leadership::isLeader);
    other.leadership.writeIfLeader(key, "theirs");
    assertEquals("theirs", value(key));
  }

  /**
   * An automatic action writes the datanode and its action record in one guarded transaction: both
   * at one revision (so that a later reader can tell whether the node still holds that action's
   * value), one of them created, the other set; a non-leader writes neither.
   */
  @Test
  void aGuardedWriteOfTwoKeysAppliesBothAtOneRevisionOrNeither() throws Exception {
    List<Candidate> all = List.of(candidate("m1"), candidate("m2"));
    await("a leader", () -> leaderOf(all) != null);
    Candidate leader = leaderOf(all);
    Candidate other = all.get(0) == leader ? all.get(1) : all.get(0);
    String node = "/" + namespace + "/states/datanodes/shop/ds_2";
    String record = "/" + namespace + "/control/actions/shop/ds_2";
    backend().put(node, "");
    java.util.Map<String, String> writes = new java.util.LinkedHashMap<>();
    writes.put(node, "DISABLED");
    writes.put(record, "{\"action\":\"disable\"}");
    assertThrows(NotLeaderException.class, () -> other.leadership.writeIfLeader(writes));
    assertEquals("", value(node), "the other's write changed nothing");
    assertNull(value(record), "nor created anything");
    leader.leadership.writeIfLeader(writes);
    assertEquals("DISABLED", value(node));
    assertEquals("{\"action\":\"disable\"}", value(record));
    assertEquals(backend().revision(node), backend().revision(record), "one revision");
  }

  /**
   * The leader is cut off from the registry by a partition (a TCP proxy that stops forwarding, so
   * that what it sends arrives only after the partition heals); another takes over. A write the
   * former leader made during the partition, and any it makes afterwards, is rejected by the
   * registry itself: the value stays the new leader's.
   */
  @Test
  void aPartitionedFormerLeadersWritesAreRejected() throws Exception {
    String key = "/" + namespace + "/control/actions/shop/ds_1";
    try (TcpProxy proxy = new TcpProxy(backend().address())) {
      RegistryCenter behind = backend().newRegistryAt(proxy.address(), paths, instancePath("p1"));
      started.add(behind);
      behind.start(new Heard());
      assertTrue(behind.awaitInitialSync(20_000));
      Candidate a = new Candidate("p1", behind);
      await("the proxied candidate leads", a.leadership::isLeader);
      Candidate b = candidate("p2");
      List<Candidate> all = List.of(a, b);
      a.leadership.writeIfLeader(key, "a-before");
      try (NeverTwoLeaders check = new NeverTwoLeaders(all)) {
        proxy.partition();
        java.util.concurrent.CompletableFuture<Void> late =
            java.util.concurrent.CompletableFuture.runAsync(
                () -> {
                  try {
                    a.leadership.writeIfLeader(key, "a-during");
                  } catch (RegistryException e) {
                    throw new java.util.concurrent.CompletionException(e);
                  }
                });
        await("the partitioned leader says it lost", () -> !a.leadership.isLeader());
        await("the other takes over", b.leadership::isLeader);
        b.leadership.writeIfLeader(key, "b-after");
        proxy.heal();
        await("the former leader is back", behind::isConnected);
        try {
          late.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException expected) {
          // rejected, or failed for want of the registry: either way not applied (checked below)
        }
        assertThrows(NotLeaderException.class, () -> a.leadership.writeIfLeader(key, "a-after"));
        assertEquals("b-after", value(key), "the former leader's writes were all rejected");
      }
    }
  }

  private boolean owned(String path, RegistryCenter r) {
    try {
      return backend().ownedBy(path, r);
    } catch (Exception e) {
      return false;
    }
  }
}
