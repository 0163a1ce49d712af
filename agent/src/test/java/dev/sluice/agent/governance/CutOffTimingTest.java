package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * When a cut-off takes effect: connects that race it, and {@code cutoff.grace-ms}. The governor is
 * driven as the advice in {@code Driver.connect} drives it (see {@link GovernorTest}).
 */
class CutOffTimingTest {

  private final DatasourceCatalog catalog =
      new DatasourceCatalog(List.of(), n -> "/ns/" + n.schema() + "/" + n.name(), n -> "/ns/" + n);
  private final List<Governor> governors = new ArrayList<>();
  private final List<Connection> opened = Collections.synchronizedList(new ArrayList<>());

  private Governor governor(long graceMs) {
    Governor g = new Governor(0, graceMs, catalog, (a, b) -> {});
    g.initialSyncDone();
    governors.add(g);
    return g;
  }

  @AfterEach
  void close() throws SQLException {
    governors.forEach(Governor::close);
    synchronized (opened) {
      for (Connection c : opened) {
        c.close();
      }
    }
  }

  /** A governed {@code Driver.connect}: the check, the driver's connect, then the tracking. */
  private Connection connect(Governor g, String url) throws SQLException {
    Throwable refused = g.checkConnect(null, url, new Properties());
    if (refused != null) {
      throw (SQLException) refused;
    }
    Connection c = DriverManager.getConnection(url);
    opened.add(c);
    g.connected(url, c);
    return c;
  }

  static final int ROUNDS = 40;
  static final int THREADS = 6;

  /**
   * Threads connect without pause while the instance is cut off. A connect that passed the check an
   * instant before the cut-off, and whose driver returns the connection after it, must be aborted
   * like the ones open before: once the cut-off is in force, every connection obtained is aborted
   * and every later connect refused. The test counts the connects that straddled the cut-off, so a
   * run that never hit the race cannot pass.
   */
  @Test
  void everyConnectRacingACutOffIsRefusedOrAborted() throws Exception {
    Governor g = governor(0);
    String url = "jdbc:h2:mem:race;DB_CLOSE_DELAY=-1";
    connect(g, url).close(); // the datasource is known, the database exists
    int straddled = 0;
    for (int round = 0; round < ROUNDS; round++) {
      g.update(s -> s.withInstanceRefusal(null));
      List<Connection> got = Collections.synchronizedList(new ArrayList<>());
      AtomicInteger straddling = new AtomicInteger();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      long[] cutOffAt = {Long.MAX_VALUE};
      CountDownLatch done = new CountDownLatch(THREADS);
      for (int t = 0; t < THREADS; t++) {
        Thread thread =
            new Thread(
                () -> {
                  try {
                    while (true) {
                      long checked = System.nanoTime();
                      Connection c;
                      try {
                        c = connect(g, url);
                      } catch (SQLException refused) {
                        assertEquals(Governor.SQLSTATE_REJECTED, refused.getSQLState());
                        return; // refused: the cut-off reached this thread
                      }
                      got.add(c);
                      synchronized (cutOffAt) {
                        if (checked < cutOffAt[0] && System.nanoTime() > cutOffAt[0]) {
                          straddling.incrementAndGet();
                        }
                      }
                    }
                  } catch (Throwable e) {
                    failure.set(e);
                  } finally {
                    done.countDown();
                  }
                },
                "connect-" + t);
        thread.setDaemon(true);
        thread.start();
      }
      GovernorTest.await("connects in progress", () -> got.size() >= THREADS * 3);
      synchronized (cutOffAt) {
        cutOffAt[0] = System.nanoTime();
      }
      g.update(s -> s.withInstanceRefusal("Sluice: instance off"));
      assertTrue(done.await(10, TimeUnit.SECONDS), "every thread was refused after the cut-off");
      assertNull(failure.get(), () -> "a connecting thread failed: " + failure.get());
      List<Connection> all;
      synchronized (got) {
        all = new ArrayList<>(got);
      }
      try {
        GovernorTest.await(
            "every connection obtained aborted",
            () -> all.stream().allMatch(TrackedConnections::closed));
      } catch (AssertionError e) {
        long open = all.stream().filter(c -> !TrackedConnections.closed(c)).count();
        throw new AssertionError(
            "round "
                + round
                + ": "
                + open
                + " of "
                + all.size()
                + " connections obtained before or while the cut-off took effect are still"
                + " open ("
                + straddling.get()
                + " straddled it)",
            e);
      }
      straddled += straddling.get();
      synchronized (opened) {
        for (Connection c : opened) {
          c.close();
        }
        opened.clear();
      }
    }
    assertTrue(straddled > 0, "no connect straddled a cut-off: the race was not exercised");
    System.out.println(
        "[CutOffTimingTest] " + straddled + " connects straddled " + ROUNDS + " cut-offs");
  }

  static final long GRACE_MS = 1500;

  /**
   * With {@code cutoff.grace-ms}, new connections are refused at once while open ones stay usable
   * for the grace period, and are aborted when it ends: not before, and not much later.
   */
  @Test
  void openConnectionsAreAbortedWhenTheGracePeriodEnds() throws Exception {
    Governor g = governor(GRACE_MS);
    String url = "jdbc:h2:mem:grace;DB_CLOSE_DELAY=-1";
    Connection instanceHeld = connect(g, url);

    long start = System.nanoTime();
    g.update(s -> s.withInstanceRefusal("Sluice: instance off"));
    assertRefusedAtOnce(g, url);
    assertUsable(instanceHeld, start, "the instance cut-off");
    long usableAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(usableAfterMs < GRACE_MS, "the check ran within the grace: " + usableAfterMs);
    assertAbortedWhenTheGraceEnds(instanceHeld, start, "the instance cut-off");
    g.update(s -> s.withInstanceRefusal(null));

    // The same for one datasource cut off.
    Connection held = connect(g, url);
    Datasource d = catalog.forUrl(url);
    start = System.nanoTime();
    g.update(s -> s.withDatasource(d.path(), true));
    assertRefusedAtOnce(g, url);
    assertUsable(held, start, "the datasource cut-off");
    assertAbortedWhenTheGraceEnds(held, start, "the datasource cut-off");
  }

