package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-datasource cut-off: {@code DISABLED} in one datasource node cuts every instance off that one
 * endpoint, while its other endpoints keep working.
 */
class DatasourceCutOffIT {

  static final String DATANODES = "/sluice/states/datanodes";

  static ZooKeeperFixture zk;
  static H2TcpServer h2a;
  static H2TcpServer h2b;

  @BeforeAll
  static void start() throws Exception {
    zk = new ZooKeeperFixture();
    h2a = new H2TcpServer();
    h2b = new H2TcpServer();
  }

  @AfterAll
  static void stop() throws Exception {
    h2a.close();
    h2b.close();
    zk.close();
  }

  /**
   * The discovered datanode of an H2 server URL: {@code
   * /sluice/states/datanodes/{db}/127.0.0.1_{port}}.
   */
  static String datanode(String url, String db) {
    String port = url.replaceAll("^jdbc:h2:tcp://127\\.0\\.0\\.1:(\\d+)/.*$", "$1");
    return DATANODES + "/" + db + "/127.0.0.1_" + port;
  }

  static void assertDatasourceRefusal(AppProcess.Reply reply, String path) {
    assertFalse(reply.ok, reply::toString);
    assertEquals("java.sql.SQLTransientConnectionException", reply.exception(), reply::toString);
    assertEquals("08004", reply.sqlState(), reply::toString);
    String name = path.substring(DATANODES.length() + 1);
    assertTrue(
        reply.text.endsWith("Sluice: " + name + " is DISABLED (" + path + ")"), reply::toString);
  }

  @Test
  void oneDisabledEndpointIsCutOffOnEveryInstanceAndTheOthersKeepWorking() throws Exception {
    String a = h2a.url("alpha");
    String b = h2b.url("beta");
    String nodeA = datanode(a, "alpha");
    String nodeB = datanode(b, "beta");
    try (AppProcess one =
            AppProcess.jdbcApp(a).agentArgs(InstanceCutOffIT.registryArgsFor(zk)).jmx().start();
        AppProcess two =
            AppProcess.jdbcApp(a).agentArgs(InstanceCutOffIT.registryArgsFor(zk)).start()) {
      for (AppProcess app : new AppProcess[] {one, two}) {
        assertTrue(app.send("connectTo " + a).ok);
        assertTrue(app.send("connectTo " + b).ok);
      }
      // the agent creates the nodes of the datasources it meets, empty
      Await.until(
          "datanodes created",
          Duration.ofSeconds(10),
          () -> "".equals(get(nodeA)) && "".equals(get(nodeB)));
      assertTrue(one.send("openTo heldA " + a).ok);
      assertTrue(one.send("openTo heldB " + b).ok);

      zk.set(nodeA, "DISABLED");
      for (AppProcess app : new AppProcess[] {one, two}) {
        assertDatasourceRefusal(InstanceCutOffIT.awaitRefused(app, "connectTo " + a), nodeA);
        assertTrue(app.send("connectTo " + b).ok, "the other endpoint is untouched");
      }
      InstanceCutOffIT.awaitFailure(one, "query heldA SELECT 1");
      assertTrue(one.send("query heldB SELECT 1").ok, "connections to other endpoints stay open");

      MBeanServerConnection jmx = one.jmx();
      ObjectName beanA =
          new ObjectName(
              "sluice:type=DataSource,schema=alpha,name="
                  + nodeA.substring(nodeA.lastIndexOf('/') + 1));
      assertEquals("DISABLED", jmx.getAttribute(beanA, "State"));
      assertEquals(nodeA, jmx.getAttribute(beanA, "RegistryPath"));
      assertEquals("alpha", jmx.getAttribute(beanA, "Schema"));
      assertTrue(((String) jmx.getAttribute(beanA, "Endpoint")).startsWith("127.0.0.1:"));
      assertTrue((Long) jmx.getAttribute(beanA, "RefusedConnections") >= 1);
      assertTrue((Long) jmx.getAttribute(beanA, "AbortedConnections") >= 1);
      assertEquals(0, jmx.getAttribute(beanA, "OpenConnections"));

      zk.delete(nodeA); // a missing node means enabled
      InstanceCutOffIT.awaitAllowed(one, "connectTo " + a);
      InstanceCutOffIT.awaitAllowed(two, "connectTo " + a);
      // the agents that met it put it back, empty, so that a later "set" finds it
      Await.until("the node back, empty", Duration.ofSeconds(10), () -> "".equals(get(nodeA)));

      // creating a node that holds DISABLED disables at once, and no agent overwrites it
      zk.recreate(nodeA, " Disabled\n");
      InstanceCutOffIT.awaitRefused(two, "connectTo " + a);
      assertEquals(" Disabled\n", get(nodeA));
      zk.set(nodeA, "");
      InstanceCutOffIT.awaitAllowed(two, "connectTo " + a);

      // JMX write-through: returns once applied here, and every instance follows
      jmx.invoke(beanA, "disable", null, null);
      assertEquals("DISABLED", get(nodeA));
      assertDatasourceRefusal(one.send("connectTo " + a), nodeA);
      InstanceCutOffIT.awaitRefused(two, "connectTo " + a);
      jmx.invoke(beanA, "enable", null, null);
      assertEquals("", get(nodeA));
      assertTrue(one.send("connectTo " + a).ok);
      InstanceCutOffIT.awaitAllowed(two, "connectTo " + a);
    }
  }

