package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.etcd.EtcdCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Routing groups (SPEC section 7) with two real database servers that serve the same database name,
 * each holding a table {@code WHO} that names it: the application's URL names the group's address,
 * a host that does not exist, and every connect lands on the primary the registry names.
 */
class GroupRoutingIT {

  static final String DATABASE = "orders";
  static final long WAIT_MS = 1500;

  static ZooKeeperFixture zk;
  static H2TcpServer a;
  static H2TcpServer b;

  @BeforeAll
  static void start() throws Exception {
    zk = new ZooKeeperFixture();
    a = new H2TcpServer(DATABASE, "member_a");
    b = new H2TcpServer(DATABASE, "member_b");
    name(a, "a");
    name(b, "b");
  }

  @AfterAll
  static void stop() throws Exception {
    a.close();
    b.close();
    zk.close();
  }

  private static void name(H2TcpServer server, String name) throws Exception {
    try (Connection c = DriverManager.getConnection(url(server.hostPort()));
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE WHO(NAME VARCHAR(8))");
      s.execute("INSERT INTO WHO VALUES ('" + name + "')");
    }
  }

  private static String url(String hostPort) {
    return "jdbc:h2:tcp://" + hostPort + "/" + DATABASE + ";DB_CLOSE_DELAY=-1";
  }

  /** Which server {@code connection} (held in {@code app}) is on: {@code a} or {@code b}. */
  private static String server(AppProcess app, String connection) throws Exception {
    AppProcess.Reply r = app.send("query " + connection + " SELECT NAME FROM WHO");
    assertTrue(r.ok, r::toString);
    return r.text;
  }

  /**
   * Opens connections named {@code prefix1, prefix2...} until one lands on {@code expected}; the
   * others are closed again (a pool has few).
   */
  private static String awaitLandsOn(AppProcess app, String open, String prefix, String expected) {
    return app.awaitLanding(
        open, "", prefix, "SELECT NAME FROM WHO", expected, Duration.ofSeconds(10));
  }

  private static void awaitLogged(AppProcess app, String text) {
    Await.until(
        "the agent's log to say " + text,
        Duration.ofSeconds(10),
        () -> app.agentLog().stream().anyMatch(l -> l.contains(text)));
  }

  private static void assertNoPrimaryRefusal(AppProcess.Reply r, String key) {
    assertFalse(r.ok, r::toString);
    assertEquals("java.sql.SQLTransientConnectionException", r.exception(), r::toString);
    assertEquals("08004", r.sqlState(), r::toString);
    assertTrue(r.text.contains(key), r::toString);
    assertTrue(r.ms >= WAIT_MS - 100, "waited failover-wait-ms=" + WAIT_MS + ": " + r);
    assertTrue(r.ms < WAIT_MS + 5000, "and not much longer: " + r);
  }

