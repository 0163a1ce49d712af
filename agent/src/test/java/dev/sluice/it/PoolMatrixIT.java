package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every pool and data source of the matrix ({@code PoolApp}'s), each in an app JVM of its own with
 * the agent and its own defaults, against real PostgreSQL, MariaDB and H2 servers:
 *
 * <ul>
 *   <li>while the instance is {@code DISABLED}, and while the datanode is, a borrow is refused at
 *       once (not after the pool's 10 s wait), through {@code javax.sql.DataSource} and through the
 *       pool's own type;
 *   <li>the connections the application holds are really aborted: the application sees them fail,
 *       {@code AbortedConnections} counts them, {@code OpenConnections} counted them right before;
 *   <li>after the re-enable a good borrow comes within 1 s, and no borrow fails after it;
 *   <li>five toggles a second apart behave the same each time;
 *   <li>a borrow minutes after the last re-enable gets a live connection.
 * </ul>
 *
 * <p>Prints one table of refusal and recovery times per pool (quoted in the README).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoolMatrixIT {

  /** Toggles after the first, a second apart. */
  static final int TOGGLES = 5;

  static final Duration MINUTES_LATER =
      Duration.ofSeconds(Long.getLong("sluice.matrix.later-seconds", 120));

  ZooKeeperFixture zk;
  PostgresServer postgres;
  MariaDbServer mariadb;
  H2TcpServer h2;

  final Map<String, AppProcess> apps = new LinkedHashMap<>();
  final Map<String, Long> lastEnabledNanos = new ConcurrentHashMap<>();
  final Map<String, String[]> timings = new LinkedHashMap<>();

  /** {@code pool, database}: every pool on PostgreSQL, and what each driver brings on its own. */
  static Stream<Arguments> rows() {
    List<Arguments> rows = new ArrayList<>();
    for (String pool : PoolMatrix.onPostgreSql()) {
      rows.add(Arguments.of(pool, "postgresql"));
    }
    // (not H2's pool over MariaDB's ConnectionPoolDataSource: a handle of MariaDB's pooled
    // connection never tells its listeners it was closed, so that pool runs dry without the agent)
    for (String pool : List.of("mariadb-pool", "driver-ds", "hikari-ds", "atomikos", "druid")) {
      rows.add(Arguments.of(pool, "mariadb"));
    }
    rows.add(Arguments.of("driver-ds", "mysql"));
    rows.add(Arguments.of("hikari-ds", "mysql"));
    for (String pool : List.of("driver-ds", "hikari-ds", "h2pool", "agroal")) {
      rows.add(Arguments.of(pool, "h2"));
    }
    return PoolMatrix.selected(rows);
  }

  @BeforeAll
  void start() throws Exception {
    zk = new ZooKeeperFixture();
    postgres = PostgresServer.start();
    mariadb = MariaDbServer.start();
    h2 = new H2TcpServer();
  }

  @AfterAll
  void stop() throws Exception {
    printTimings();
    for (AppProcess app : apps.values()) {
      app.close();
    }
    h2.close();
    mariadb.close();
    postgres.close();
    zk.close();
  }

  private String[] urlOf(String pool, String db) {
    switch (db) {
      case "postgresql":
        return new String[] {postgres.jdbcUrl(), postgres.user(), postgres.password()};
      case "mariadb":
      case "mysql":
        return new String[] {mariadb.url(db), "root", ""};
      case "h2":
        return new String[] {h2.url("matrix_" + pool.replace('-', '_')), "sa", ""};
      default:
        throw new IllegalArgumentException(db);
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("rows")
  @Order(1)
  void borrowsAreRefusedAtOnceAndNoAbortedConnectionIsHandedOutAgain(String pool, String db)
      throws Exception {
    String row = pool + " on " + db;
    String[] url = urlOf(pool, db);
    AppProcess app =
        AppProcess.poolApp(pool, url).agentArgs(InstanceCutOffIT.registryArgsFor(zk)).jmx().start();
    apps.put(row, app);
    assertOk(app, "borrow");
    assertOk(app, "borrow-own");

    MBeanServerConnection jmx = app.jmx();
    ObjectName instance = new ObjectName("sluice:type=Instance");
    InstanceCutOffIT.awaitMBean(jmx, instance);
    String instanceNode = (String) jmx.getAttribute(instance, "RegistryPath");
    String instanceId = (String) jmx.getAttribute(instance, "Id");
    ObjectName datasource = datasourceBean(jmx, url[0]);
    String datanodePath = (String) jmx.getAttribute(datasource, "RegistryPath");

    long[] instanceTimes =
        toggles(
            app,
            row,
            new Switch(zk, instanceNode, jmx, instance),
            datasource,
            "instance",
            r -> InstanceCutOffIT.assertRefusal(r, instanceId, instanceNode));
    long[] datanodeTimes =
        toggles(
            app,
            row,
            new Switch(zk, datanodePath, jmx, datasource),
            datasource,
            "datanode",
            r -> DatasourceCutOffIT.assertDatasourceRefusal(r, datanodePath));
    timings.put(
        row,
        new String[] {
          pool,
          db,
          (String) app.send("type").text,
          Long.toString(instanceTimes[0]),
          Long.toString(datanodeTimes[0]),
          Long.toString(instanceTimes[1]),
          Long.toString(datanodeTimes[1]),
          ""
        });
  }

  interface RefusalCheck {
    void check(AppProcess.Reply refused);
  }

  /**
   * The first toggle and {@link #TOGGLES} more, a second apart, of one switch: each a cut-off and a
   * re-enable, checked. Returns the largest refusal and recovery times, in ms.
   */
  private long[] toggles(
      AppProcess app,
      String row,
      Switch sw,
      ObjectName datasource,
      String which,
      RefusalCheck refusal)
      throws Exception {
    long refusedMs = 0;
    long recoveredMs = 0;
    for (int toggle = 0; toggle <= TOGGLES; toggle++) {
      long started = System.nanoTime();
      String where = row + ", " + which + " toggle " + toggle;
      Cut cut = cutOff(app, sw.jmx, datasource, sw.bean, sw, where);
      refusal.check(cut.refused);
      refusedMs = Math.max(refusedMs, cut.refused.ms);
      recoveredMs = Math.max(recoveredMs, reEnable(app, row, sw, where));
      pace(started);
    }
    return new long[] {refusedMs, recoveredMs};
  }

  /** A node and the bean whose {@code State} shows what the agent applied. */
  static final class Switch {
    final ZooKeeperFixture zk;
    final String node;
    final MBeanServerConnection jmx;
    final ObjectName bean;

    Switch(ZooKeeperFixture zk, String node, MBeanServerConnection jmx, ObjectName bean) {
      this.zk = zk;
      this.node = node;
      this.jmx = jmx;
      this.bean = bean;
    }

    void set(String value) throws Exception {
      zk.set(node, value);
    }

    void awaitApplied(String state) {
      PoolsIT.awaitState(jmx, bean, state);
    }
  }

  static final class Cut {
    final AppProcess.Reply refused;

    Cut(AppProcess.Reply refused) {
      this.refused = refused;
    }
  }

  /**
   * Holds two connections, cuts off, and checks: a borrow (both ways) refused at once, the held
   * connections aborted as the application and the counters see it.
   */
  private static Cut cutOff(
      AppProcess app,
      MBeanServerConnection jmx,
      ObjectName datasource,
      ObjectName abortCounter,
      Switch sw,
      String where)
      throws Exception {
    assertOk(app, "hold a");
    assertOk(app, "hold b");
    assertOk(app, "query a SELECT 1");
    int open = (Integer) jmx.getAttribute(datasource, "OpenConnections");
    assertTrue(open >= 1, where + ": the held connections are counted open, " + open);
    long abortedBefore = (Long) jmx.getAttribute(abortCounter, "AbortedConnections");

    sw.set("DISABLED");
    sw.awaitApplied("DISABLED");
    AppProcess.Reply refused = app.send("borrow");
    assertTrue(refused.ms < 1000, where + ": refused at once, not after the pool's wait");
    AppProcess.Reply refusedOwn = app.send("borrow-own");
    assertFalse(refusedOwn.ok, where + ", own type: " + refusedOwn);
    assertEquals("08004", refusedOwn.sqlState(), where + ", own type: " + refusedOwn);
    assertTrue(refusedOwn.ms < 1000, where + ", own type: refused at once " + refusedOwn);

    AppProcess.Reply aborted = InstanceCutOffIT.awaitFailure(app, "query a SELECT 1");
    assertFalse(aborted.sqlState().equals("08004"), where + ": aborted, not refused " + aborted);
    Await.until(
        where + ": AbortedConnections counts the held connections",
        Duration.ofSeconds(10),
        () -> {
          try {
            return (Long) jmx.getAttribute(abortCounter, "AbortedConnections")
                >= abortedBefore + Math.min(open, 2);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    // The counter moves as each abort starts, on the agent's abort threads in parallel; a pool
    // may hold more idle connections than the two counted above.
    Await.until(
        where + ": no connection is counted open after the cut-off",
        Duration.ofSeconds(10),
        () -> {
          try {
            return (Integer) jmx.getAttribute(datasource, "OpenConnections") == 0;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    // the application hands its dead connections back to the pool, as applications do
    app.send("close a");
    app.send("close b");
    return new Cut(refused);
  }

  /**
   * Re-enables and borrows until a borrow is good: until then every answer is the agent's refusal.
   * Returns the milliseconds from the registry write to the good borrow; then no borrow fails.
   */
  private long reEnable(AppProcess app, String row, Switch sw, String where) throws Exception {
    long written = System.nanoTime();
    sw.set("");
    AppProcess.Reply r;
    while (!(r = app.send("borrow")).ok) {
      if (!"08004".equals(r.sqlState())) {
        throw new AssertionError(
            where
                + ": only refusals until access is back, was "
                + r
                + "; the agent's log:\n"
                + String.join("\n", app.agentLog()));
      }
      assertTrue(
          System.nanoTime() - written < 1_000_000_000L,
          where + ": a good borrow within 1 s of the re-enable");
    }
    long ms = (System.nanoTime() - written) / 1_000_000;
    if (ms >= 1000) {
      throw new AssertionError(
          where
              + ": a good borrow within 1 s, was "
              + ms
              + " ms; the agent's log:\n"
              + String.join("\n", app.agentLog()));
    }
    sw.awaitApplied("ENABLED");
    for (int i = 0; i < 6; i++) {
      assertOk(app, "borrow", where + ", borrow " + i + " after the re-enable");
    }
    assertOk(app, "borrow-own", where + ", own type after the re-enable");
    lastEnabledNanos.put(row, System.nanoTime());
    return ms;
  }

  /** Toggles a second apart: pacing, not waiting for anything. */
  private static void pace(long startedNanos) throws InterruptedException {
    long left = 1000 - (System.nanoTime() - startedNanos) / 1_000_000;
    if (left > 0) {
      Thread.sleep(left);
    }
  }

  @Test
  @Order(2)
  void aBorrowMinutesAfterTheLastReEnableGetsALiveConnection() throws Exception {
    assertFalse(apps.isEmpty(), "the matrix ran first");
    for (Map.Entry<String, AppProcess> e : apps.entrySet()) {
      Long enabled = lastEnabledNanos.get(e.getKey());
      if (enabled == null) {
        continue; // that row failed; its own test says why
      }
      long waitMs = MINUTES_LATER.toMillis() - (System.nanoTime() - enabled) / 1_000_000;
      if (waitMs > 0) {
        Thread.sleep(waitMs); // the time that passes is what this test is about
      }
      assertOk(e.getValue(), "borrow", e.getKey() + ", minutes later");
      assertOk(e.getValue(), "borrow-own", e.getKey() + ", minutes later");
      String[] t = timings.get(e.getKey());
      if (t != null) {
        t[7] = "ok";
      }
    }
  }

  /** The DataSource bean of the endpoint the app uses. */
  private static ObjectName datasourceBean(MBeanServerConnection jmx, String url) throws Exception {
    String port = url.replaceAll("^jdbc:[a-z0-9]+:(//|tcp://)[^:/]+:(\\d+).*$", "$2");
    return Await.until(
        "the DataSource bean of " + url,
        Duration.ofSeconds(10),
        () -> {
          try {
            Set<ObjectName> names =
                jmx.queryNames(new ObjectName("sluice:type=DataSource,*"), null);
            for (ObjectName n : names) {
              String endpoint = (String) jmx.getAttribute(n, "Endpoint");
              if (endpoint.contains(":" + port)) {
                return n;
              }
            }
            return null;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        n -> n != null);
  }

  static void assertOk(AppProcess app, String command) throws Exception {
    assertOk(app, command, command);
  }

  static void assertOk(AppProcess app, String command, String where) throws Exception {
    AppProcess.Reply r = app.send(command);
    if (!r.ok) {
      throw new AssertionError(
          where + ": " + r + "\nthe agent's log:\n" + String.join("\n", app.agentLog()));
    }
  }

  private void printTimings() {
    StringBuilder out = new StringBuilder();
    out.append(
        "\npool matrix: refusal = the borrow's own time while cut off (max of 6), recovery = registry"
            + " write to the first good borrow (max of 6), in ms\n");
    out.append(
        "| pool | database | data source class | refused, instance | refused, datanode |"
            + " recovered, instance | recovered, datanode | minutes later |\n");
    out.append("|---|---|---|---|---|---|---|---|\n");
    for (String[] t : timings.values()) {
      out.append(String.format(Locale.ROOT, "| %s |%n", String.join(" | ", t)).replace("\n", ""))
          .append('\n');
    }
    System.out.println(out);
  }
}
