package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * Split brain, nothing lost (SPEC section 7): the bank workload runs through several pools on a
 * group's address while the primary changes under it.
 *
 * <ul>
 *   <li>MariaDB: a real primary and replica with binlog replication; the replica is promoted and
 *       orchestrator's key rewritten while the old primary stays up and writable;
 *   <li>Patroni: a real PostgreSQL cluster on ZooKeeper; {@code patronictl switchover} under load.
 * </ul>
 *
 * Checked in the databases, per pool: no transfer that started after the agent applied the change
 * was committed by the old primary (each ledger row names the server that wrote it and when its
 * transfer started, on the application's clock, the clock the Group MBean's {@code LastFailover} is
 * read on); every acknowledged commit is on one of the two; money is neither made nor lost and no
 * transfer is half applied on each; and transfers went on, on the new primary.
 */
class SplitBrainIT {

  static final int ACCOUNTS = 20;
  static final long BALANCE = 1000;
  static final Pattern HOST_PORT = Pattern.compile("//([^/:;?]+):(\\d+)");

  /** What the application runs: pools over the driver, over its data source, and under XA. */
  static final List<String> ON_MARIADB =
      List.of(
          "hikari",
          "dbcp2",
          "tomcat",
          "c3p0",
          "druid",
          "vibur",
          "ucp",
          "driver-ds",
          "hikari-ds",
          "atomikos");

  static final List<String> ON_POSTGRESQL = List.of("hikari", "dbcp2", "driver-ds", "atomikos");

  /** One database's side of the story: how to connect to it, and its server's port. */
  interface Database {
    Connection connect() throws SQLException;

    String port();
  }

  @Test
  void onMariaDbTheOldPrimaryStaysWritable() throws Exception {
    onMariaDb(0);
  }

  /** With a grace, work in flight may finish on the old primary; nothing new starts there. */
  @Test
  void onMariaDbWithAGrace() throws Exception {
    onMariaDb(2000);
  }

