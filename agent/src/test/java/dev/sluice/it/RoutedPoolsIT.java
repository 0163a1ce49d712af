package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every pool and data source of the matrix routes (SPEC section 7): the application's URL names a
 * group's address, a host that does not exist, and every borrow reaches the primary the group's
 * node names, through {@code javax.sql.DataSource} and through the pool's own type; on H2, with two
 * servers, a failover moves the pool's new connections and aborts those on the former primary
 * (every pool but H2's own). Pools that use a driver's own data source (which opens connections
 * without {@code Driver.connect}) are among them. MariaDB Connector/J's own pool cannot be routed:
 * the agent says so in its log.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoutedPoolsIT {

  private static final Pattern HOST_PORT = Pattern.compile("//([^/:;?]+):(\\d+)");

  /** Driver's own pools, which open connections on their own threads: not routed, but said so. */
  static final List<String> UNROUTABLE = List.of("mariadb-pool");

  ZooKeeperFixture zk;
  PostgresServer postgres;
  MariaDbServer mariadb;
  H2TcpServer a;
  H2TcpServer b;

  static Stream<Arguments> rows() {
    List<Arguments> rows = new ArrayList<>();
    for (String pool : PoolMatrix.onPostgreSql()) {
      rows.add(Arguments.of(pool, "postgresql"));
    }
    for (String pool : PoolMatrix.onMariaDb()) {
      rows.add(Arguments.of(pool, "mariadb"));
    }
    rows.add(Arguments.of("driver-ds", "mysql"));
    rows.add(Arguments.of("hikari-ds", "mysql"));
    for (String pool : List.of("hikari", "driver-ds", "hikari-ds", "h2pool", "agroal")) {
      rows.add(Arguments.of(pool, "h2"));
    }
    return PoolMatrix.selected(rows);
  }

  @BeforeAll
  void start() throws Exception {
    zk = new ZooKeeperFixture();
    postgres = PostgresServer.start();
    mariadb = MariaDbServer.start();
    a = new H2TcpServer("routed", "routed_a");
    b = new H2TcpServer("routed", "routed_b");
    for (H2TcpServer[] s : new H2TcpServer[][] {{a}, {b}}) {
      try (java.sql.Connection c =
              java.sql.DriverManager.getConnection(h2Url(s[0].hostPort()), "sa", "");
          java.sql.Statement st = c.createStatement()) {
        st.execute("CREATE TABLE WHO(NAME VARCHAR(8))");
        st.execute("INSERT INTO WHO VALUES ('" + (s[0] == a ? "a" : "b") + "')");
      }
    }
  }

  private static String h2Url(String hostPort) {
    return "jdbc:h2:tcp://" + hostPort + "/routed;DB_CLOSE_DELAY=-1";
  }

  @AfterAll
  void stop() throws Exception {
    a.close();
    b.close();
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
        return new String[] {h2Url(a.hostPort()), "sa", ""};
      default:
        throw new IllegalArgumentException(db);
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("rows")
  void borrowsThroughTheGroupAddressReachThePrimary(String pool, String db) throws Exception {
    String[] real = urlOf(pool, db);
    Matcher m = HOST_PORT.matcher(real[0]);
    assertTrue(m.find(), real[0]);
    String primary = m.group(1) + ":" + m.group(2);
    String group = (pool + "-" + db).replaceAll("[^A-Za-z0-9]", "");
    String address = group + "-rw.invalid:" + m.group(2);
    String[] routed = real.clone();
    routed[0] = real[0].replace("//" + primary, "//" + address);
    zk.create("/sluice/states/groups/" + group + "/primary", primary);
    try (AppProcess app =
        AppProcess.poolApp(pool, routed)
            .sysProp("sluice.log.level", System.getProperty("sluice.it.agent-log", "info"))
            .agentArgs(
                InstanceCutOffIT.registryArgsFor(zk)
                    + ",groups."
                    + group
                    + ".address="
                    + address
                    + ",groups."
                    + group
                    + ".failover-wait-ms=2000")
            .start()) {
      if (UNROUTABLE.contains(pool)) {
        app.write("borrow"); // goes where its URL says: nowhere
        Await.until(
            "the agent's warning that " + pool + " cannot be routed",
            java.time.Duration.ofSeconds(20),
            () ->
                app.agentLog().stream()
                    .anyMatch(
                        l ->
                            l.contains("WARN")
                                && l.contains("its connections cannot be routed")
                                && l.contains("group " + group)));
        return;
      }
      AppProcess.Reply borrow = app.send("borrow");
      assertTrue(borrow.ok, () -> pool + " on " + db + ": " + borrow + "\n" + app.output());
      AppProcess.Reply own = app.send("borrow-own");
      assertTrue(own.ok, () -> pool + " on " + db + ": " + own + "\n" + app.output());
      // (not H2's own JdbcConnectionPool: it keeps idle pooled connections whose physical
      // connection no JDBC call reaches without lending it, and lends them after a failover until
      // they are closed; H2 has no replication for a group of its own anyway)
      if (db.equals("h2") && !pool.equals("h2pool")) {
        failover(app, pool, "/sluice/states/groups/" + group + "/primary");
      }
      assertEquals(0, app.exit());
    }
  }

  /** The primary moves from a to b: new connections go to b, the one held on a is aborted. */
  private void failover(AppProcess app, String pool, String key) throws Exception {
    assertTrue(app.send("hold first").ok);
    assertEquals("a", who(app, "first"), pool);
    zk.set(key, b.hostPort());
    int[] n = {0};
    try {
      awaitOnB(app, pool, n);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n" + app.output(), e);
    }
    InstanceCutOffIT.awaitFailure(app, "query first SELECT 1");

    // Fencing the old primary refuses nothing of a pool that goes to the new one now; fencing the
    // new one refuses its borrows. (The pool first went to a: the agent maps it by the group.)
    String nodeA = datanode(a);
    String nodeB = datanode(b);
    fence(app, nodeA, true);
    try {
      AppProcess.Reply r = app.send("hold fenced");
      assertTrue(r.ok, () -> pool + ": a borrow with the old primary fenced: " + r);
      assertEquals("b", who(app, "fenced"), pool);
      assertTrue(app.send("close fenced").ok);
    } finally {
      fence(app, nodeA, false);
    }
    fence(app, nodeB, true);
    try {
      AppProcess.Reply r = app.send("borrow");
      assertFalse(r.ok, () -> pool + ": a borrow with the primary fenced: " + r);
      assertTrue(r.text.contains(nodeB), r::toString);
    } finally {
      fence(app, nodeB, false);
    }
    AppProcess.Reply again = app.send("borrow");
    assertTrue(again.ok, () -> pool + ": a borrow after the primary is enabled again: " + again);
  }

  private static String datanode(H2TcpServer member) {
    return DatasourceCutOffIT.DATANODES + "/routed/" + member.hostPort().replace(':', '_');
  }

  /** Writes DISABLED (or enables) {@code node}; returns once the agent has logged it. */
  private void fence(AppProcess app, String node, boolean disabled) throws Exception {
    Await.until(node, java.time.Duration.ofSeconds(10), () -> exists(node));
    long before = app.agentLog().stream().filter(l -> l.contains(node)).count();
    zk.set(node, disabled ? "DISABLED" : "");
    Await.until(
        "the agent's log of " + node + (disabled ? " DISABLED" : " enabled"),
        java.time.Duration.ofSeconds(10),
        () -> app.agentLog().stream().filter(l -> l.contains(node)).count() > before);
  }

  private boolean exists(String node) {
    try {
      return zk.get(node) != null;
    } catch (Exception e) {
      return false;
    }
  }

  private static void awaitOnB(AppProcess app, String pool, int[] n) {
    Await.until(
        pool + ": a connection that lands on b",
        java.time.Duration.ofSeconds(15),
        () -> {
          String name = "after" + (++n[0]);
          try {
            if (!app.send("hold " + name).ok) {
              return false;
            }
            if ("b".equals(who(app, name))) {
              return true;
            }
            app.send("close " + name);
            return false;
          } catch (Exception e) {
            return false;
          }
        });
  }

  private static String who(AppProcess app, String connection) throws Exception {
    AppProcess.Reply r = app.send("query " + connection + " SELECT NAME FROM WHO");
    return r.ok ? r.text : r.toString();
  }
}