  @Test
  void aNodeThatHoldsDisabledBeforeStartIsHonouredFromTheFirstConnection() throws Exception {
    String url = h2a.url("early");
    String node = datanode(url, "early");
    zk.create(node, "DISABLED");
    try (AppProcess app =
        AppProcess.jdbcApp(url).agentArgs(InstanceCutOffIT.registryArgsFor(zk)).start()) {
      assertDatasourceRefusal(app.send("connect"), node);
      assertEquals("DISABLED", get(node), "never overwritten");
      zk.set(node, "");
      InstanceCutOffIT.awaitAllowed(app, "connect");
    }
  }

  @Test
  void aConfiguredDatasourceClaimsItsEndpointAndAnExistingValueIsKept() throws Exception {
    String url = h2b.url("sales");
    String hostPort = url.replaceAll("^jdbc:h2:tcp://([^/]+)/.*$", "$1");
    String node = DATANODES + "/orders/primary";
    zk.create(node, "maintenance");
    try (AppProcess app =
        AppProcess.jdbcApp(url)
            .agentArgs(
                InstanceCutOffIT.registryArgsFor(zk) + ",datasources.orders.primary=" + hostPort)
            .start()) {
      assertTrue(app.send("connect").ok, "an unrecognised value enables");
      assertEquals("maintenance", get(node), "an existing node is never overwritten");
      // its endpoint is recorded for the fleet leader's probes (SPEC 8)
      String endpoint = "/sluice/meta/endpoints/orders/primary";
      String recorded =
          Await.until(endpoint, Duration.ofSeconds(10), () -> get(endpoint), v -> v != null);
      assertTrue(
          recorded.startsWith(hostPort + "/") && recorded.endsWith("sales"),
          endpoint + " holds " + recorded);
      zk.set(node, "DISABLED");
      assertDatasourceRefusal(InstanceCutOffIT.awaitRefused(app, "connect"), node);
      zk.set(node, "");
      InstanceCutOffIT.awaitAllowed(app, "connect");
    }
  }

  @Test
  void aPoolBorrowFailsAtOnceAndRecoversWithinASecond() throws Exception {
    String url = h2a.url("pooled");
    String node = datanode(url, "pooled");
    try (AppProcess app =
        AppProcess.hikariApp(url).agentArgs(InstanceCutOffIT.registryArgsFor(zk)).start()) {
      assertTrue(app.send("borrow").ok);
      Await.until("datanode created", Duration.ofSeconds(10), () -> get(node) != null);
      zk.set(node, "DISABLED");
      AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(app, "borrow");
      assertDatasourceRefusal(refused, node);
      assertTrue(refused.ms < 1000, "at once, not after connectionTimeout=10000 ms: " + refused);
      zk.set(node, "");
      long enabledAt = System.nanoTime();
      InstanceCutOffIT.awaitAllowed(app, "borrow");
      long ms = (System.nanoTime() - enabledAt) / 1_000_000;
      assertTrue(ms < 1000, "borrows work again within a second of re-enable: " + ms + " ms");
    }
  }

  static String get(String path) {
    return getFrom(zk, path);
  }

  static String getFrom(ZooKeeperFixture zk, String path) {
    try {
      return zk.get(path);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