  private void onMariaDb(long graceMs) throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        MariaDbReplication replication = MariaDbReplication.start()) {
      MariaDbServer primary = replication.primary();
      MariaDbServer replica = replication.replica();
      String key = "/mysql/master/bank";
      zk.create(key, primary.hostAndPort());
      String url = primary.url("mariadb");
      Matcher m = HOST_PORT.matcher(url);
      assertTrue(m.find(), url);
      String address = "bank-rw.invalid:" + m.group(2);
      String routedUrl = url.replace("//" + m.group(1) + ":" + m.group(2), "//" + address);
      Database old = database(() -> MariaDbReplication.root(primary), primary.port());
      Database fresh = database(() -> MariaDbReplication.root(replica), replica.port());
      run(
          "MariaDB (cutoff.grace-ms=" + graceMs + ")",
          zk,
          routedUrl,
          MariaDbServer.APP_USER,
          MariaDbServer.APP_PASSWORD,
          ON_MARIADB,
          ",cutoff.grace-ms="
              + graceMs
              + ",groups.bank.address="
              + address
              + ",groups.bank.primary=orchestrator:bank",
          old,
          fresh,
          replication::awaitReplicaCaughtUp,
          () -> {
            replication.promoteReplica();
            // as orchestrator writes it: the main key, then the breakdown keys one by one
            zk.set(key, replica.hostAndPort());
            zk.create(key + "/hostname", "127.0.0.1");
            zk.create(key + "/port", String.valueOf(replica.port()));
            zk.create(key + "/ipv4", "127.0.0.1");
            zk.create(key + "/ipv6", "");
          },
          true);
    }
  }

  @Test
  void onPatroniASwitchoverUnderLoad() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        PatroniCluster cluster = PatroniCluster.onZooKeeper(zk.connectString()).start()) {
      String first = cluster.leader();
      String second =
          cluster.memberNames().stream().filter(n -> !n.equals(first)).findFirst().orElseThrow();
      String address = cluster.scope() + "-rw.invalid:5432";
      Database old = database(() -> cluster.connect(first), port(cluster.member(first)));
      Database fresh = database(() -> cluster.connect(second), port(cluster.member(second)));
      CompletableFuture<Void>[] switchover = new CompletableFuture[1];
      run(
          "Patroni",
          zk,
          "jdbc:postgresql://" + address + "/postgres",
          PatroniCluster.SUPERUSER,
          PatroniCluster.SUPERUSER_PASSWORD,
          ON_POSTGRESQL,
          ",groups.bank.address=" + address + ",groups.bank.primary=patroni:" + cluster.scope(),
          old,
          fresh,
          () -> awaitTables(fresh),
          () ->
              switchover[0] =
                  CompletableFuture.runAsync(
                      () -> {
                        try {
                          cluster.switchover(second);
                        } catch (Exception e) {
                          throw new IllegalStateException(e);
                        }
                      }),
          false);
      switchover[0].get(90, TimeUnit.SECONDS);
    }
  }

  interface Step {
    void run() throws Exception;
  }

  interface Connector {
    Connection connect() throws SQLException;
  }

  private static Database database(Connector connector, int port) {
    return database(connector, String.valueOf(port));
  }

  private static Database database(Connector connector, String port) {
    return new Database() {
      @Override
      public Connection connect() throws SQLException {
        return connector.connect();
      }

      @Override
      public String port() {
        return port;
      }
    };
  }

  private static String port(String hostPort) {
    return hostPort.substring(hostPort.lastIndexOf(':') + 1);
  }

  /** Waits until the bank's tables have reached {@code db} (a replica). */
  private static void awaitTables(Database db) {
    Await.until(
        "the bank's tables on the replica",
        Duration.ofSeconds(30),
        () -> {
          try (Connection c = db.connect();
              Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM accounts_hikari")) {
            return rs.next() && rs.getLong(1) == ACCOUNTS;
          } catch (SQLException e) {
            return false;
          }
        });
  }

  private void run(
      String what,
      ZooKeeperFixture zk,
      String url,
      String user,
      String password,
      List<String> pools,
      String groupArgs,
      Database old,
      Database fresh,
      Step caughtUp,
      Step failover,
      boolean oldStaysPrimary)
      throws Exception {
    try (AppProcess app =
        AppProcess.poolApp("multi", url, user, password, String.join(",", pools))
            .agentArgs(InstanceCutOffIT.registryArgsFor(zk) + groupArgs)
            .sysProp("com.atomikos.icatch.throw_on_heuristic", "true")
            .sysProp("sluice.log.level", System.getProperty("sluice.it.agent-log", "info"))
            .jmx()
            .start()) {
      assertTrue(app.send("bank-setup " + ACCOUNTS + " " + BALANCE, 120).ok);
      caughtUp.run();
      MBeanServerConnection jmx = app.jmx();
      ObjectName group = new ObjectName("sluice:type=Group,name=bank");
      InstanceCutOffIT.awaitMBean(jmx, group);
      assertTrue(app.send("bank-start 2").ok);
      Map<String, Map<String, Long>> before =
          Await.until(
              "commits through every pool",
              Duration.ofSeconds(30),
              () -> stats(app),
              s -> pools.stream().allMatch(p -> acked(s, p) >= 20));

      failover.run();
      Await.until(
          "the agent applying the new primary",
          Duration.ofSeconds(60),
          () -> attribute(jmx, group, "Failovers"),
          n -> ((Long) n) >= 1);
      Instant applied = Instant.parse((String) attribute(jmx, group, "LastFailover"));
      long appliedMicros = ChronoUnit.MICROS.between(Instant.EPOCH, applied);
      assertEquals(
          "127.0.0.1:" + fresh.port(), attribute(jmx, group, "Primary"), "the new primary");
      // transfers go on, on the new primary, through every pool
      Await.until(
          "commits of every pool on the new primary",
          Duration.ofSeconds(60),
          () -> onServer(fresh, pools, fresh.port()),
          counts -> pools.stream().allMatch(p -> counts.get(p) >= 20));

      Map<String, Map<String, Long>> stopped = NothingLostIT.parse(app.send("bank-stop", 120).text);
      Map<String, Set<Long>> acked = ackedIds(app.send("bank-acked", 120).text);
      System.out.printf(
          "split brain on %s: the agent applied the new primary at %s%n", what, applied);
      for (String pool : pools) {
        Map<Long, Row> onOld = rows(old, pool);
        Map<Long, Row> onNew = rows(fresh, pool);
        long lateOnOld = 0;
        long startedBeforeCommittedOnOldAfterSplit = 0;
        List<String> afterApplyOnOld = new ArrayList<>();
        for (Row r : onOld.values()) {
          if (old.port().equals(r.server) && !onNew.containsKey(r.id)) {
            startedBeforeCommittedOnOldAfterSplit++;
          }
          if (old.port().equals(r.server) && r.started > appliedMicros) {
            lateOnOld++;
            afterApplyOnOld.add(r.id + "@+" + (r.started - appliedMicros) + "µs");
          }
        }
        for (Row r : onNew.values()) {
          if (old.port().equals(r.server) && r.started > appliedMicros) {
            lateOnOld++;
            afterApplyOnOld.add(r.id + "@+" + (r.started - appliedMicros) + "µs");
          }
        }
        Set<Long> missing = new HashSet<>(acked.get(pool));
        missing.removeAll(onOld.keySet());
        missing.removeAll(onNew.keySet());
        long newOnes = onNew.values().stream().filter(r -> fresh.port().equals(r.server)).count();
        System.out.printf(
            "  %-10s %s; ledger: %d on the old primary (%d only there), %d on the new (%d written"
                + " by it); started after the change and committed by the old primary: %d%n",
            pool,
            stopped.get(pool),
            onOld.size(),
            startedBeforeCommittedOnOldAfterSplit,
            onNew.size(),
            newOnes,
            lateOnOld);
        if (!afterApplyOnOld.isEmpty()) {
          System.out.println(String.join("\n", app.agentLog()));
        }
        assertEquals(
            List.of(),
            afterApplyOnOld,
            pool
                + ": transfers that started after the agent applied the change and were committed"
                + " by the old primary");
        assertEquals(Set.of(), missing, pool + ": acknowledged transfers on neither database");
        assertBalanced(fresh, pool, "the new primary");
        if (oldStaysPrimary) {
          assertBalanced(old, pool, "the old primary");
        }
        assertTrue(newOnes >= 20, pool + ": transfers committed by the new primary");
        assertTrue(acked(stopped, pool) > acked(before, pool), pool + ": commits after the change");
      }
    }
  }

  /** One ledger row: its transfer's id, start (µs since the epoch) and the server that wrote it. */
  static final class Row {
    final long id;
    final long started;
    final String server;

    Row(long id, long started, String server) {
      this.id = id;
      this.started = started;
      this.server = server;
    }
  }

  private static Map<Long, Row> rows(Database db, String pool) throws SQLException {
    Map<Long, Row> out = new HashMap<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, started, server FROM transfers_" + table(pool))) {
      while (rs.next()) {
        out.put(rs.getLong(1), new Row(rs.getLong(1), rs.getLong(2), rs.getString(3)));
      }
    }
    return out;
  }

  /** Per pool, how many ledger rows {@code server} wrote, as {@code db} has them. */
  private static Map<String, Long> onServer(Database db, List<String> pools, String server) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String pool : pools) {
      try (Connection c = db.connect();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT COUNT(*) FROM transfers_"
                      + table(pool)
                      + " WHERE server = '"
                      + server
                      + "'")) {
        rs.next();
        out.put(pool, rs.getLong(1));
      } catch (SQLException e) {
        out.put(pool, -1L);
      }
    }
    return out;
  }

  /** Money neither made nor lost, and every balance what the ledger of {@code db} says. */
  private static void assertBalanced(Database db, String pool, String which) throws SQLException {
    String t = table(pool);
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT SUM(balance) FROM accounts_" + t)) {
        rs.next();
        assertEquals(ACCOUNTS * BALANCE, rs.getLong(1), pool + ": the total on " + which);
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT a.id, a.balance, (SELECT COALESCE(SUM(amount), 0) FROM transfers_"
                  + t
                  + " x WHERE x.from_id = a.id), (SELECT COALESCE(SUM(amount), 0) FROM"
                  + " transfers_"
                  + t
                  + " x WHERE x.to_id = a.id) FROM accounts_"
                  + t
                  + " a")) {
        while (rs.next()) {
          assertEquals(
              BALANCE - rs.getLong(3) + rs.getLong(4),
              rs.getLong(2),
              pool + ": account " + rs.getLong(1) + " on " + which + " is what its ledger says");
        }
      }
    }
  }

  private static String table(String pool) {
    return pool.replaceAll("[^A-Za-z0-9]", "_");
  }

  /** {@code pool{1,2,3};pool{...};} into the ids per pool. */
  private static Map<String, Set<Long>> ackedIds(String text) {
    Map<String, Set<Long>> out = new LinkedHashMap<>();
    for (String part : text.trim().split(";")) {
      int open = part.indexOf('{');
      if (open < 0) {
        continue;
      }
      Set<Long> ids = new HashSet<>();
      for (String id : part.substring(open + 1, part.lastIndexOf('}')).split(",")) {
        if (!id.isBlank()) {
          ids.add(Long.parseLong(id.trim()));
        }
      }
      out.put(part.substring(0, open).trim(), ids);
    }
    return out;
  }

  private static Object attribute(MBeanServerConnection jmx, ObjectName name, String attribute) {
    try {
      return jmx.getAttribute(name, attribute);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Map<String, Long>> stats(AppProcess app) {
    try {
      return NothingLostIT.parse(app.send("bank-stats").text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static long acked(Map<String, Map<String, Long>> stats, String pool) {
    Map<String, Long> s = stats.get(pool);
    return s == null ? -1 : s.get("acked");
  }
}