  @Test
  void aNodeNamesThePrimaryAndAFailoverMovesPlainJdbc() throws Exception {
    String key = "/sluice/states/groups/orders/primary";
    String address = "orders-primary.invalid:9092";
    try (AppProcess app =
        AppProcess.jdbcApp(url(address))
            .agentArgs(
                InstanceCutOffIT.registryArgsFor(zk)
                    + ",groups.orders.address="
                    + address
                    + ",groups.orders.failover-wait-ms="
                    + WAIT_MS)
            .jmx()
            .start()) {
      // no primary known: a connect waits failover-wait-ms, then is refused naming the key
      assertNoPrimaryRefusal(app.send("open none"), key);

      zk.create(key, a.hostPort());
      String first = awaitLandsOn(app, "open", "first", "a");
      assertTrue(app.send("openTo directA " + url(a.hostPort())).ok);

      zk.set(key, b.hostPort());
      awaitLandsOn(app, "open", "second", "b");
      InstanceCutOffIT.awaitFailure(app, "query " + first + " SELECT 1");
      assertEquals("a", server(app, "directA"), "a URL naming the member itself is not routed");

      MBeanServerConnection jmx = app.jmx();
      ObjectName bean = new ObjectName("sluice:type=Group,name=orders");
      InstanceCutOffIT.awaitMBean(jmx, bean);
      assertEquals(address, jmx.getAttribute(bean, "Address"));
      assertEquals("", jmx.getAttribute(bean, "ReadAddress"));
      assertEquals(b.hostPort(), jmx.getAttribute(bean, "Primary"));
      assertEquals(key, jmx.getAttribute(bean, "PrimarySource"));
      assertEquals(zk.stat(key).getMzxid(), jmx.getAttribute(bean, "PrimaryRevision"));
      assertEquals(1L, jmx.getAttribute(bean, "Failovers"));
      assertFalse(((String) jmx.getAttribute(bean, "LastFailover")).isEmpty());
      assertEquals(1, jmx.getAttribute(bean, "OpenConnections"), "the connection routed to b");

      java.util.List<javax.management.AttributeChangeNotification> heard =
          new java.util.concurrent.CopyOnWriteArrayList<>();
      jmx.addNotificationListener(
          bean, (n, h) -> heard.add((javax.management.AttributeChangeNotification) n), null, null);
      assertTrue(app.send("open third").ok);
      assertEquals("b", server(app, "third"));

      // an unparseable value is logged once, and no primary is known while it stands: new
      // connects wait and are refused naming the key, open connections are left alone
      // (ZooKeeper reports the value a node holds when the agent reads it, not every write: each
      // value is awaited before the next is written)
      zk.set(key, "not-a-host-port");
      awaitLogged(app, "'not-a-host-port'");
      zk.set(key, "not-a-host-port");
      zk.set(key, "still:not:one");
      awaitLogged(app, "'still:not:one'");
      AppProcess.Reply garbage = app.send("open garbage");
      assertNoPrimaryRefusal(garbage, key);
      assertTrue(garbage.text.contains("holds 'still:not:one', not host:port"), garbage::toString);
      assertEquals("b", server(app, "third"), "open connections are left alone");
      assertEquals(
          1,
          app.agentLog().stream()
              .filter(l -> l.contains("holds 'not-a-host-port', which is not host:port"))
              .count(),
          () -> String.join("\n", app.agentLog()));
      zk.set(key, " " + b.hostPort() + " ");
      Await.until(
          "Primary announced back to b",
          Duration.ofSeconds(10),
          () ->
              heard.size() >= 2 && b.hostPort().equals(heard.get(heard.size() - 1).getNewValue()));
      assertEquals(b.hostPort(), heard.get(0).getOldValue(), "b -> none, announced");
      assertEquals("", heard.get(0).getNewValue());

      // no primary known again: open connections are left alone, new ones wait and are refused
      zk.set(key, "");
      AppProcess.Reply refused =
          Await.until(
              "a refused connect",
              Duration.ofSeconds(20),
              () -> {
                try {
                  return app.send("open waiting");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              r -> !r.ok);
      assertNoPrimaryRefusal(refused, key);
      assertEquals("b", server(app, "third"), "open connections are left alone");

      // a connect that waits is routed to the primary that appears
      app.write("open waited");
      zk.set(key, a.hostPort());
      AppProcess.Reply waited = app.reply(10);
      assertTrue(waited.ok, waited::toString);
      assertEquals("a", server(app, "waited"));
      InstanceCutOffIT.awaitFailure(app, "query third SELECT 1");
      assertTrue(
          app.agentLog().stream()
              .anyMatch(l -> l.contains("group orders: primary " + b.hostPort() + " -> (none)")),
          () -> String.join("\n", app.agentLog()));

      // setPrimary by JMX writes the node and returns once the agent applied it
      jmx.invoke(
          bean, "setPrimary", new Object[] {b.hostPort()}, new String[] {"java.lang.String"});
      assertEquals(b.hostPort(), get(key), "written through to the registry");
      assertEquals(b.hostPort(), jmx.getAttribute(bean, "Primary"));
      assertEquals(zk.stat(key).getMzxid(), jmx.getAttribute(bean, "PrimaryRevision"));
      assertTrue(app.send("open byJmx").ok);
      assertEquals("b", server(app, "byJmx"), "applied when setPrimary returned");
      javax.management.RuntimeMBeanException bad =
          org.junit.jupiter.api.Assertions.assertThrows(
              javax.management.RuntimeMBeanException.class,
              () ->
                  jmx.invoke(
                      bean,
                      "setPrimary",
                      new Object[] {"nope"},
                      new String[] {"java.lang.String"}));
      assertTrue(
          bad.getTargetException().getMessage().startsWith("setPrimary(nope) of group orders"),
          bad::toString);
      assertEquals(b.hostPort(), get(key), "a bad value is not written");
      Await.until(
          "Primary a -> b announced",
          Duration.ofSeconds(10),
          () ->
              heard.stream()
                  .anyMatch(
                      n ->
                          a.hostPort().equals(n.getOldValue())
                              && b.hostPort().equals(n.getNewValue())));
      assertEquals(0, app.exit());
    }
  }

  @Test
  void orchestratorsKeyNamesThePrimaryOfAPoolAndItsBreakdownKeysAreIgnored() throws Exception {
    String key = "/mysql/master/orders-cluster";
    String address = "orders-rw.invalid:3306";
    zk.create(key, a.hostPort());
    zk.create(key + "/hostname", "127.0.0.1");
    zk.create(key + "/port", a.hostPort().substring("127.0.0.1:".length()));
    zk.create(key + "/ipv4", "127.0.0.1");
    zk.create(key + "/ipv6", "");
    try (AppProcess app =
        AppProcess.hikariApp(url(address))
            .agentArgs(
                InstanceCutOffIT.registryArgsFor(zk)
                    + ",groups.orders.address="
                    + address
                    + ",groups.orders.primary=orchestrator:orders-cluster")
            .start()) {
      assertTrue(app.send("hold first").ok);
      assertEquals("a", server(app, "first"));

      // orchestrator writes the breakdown keys one by one; they are never read
      zk.set(key + "/port", b.hostPort().substring("127.0.0.1:".length()));
      zk.set(key + "/hostname", "localhost");
      assertTrue(app.send("hold second").ok);
      assertEquals("a", server(app, "second"));
      assertTrue(app.send("close second").ok);

      zk.set(key, b.hostPort());
      awaitLandsOn(app, "hold", "after", "b");
      InstanceCutOffIT.awaitFailure(app, "query first SELECT 1");
      assertTrue(
          app.agentLog().stream()
              .anyMatch(
                  l -> l.contains("group orders: primary " + a.hostPort() + " -> " + b.hostPort())),
          () -> String.join("\n", app.agentLog()));
    }
  }

  @Test
  void readsGoToEnabledReplicasAndFallBackToThePrimary() throws Exception {
    String key = "/sluice/states/groups/reads/primary";
    String address = "reads-rw.invalid:9092";
    String readAddress = "reads-ro.invalid:9092";
    zk.create(key, a.hostPort());
    try (AppProcess app =
        AppProcess.jdbcApp(url(address))
            .agentArgs(
                InstanceCutOffIT.registryArgsFor(zk)
                    + ",groups.reads.address="
                    + address
                    + ",groups.reads.read-address="
                    + readAddress
                    + ",groups.reads.replicas="
                    + b.hostPort())
            .start()) {
      assertTrue(app.send("openTo r1 " + url(readAddress)).ok);
      assertEquals("b", server(app, "r1"), "a read goes to the replica");
      assertTrue(app.send("open w1").ok);
      assertEquals("a", server(app, "w1"), "a write goes to the primary");

      // the replica's datanode is DISABLED: reads fall back to the primary
      String datanode =
          DatasourceCutOffIT.DATANODES + "/" + DATABASE + "/" + b.hostPort().replace(':', '_');
      Await.until("the replica's datanode", Duration.ofSeconds(10), () -> get(datanode) != null);
      zk.set(datanode, "DISABLED");
      try {
        awaitReadOnPrimary(app, readAddress);
      } finally {
        zk.set(datanode, ""); // the other tests use the same server
      }
      assertEquals(0, app.exit());
    }
  }

  private static void awaitReadOnPrimary(AppProcess app, String readAddress) {
    int[] n = {1};
    Await.until(
        "a read that falls back to the primary",
        Duration.ofSeconds(10),
        () -> {
          try {
            String name = "r" + (++n[0]);
            AppProcess.Reply r = app.send("openTo " + name + " " + url(readAddress));
            if (!r.ok) {
              return false;
            }
            // one opened to the replica just before DISABLED landed is aborted: not a landing
            AppProcess.Reply on = app.send("query " + name + " SELECT NAME FROM WHO");
            return on.ok && on.text.equals("a");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  @Test
  void orchestratorsKeyOnEtcdHasNoLeadingSlash() throws Exception {
    try (EtcdCluster etcd = EtcdCluster.single()) {
      Etcdctl etcdctl = new Etcdctl(etcd, null);
      String key = "mysql/master/orders-etcd";
      String address = "orders-etcd.invalid:3306";
      etcdctl.run("put", key, a.hostPort());
      etcdctl.run("put", key + "/port", b.hostPort().substring("127.0.0.1:".length()));
      try (AppProcess app =
          AppProcess.jdbcApp(url(address))
              .agentArgs(
                  "registry=etcd://"
                      + etcd.endpoints()
                      + ",groups.orders.address="
                      + address
                      + ",groups.orders.primary=orchestrator:orders-etcd")
              .start()) {
        String first = awaitLandsOn(app, "open", "first", "a");
        etcdctl.run("put", key, b.hostPort());
        awaitLandsOn(app, "open", "second", "b");
        InstanceCutOffIT.awaitFailure(app, "query " + first + " SELECT 1");
        assertEquals(0, app.exit());
      }
    }
  }

  private static String get(String path) {
    return DatasourceCutOffIT.getFrom(zk, path);
  }
}
