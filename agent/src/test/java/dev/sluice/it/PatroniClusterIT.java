package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.etcd.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The Patroni fixture on both registries, checked through the registry itself, read the way a
 * router will read it (a plain ZooKeeper client, a jetcd client): the leader key names the member
 * that takes writes, each member's key holds its {@code conn_url}; a switchover and a crash of the
 * leader move the leader key to the other member, which then takes writes. The measured times are
 * printed.
 */
class PatroniClusterIT {

  /** Reads one registry key as Patroni wrote it; {@code null} when absent. */
  private interface Registry {
    String get(String key) throws Exception;
  }

  @Test
  void onZooKeeper() throws Exception {
    long start = System.nanoTime();
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        PatroniCluster cluster = PatroniCluster.onZooKeeper(zk.connectString()).start()) {
      System.out.printf(
          "PatroniClusterIT[ZooKeeper] registry and cluster up in %d ms%n",
          ms(System.nanoTime() - start));
      exercise("ZooKeeper", cluster, zk::get, InstanceCutOffIT.registryArgsFor(zk));
    }
  }

  @Test
  void onEtcd() throws Exception {
    long start = System.nanoTime();
    try (EtcdCluster etcd = EtcdCluster.single();
        Client client = etcd.client(null);
        PatroniCluster cluster = PatroniCluster.onEtcd(etcd.endpoints()).start()) {
      System.out.printf(
          "PatroniClusterIT[etcd] registry and cluster up in %d ms%n",
          ms(System.nanoTime() - start));
      exercise(
          "etcd",
          cluster,
          key -> {
            List<KeyValue> kvs =
                client
                    .getKVClient()
                    .get(ByteSequence.from(key, StandardCharsets.UTF_8))
                    .get(5, TimeUnit.SECONDS)
                    .getKvs();
            return kvs.isEmpty() ? null : kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
          },
          "registry=etcd://" + etcd.endpoints());
    }
  }

  /**
   * Patroni's keys through a switchover and a crash of the leader, and an application whose URL
   * names a group {@code primary=patroni:<scope>} (registry {@code registryArgs}): its connects
   * follow the leader, its reads go to the replica, its connections to a former leader are aborted.
   */
  private static void exercise(
      String registryName, PatroniCluster cluster, Registry registry, String registryArgs)
      throws Exception {
    String tag = "PatroniClusterIT[" + registryName + "]";
    String prefix = cluster.registryPrefix();
    String first = cluster.leader();
    String second = other(cluster, first);

    // What Patroni wrote: the leader key, and each member's connection URL, role and state.
    assertEquals(first, registry.get(prefix + "/leader"));
    String firstJson = awaitMember(registry, prefix, first, PatroniCluster.PRIMARY_ROLES);
    String secondJson = awaitMember(registry, prefix, second, List.of("replica"));
    assertEquals("postgres://" + cluster.member(first) + "/postgres", field(firstJson, "conn_url"));
    assertEquals(
        "postgres://" + cluster.member(second) + "/postgres", field(secondJson, "conn_url"));
    assertEquals("running", field(firstJson, "state"));

    try (Connection c = cluster.connect(first);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE events (id SERIAL PRIMARY KEY, what TEXT)");
    }
    write(cluster, first, "before switchover");
    awaitRow(cluster, second, "before switchover");
    assertReadOnly(cluster, second);

    String address = cluster.scope() + "-rw.invalid:5432";
    String readAddress = cluster.scope() + "-ro.invalid:5432";
    try (AppProcess app =
        AppProcess.jdbcApp(
                "jdbc:postgresql://" + address + "/postgres",
                PatroniCluster.SUPERUSER,
                PatroniCluster.SUPERUSER_PASSWORD)
            .agentArgs(
                registryArgs
                    + ",groups.pg.address="
                    + address
                    + ",groups.pg.read-address="
                    + readAddress
                    + ",groups.pg.primary=patroni:"
                    + cluster.scope())
            .jmx()
            .start()) {
      followed(tag, registryName, cluster, registry, app, first, second, readAddress);
    }
  }

  /** The switchover and the crash, with {@code app} routed by Patroni's keys. */
  private static void followed(
      String tag,
      String registryName,
      PatroniCluster cluster,
      Registry registry,
      AppProcess app,
      String first,
      String second,
      String readAddress)
      throws Exception {
    String prefix = cluster.registryPrefix();
    String onFirst = awaitRoutedTo(app, "w", cluster, first, Duration.ofSeconds(30));
    assertEquals("false", query(app, onFirst, "SELECT pg_is_in_recovery()"));
    String read = awaitReadOn(app, "r", readAddress, cluster, second);
    assertEquals("true", query(app, read, "SELECT pg_is_in_recovery()"));
    MBeanServerConnection jmx = app.jmx();
    ObjectName bean = new ObjectName("sluice:type=Group,name=pg");
    InstanceCutOffIT.awaitMBean(jmx, bean);
    assertEquals(prefix + "/leader", jmx.getAttribute(bean, "PrimarySource"));
    assertEquals(cluster.member(first), jmx.getAttribute(bean, "Primary"));
    assertArrayEquals(
        new String[] {cluster.member(second) + " ENABLED"},
        (String[]) jmx.getAttribute(bean, "Replicas"));

    // A planned switchover with patronictl.
    long start = System.nanoTime();
    CompletableFuture<Long> command =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                cluster.switchover(second);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
              return System.nanoTime();
            });
    long keyMoved = awaitLeaderKey(registry, prefix, second, Duration.ofSeconds(60), command);
    long writable = awaitWritable(cluster, second, "after switchover", Duration.ofSeconds(60));
    long commandDone = command.get(90, TimeUnit.SECONDS);
    System.out.printf(
        "%s switchover %s -> %s: leader key after %d ms, new leader took a write after %d ms,"
            + " patronictl returned after %d ms%n",
        tag, first, second, ms(keyMoved - start), ms(writable - start), ms(commandDone - start));
    assertEquals(second, cluster.leader());
    String onSecond = awaitRoutedTo(app, "s", cluster, second, Duration.ofSeconds(30));
    System.out.printf(
        "%s the application's connects reach %s %d ms after patronictl started%n",
        tag, second, ms(System.nanoTime() - start));
    assertEquals("false", query(app, onSecond, "SELECT pg_is_in_recovery()"));
    InstanceCutOffIT.awaitFailure(app, "query " + onFirst + " SELECT 1");
    awaitMember(registry, prefix, second, PatroniCluster.PRIMARY_ROLES);
    cluster.awaitHealthy();
    System.out.printf(
        "%s the old leader %s streams from %s again %d ms after patronictl returned%n",
        tag, first, second, ms(System.nanoTime() - commandDone));
    assertTrue(inRecovery(cluster, first), first + " in recovery");
    assertReadOnly(cluster, first);
    awaitRow(cluster, first, "after switchover");

    // The leader crashes (Patroni and PostgreSQL killed at once): the survivor takes over once
    // the leader key expires.
    start = System.nanoTime();
    String crashed = cluster.crashLeader();
    assertEquals(second, crashed);
    keyMoved =
        awaitLeaderKey(
            registry,
            prefix,
            first,
            Duration.ofSeconds(PatroniCluster.TTL_SECONDS + 30),
            CompletableFuture.completedFuture(0L));
    writable = awaitWritable(cluster, first, "after crash", Duration.ofSeconds(30));
    String again = awaitRoutedTo(app, "c", cluster, first, Duration.ofSeconds(30));
    System.out.printf(
        "%s the application's connects reach %s %d ms after the crash%n",
        tag, first, ms(System.nanoTime() - start));
    assertEquals("false", query(app, again, "SELECT pg_is_in_recovery()"));
    assertEquals(cluster.member(first), jmx.getAttribute(bean, "Primary"));
    assertEquals(2L, jmx.getAttribute(bean, "Failovers"));
    System.out.printf(
        "%s crash of leader %s: leader key names %s after %d ms, %s took a write after %d ms"
            + " (ttl %d s)%n",
        tag,
        crashed,
        first,
        ms(keyMoved - start),
        first,
        ms(writable - start),
        PatroniCluster.TTL_SECONDS);
    assertTrue(
        keyMoved - start < TimeUnit.SECONDS.toNanos(PatroniCluster.TTL_SECONDS + 15),
        "failover took " + ms(keyMoved - start) + " ms");
    assertEquals(
        List.of("before switchover", "after switchover", "after crash"), rows(cluster, first));
  }

  /** The first column of {@code sql} on the app's connection {@code name}. */
  private static String query(AppProcess app, String name, String sql) throws Exception {
    AppProcess.Reply r = app.send("query " + name + " " + sql);
    assertTrue(r.ok, r::toString);
    return r.text;
  }

  /**
   * Opens connections to the group's address, named {@code prefix1, prefix2, ...}, until one lands
   * on {@code member} (by the server's port); closes the others. Its name.
   */
  private static String awaitRoutedTo(
      AppProcess app, String prefix, PatroniCluster cluster, String member, Duration timeout) {
    return app.awaitLanding("open", "", prefix, PORT_QUERY, port(cluster, member), timeout);
  }

  /** As {@link #awaitRoutedTo}, through {@code readAddress}. */
  private static String awaitReadOn(
      AppProcess app, String prefix, String readAddress, PatroniCluster cluster, String member) {
    return app.awaitLanding(
        "openTo",
        " jdbc:postgresql://" + readAddress + "/postgres",
        prefix,
        PORT_QUERY,
        port(cluster, member),
        Duration.ofSeconds(30));
  }

  private static final String PORT_QUERY = "SELECT current_setting('port')";

  private static String port(PatroniCluster cluster, String member) {
    return cluster.member(member).substring("127.0.0.1:".length());
  }

  private static String other(PatroniCluster cluster, String name) {
    return cluster.memberNames().stream().filter(n -> !n.equals(name)).findFirst().orElseThrow();
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** Waits for the member's key to show one of {@code roles} and state running; its JSON. */
  private static String awaitMember(
      Registry registry, String prefix, String name, List<String> roles) {
    String json =
        Await.until(
            "members/" + name + " with a role in " + roles + " and state running",
            Duration.ofSeconds(30),
            () -> read(registry, prefix + "/members/" + name),
            j ->
                j != null
                    && roles.contains(field(j, "role"))
                    && "running".equals(field(j, "state")));
    assertNotNull(field(json, "conn_url"), json);
    return json;
  }

  /** Polls the leader key until it names {@code expected}; the time it first did. */
  private static long awaitLeaderKey(
      Registry registry,
      String prefix,
      String expected,
      Duration timeout,
      CompletableFuture<Long> command) {
    Await.until(
        "the leader key naming " + expected,
        timeout,
        () -> {
          if (command.isCompletedExceptionally()) {
            command.join(); // fails the test with the command's error
          }
          return read(registry, prefix + "/leader");
        },
        expected::equals);
    return System.nanoTime();
  }

  private static String read(Registry registry, String key) {
    try {
      return registry.get(key);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final Pattern FIELD = Pattern.compile("\"(\\w+)\"\\s*:\\s*(\"([^\"]*)\"|[^,}]+)");

  /** A top-level string or scalar field of Patroni's member JSON, or {@code null}. */
  static String field(String json, String name) {
    Matcher m = FIELD.matcher(json);
    while (m.find()) {
      if (m.group(1).equals(name)) {
        return m.group(3) != null ? m.group(3) : m.group(2).trim();
      }
    }
    return null;
  }

  private static void write(PatroniCluster cluster, String member, String what)
      throws SQLException {
    try (Connection c = cluster.connect(member);
        PreparedStatement ps = c.prepareStatement("INSERT INTO events (what) VALUES (?)")) {
      ps.setString(1, what);
      ps.executeUpdate();
    }
  }

  /** Polls until a write to the member succeeds; the time it did. */
  private static long awaitWritable(
      PatroniCluster cluster, String member, String what, Duration timeout) {
    Await.until(
        member + " taking a write",
        timeout,
        () -> {
          try {
            write(cluster, member, what);
            return true;
          } catch (SQLException e) {
            return false;
          }
        });
    return System.nanoTime();
  }

  private static void assertReadOnly(PatroniCluster cluster, String member) {
    SQLException refused =
        assertThrows(SQLException.class, () -> write(cluster, member, "on a replica"));
    assertEquals("25006", refused.getSQLState(), refused.getMessage()); // read_only_sql_transaction
  }

  private static boolean inRecovery(PatroniCluster cluster, String member) {
    try (Connection c = cluster.connect(member);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
      return rs.next() && rs.getBoolean(1);
    } catch (SQLException e) {
      return false;
    }
  }

  private static List<String> rows(PatroniCluster cluster, String member) {
    List<String> rows = new ArrayList<>();
    try (Connection c = cluster.connect(member);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT what FROM events ORDER BY id")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e); // not yet: the table has not reached the replica
    }
    return rows;
  }

  private static void awaitRow(PatroniCluster cluster, String member, String what) {
    Await.until(
        "'" + what + "' on " + member,
        Duration.ofSeconds(30),
        () -> rows(cluster, member),
        rows -> rows.contains(what));
  }
}