  /**
   * Without a grace period, whoever sees the new state (JMX reads {@link Governor#state}, the
   * change listener is told) finds the open connections already unusable: an operator who waits for
   * {@code State = DISABLED} and then tries a held connection must see it fail. Many connections,
   * so that aborting them takes the threads that abort a while.
   */
  @Test
  void aCutOffShowsOnceItsOpenConnectionsAreAborted() throws Exception {
    String url = "jdbc:h2:mem:shown;DB_CLOSE_DELAY=-1";
    List<Connection> held = new ArrayList<>();
    AtomicReference<String> toldEarly = new AtomicReference<>();
    Governor g =
        new Governor(
            0,
            0,
            catalog,
            (before, after) -> {
              long open = held.stream().filter(c -> !TrackedConnections.closed(c)).count();
              if (open > 0) {
                toldEarly.compareAndSet(null, open + " connection(s) still open when told");
              }
            });
    g.initialSyncDone();
    governors.add(g);
    for (int i = 0; i < 40; i++) {
      held.add(connect(g, url));
    }
    for (String what : List.of("instance", "datasource")) {
      Thread reader =
          new Thread(
              () -> {
                while (!g.state().cutOff() && !g.state().anyDatasourceDisabled()) {
                  Thread.onSpinWait();
                }
                long open = held.stream().filter(c -> !TrackedConnections.closed(c)).count();
                if (open > 0) {
                  toldEarly.compareAndSet(null, open + " connection(s) open when State showed it");
                }
              });
      reader.start();
      Datasource d = catalog.forUrl(url);
      g.update(
          what.equals("instance")
              ? s -> s.withInstanceRefusal("Sluice: instance off")
              : s -> s.withDatasource(d.path(), true));
      reader.join(10_000);
      assertNull(toldEarly.get(), what + " cut-off: " + toldEarly.get());
      assertTrue(held.stream().allMatch(TrackedConnections::closed), what);
      g.update(s -> s.withInstanceRefusal(null).withDatasource(d.path(), false));
      // the re-enable is told asynchronously too: not while the next round's connections open
      g.awaitShown();
      held.clear();
      for (int i = 0; i < 40; i++) {
        held.add(connect(g, url));
      }
    }
  }

  /**
   * A driver whose abort hangs holds up nothing: the change is in force (new connects refused) and
   * a later change too the moment each is made; the change shows once the wait for the abort gives
   * up, {@link CutOff#ABORT_WAIT_MS} later.
   */
  @Test
  void aDriverSlowToAbortHoldsUpNoLaterChange() throws Exception {
    Governor g = governor(0);
    String url = "jdbc:h2:mem:slow;DB_CLOSE_DELAY=-1";
    connect(g, url).close(); // the datasource is known
    Datasource d = catalog.forUrl(url);
    // a socket that never answers: its abort takes 30 s, or until the governor closes
    Connection hanging = GroupRoutingTest.connection(new AtomicBoolean(), 30_000);
    g.connected(url, hanging);
    g.update(s -> s.withDatasource(d.path(), true));
    assertTrue(g.inForce().datasourceDisabled(d.path()), "in force at once");
    assertRefusedAtOnce(g, url);
    assertTrue(!g.state().datasourceDisabled(d.path()), "not shown while the abort hangs");
    g.update(s -> s.withInstanceRefusal("Sluice: instance off"));
    assertTrue(g.inForce().instanceDisabled(), "a later change is in force at once");
    GovernorTest.await(
        "both shown once the wait gives up",
        () -> g.state().datasourceDisabled(d.path()) && g.state().instanceDisabled());
  }

  private static void assertUsable(Connection c, long start, String what) {
    try {
      assertEquals("1", GovernorTest.CommandQuery.one(c));
    } catch (SQLException e) {
      throw new AssertionError(
          what
              + ": the open connection failed "
              + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)
              + " ms after it, within the grace of "
              + GRACE_MS
              + " ms: "
              + e,
          e);
    }
  }

  private static void assertRefusedAtOnce(Governor g, String url) {
    Throwable refused = g.checkConnect(null, url, new Properties());
    assertNotNull(refused, "a new connection is refused at once, grace or not");
    assertEquals(Governor.SQLSTATE_REJECTED, ((SQLException) refused).getSQLState());
  }

  private static void assertAbortedWhenTheGraceEnds(Connection c, long start, String what)
      throws InterruptedException {
    GovernorTest.await(what + ": the held connection aborted", () -> TrackedConnections.closed(c));
    long abortedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(
        abortedAfterMs >= GRACE_MS,
        what + ": aborted after " + abortedAfterMs + " ms, before the grace of " + GRACE_MS);
    assertTrue(
        abortedAfterMs < GRACE_MS + 3000,
        what + ": aborted after " + abortedAfterMs + " ms, long after the grace of " + GRACE_MS);
    System.out.println(
        "[CutOffTimingTest] "
            + what
            + ": aborted after "
            + abortedAfterMs
            + " ms (grace "
            + GRACE_MS
            + ")");
  }
}
