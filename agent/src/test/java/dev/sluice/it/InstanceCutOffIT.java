package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The instance kill switch, end to end: an unmodified plain-JDBC application against an H2 server,
 * governed through a real ZooKeeper by an operator's plain ZooKeeper client and by JMX.
 */
class InstanceCutOffIT extends WithZooKeeperAndH2 {

  static final String INSTANCES = "/sluice/states/proxynodes";
  static final Pattern V5_ID =
      Pattern.compile(
          "\\d+\\.\\d+\\.\\d+\\.\\d+@\\d+@[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  static String registryArgs() {
    return registryArgsFor(zk);
  }

  static String registryArgsFor(ZooKeeperFixture zk) {
    return "registry=zookeeper://" + zk.connectString() + ",registry.session-timeout-ms=4000";
  }

  /** MBeans are registered by the agent's start thread, shortly after {@code main} begins. */
  static void awaitMBean(MBeanServerConnection jmx, ObjectName name) {
    Await.until(
        name + " registered",
        Duration.ofSeconds(10),
        () -> {
          try {
            return jmx.isRegistered(name);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  static AppProcess.Builder app() {
    return AppProcess.jdbcApp(h2.url("orders")).agentArgs(registryArgs());
  }

  static String instanceNode(ZooKeeperFixture zk, AppProcess app) {
    return INSTANCES + "/" + zk.awaitChild(INSTANCES, "@" + app.pid() + "@");
  }

  /**
   * Repeats {@code command} until the agent refuses it. (A connect that passed the check just
   * before the cut-off is opened and then aborted at once; such a failure is not the refusal.)
   */
  static AppProcess.Reply awaitRefused(AppProcess app, String command) {
    return awaitReply(
        app,
        "a refused " + command,
        command,
        r -> !r.ok && r.exception().equals("java.sql.SQLTransientConnectionException"));
  }

  /**
   * Repeats {@code command} for up to 10 s until its reply matches; a failure shows the agent log.
   */
  private static AppProcess.Reply awaitReply(
      AppProcess app, String what, String command, Predicate<AppProcess.Reply> done) {
    try {
      return Await.until(what, Duration.ofSeconds(10), () -> send(app, command), done);
    } catch (AssertionError e) {
      throw new AssertionError(
          e.getMessage() + "\nthe agent's log:\n" + String.join("\n", app.agentLog()), e);
    }
  }

  /**
   * Repeats {@code command} until it fails in any way (an aborted connection fails with the
   * driver's own exception).
   */
  static AppProcess.Reply awaitFailure(AppProcess app, String command) {
    return awaitReply(app, "a failed " + command, command, r -> !r.ok);
  }

  static AppProcess.Reply awaitAllowed(AppProcess app, String command) {
    return awaitReply(app, "an allowed " + command, command, r -> r.ok);
  }

  /**
   * With the registry unreachable, the first connect waits {@code registry.initial-sync-ms} (less
   * 100 ms of timer slack) and no more than 10 s; the next one does not wait.
   */
  static void assertOnlyTheFirstConnectWaits(AppProcess app, int initialSyncMs) {
    AppProcess.Reply first = send(app, "connect");
    assertTrue(first.ok, first::toString);
    assertTrue(
        first.ms >= initialSyncMs - 100, "the first connect waits for the registry: " + first);
    assertTrue(first.ms < 10_000, "but not longer than configured: " + first);
    assertTrue(send(app, "connect").ok);
  }

  static AppProcess.Reply send(AppProcess app, String command) {
    try {
      return app.send(command);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static void assertRefusal(AppProcess.Reply reply, String id, String path) {
    assertFalse(reply.ok, reply::toString);
    assertEquals("java.sql.SQLTransientConnectionException", reply.exception(), reply::toString);
    assertEquals("08004", reply.sqlState(), reply::toString);
    assertTrue(
        reply.text.endsWith("Sluice: instance " + id + " is DISABLED (" + path + ")"),
        reply::toString);
  }

  @Test
  void operatorCutsTheInstanceOffAndRestoresItThroughItsNode() throws Exception {
    try (AppProcess app = app().start()) {
      String path = instanceNode(zk, app);
      String id = path.substring(INSTANCES.length() + 1);
      assertTrue(V5_ID.matcher(id).matches(), id);
      assertEquals("", zk.get(path));
      assertTrue(app.send("connect").ok);
      assertTrue(app.send("open held").ok);
      assertTrue(app.send("query held SELECT 1").ok);

      zk.set(path, "DISABLED");
      assertRefusal(awaitRefused(app, "connect"), id, path);
      // the connection opened before the cut-off is aborted, not left to run
      AppProcess.Reply aborted = awaitFailure(app, "query held SELECT 1");
      assertNotEquals(
          "java.sql.SQLTransientConnectionException", aborted.exception(), aborted::toString);

      zk.set(path, "  enabled ");
      awaitAllowed(app, "connect");

      zk.set(path, " disabled\n"); // trimmed, any letter case
      assertRefusal(awaitRefused(app, "connect"), id, path);

      zk.delete(path); // a deleted node means enabled; the agent registers again
      awaitAllowed(app, "connect");
      Await.until("the node re-created empty", Duration.ofSeconds(10), () -> "".equals(get(path)));

      // From DISABLED to an unrecognised value: once the agent has read it (its log line says so),
      // the instance is enabled, with no retry.
      zk.set(path, "DISABLED");
      assertRefusal(awaitRefused(app, "connect"), id, path);
      zk.set(path, "maintenance");
      Await.until(
          "the agent read the unrecognised value",
          Duration.ofSeconds(10),
          () -> countLines(app, "unrecognised value 'maintenance'") == 1);
      AppProcess.Reply enabled = app.send("connect");
      assertTrue(enabled.ok, () -> "an unrecognised value enables: " + enabled);

      // The same value again is not logged again; a different one after it is, which shows that
      // the agent has read the writes before it. (ZooKeeper may fold quick writes into one read,
      // so the same value is written several times.)
      for (int i = 0; i < 10; i++) {
        zk.set(path, "maintenance");
      }
      zk.set(path, "maintenance-2");
      Await.until(
          "the agent read the next unrecognised value",
          Duration.ofSeconds(10),
          () -> countLines(app, "unrecognised value 'maintenance-2'") == 1);
      assertEquals(1, countLines(app, "unrecognised value 'maintenance'"), "logged once per value");
      assertTrue(app.send("connect").ok, "still enabled");

      assertEquals(0, app.exit());
      assertNull(zk.get(path), "the instance node is deleted on normal exit");
    }
  }

  /**
   * Six threads of the app connect without pause and keep every connection while the instance is
   * cut off. Each thread ends at its first refusal; of all the connections they got, before the
   * cut-off or racing it, none works once it is in force.
   */
  @Test
  void noConnectionRacingACutOffSurvivesIt() throws Exception {
    try (AppProcess app = app().start()) {
      String path = instanceNode(zk, app);
      assertTrue(app.send("connect").ok);
      assertTrue(app.send("storm 6").ok);
      Await.until(
          "connections opened by the storm",
          Duration.ofSeconds(10),
          () -> Integer.parseInt(send(app, "stormOpened").text) >= 30);
      zk.set(path, "DISABLED");
      AppProcess.Reply result =
          awaitReply(
              app,
              "every connection of the storm aborted",
              "stormResult",
              r -> r.ok && r.text.matches("opened \\d+ usable 0 failures \\[\\]"));
      System.out.println("[InstanceCutOffIT] the storm: " + result.text);
      zk.set(path, "");
      awaitAllowed(app, "connect");
    }
  }

  /**
   * {@code cutoff.grace-ms}: new connections are refused at once, the open one keeps working for
   * the grace period and is aborted when it ends.
   */
  @Test
  void openConnectionsMayFinishWithinTheGracePeriod() throws Exception {
    int graceMs = 3000;
    try (AppProcess app =
        AppProcess.jdbcApp(h2.url("orders"))
            .agentArgs(registryArgs() + ",cutoff.grace-ms=" + graceMs)
            .start()) {
      String path = instanceNode(zk, app);
      String id = path.substring(INSTANCES.length() + 1);
      assertTrue(app.send("open held").ok);
      long start = System.nanoTime();
      zk.set(path, "DISABLED");
      assertRefusal(awaitRefused(app, "connect"), id, path);
      AppProcess.Reply during = app.send("query held SELECT 1");
      long duringMs = (System.nanoTime() - start) / 1_000_000;
      assertTrue(duringMs < graceMs, "checked within the grace period: " + duringMs + " ms");
      assertTrue(during.ok, () -> "the open connection works during the grace period: " + during);
      AppProcess.Reply aborted = awaitFailure(app, "query held SELECT 1");
      long abortedMs = (System.nanoTime() - start) / 1_000_000;
      assertNotEquals(
          "java.sql.SQLTransientConnectionException", aborted.exception(), aborted::toString);
      assertTrue(
          abortedMs >= graceMs,
          "aborted " + abortedMs + " ms after the write, before the grace of " + graceMs + " ms");
      assertTrue(
          abortedMs < graceMs + 5000,
          "aborted " + abortedMs + " ms after the write, long after the grace of " + graceMs);
      assertTrue(
          app.agentLog().stream()
              .anyMatch(
                  l ->
                      l.matches(
                          ".*aborting [1-9]\\d* open connection\\(s\\) after " + graceMs + " ms")),
          () -> String.join("\n", app.agentLog()));
      zk.set(path, "");
      awaitAllowed(app, "connect");
    }
  }

  /**
   * {@code DriverManager} asks each of the six registered drivers (H2, PostgreSQL, MariaDB, MySQL,
   * HSQLDB, Derby) in turn: one refused attempt is still one refusal, on the Instance bean and on
   * the DataSource bean alike.
   */
  @Test
  void oneRefusedAttemptIsOneRefusalWhateverTheNumberOfDrivers() throws Exception {
    try (AppProcess app = app().jmx().start()) {
      assertTrue(app.send("connect").ok);
      MBeanServerConnection jmx = app.jmx();
      ObjectName instance = new ObjectName("sluice:type=Instance");
      awaitMBean(jmx, instance);
      ObjectName datasource =
          jmx.queryNames(new ObjectName("sluice:type=DataSource,schema=orders,*"), null)
              .iterator()
              .next();
      String path = instanceNode(zk, app);
      zk.set(path, "DISABLED");
      awaitRefused(app, "connect");
      long instanceBefore = (Long) jmx.getAttribute(instance, "RefusedConnections");
      long datasourceBefore = (Long) jmx.getAttribute(datasource, "RefusedConnections");
      int attempts = 25;
      for (int i = 0; i < attempts; i++) {
        AppProcess.Reply r = app.send("connect");
        assertEquals("08004", r.sqlState(), r::toString);
      }
      assertEquals(
          instanceBefore + attempts, (Long) jmx.getAttribute(instance, "RefusedConnections"));
      assertEquals(
          datasourceBefore + attempts, (Long) jmx.getAttribute(datasource, "RefusedConnections"));
      zk.set(path, "");
      awaitAllowed(app, "connect");
    }
  }

  @Test
  void theNodeComesBackDisabledUnderTheSameIdAfterTheSessionExpires() throws Exception {
    try (AppProcess app = app().start()) {
      String path = instanceNode(zk, app);
      String id = path.substring(INSTANCES.length() + 1);
      zk.set(path, "DISABLED");
      assertRefusal(awaitRefused(app, "connect"), id, path);
      long session = zk.stat(path).getEphemeralOwner();

      zk.expireSession(session);
      assertRefusal(app.send("connect"), id, path);

      Await.until(
          "the node re-created by a new session",
          Duration.ofSeconds(20),
          () -> {
            try {
              var stat = zk.stat(path);
              return stat != null && stat.getEphemeralOwner() != session;
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      assertEquals("DISABLED", zk.get(path));
      assertRefusal(app.send("connect"), id, path);

      zk.set(path, "");
      awaitAllowed(app, "connect");
    }
  }

  @Test
  void aNodeCreatedHoldingDisabledDisablesAndTheAgentTakesItOver() throws Exception {
    try (AppProcess app = app().start()) {
      String path = instanceNode(zk, app);
      long session = zk.stat(path).getEphemeralOwner();
      zk.recreate(path, "DISABLED"); // an operator's persistent node, in place of the agent's
      assertRefusal(awaitRefused(app, "connect"), path.substring(INSTANCES.length() + 1), path);
      Await.until(
          "the agent's ephemeral node again, keeping the value",
          Duration.ofSeconds(10),
          () -> {
            try {
              var stat = zk.stat(path);
              return stat != null && stat.getEphemeralOwner() == session;
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      assertEquals("DISABLED", zk.get(path));
      assertRefusal(app.send("connect"), path.substring(INSTANCES.length() + 1), path);
      assertEquals(0, app.exit());
      assertNull(zk.get(path), "an ephemeral node again: gone with the JVM");
    }
  }

  @Test
  void jmxOperationsWriteThroughToZooKeeper() throws Exception {
    try (AppProcess app = app().jmx().start()) {
      String path = instanceNode(zk, app);
      String id = path.substring(INSTANCES.length() + 1);
      MBeanServerConnection jmx = app.jmx();
      ObjectName instance = new ObjectName("sluice:type=Instance");
      ObjectName registry = new ObjectName("sluice:type=Registry");
      awaitMBean(jmx, registry);
      Await.until(
          "registry connected", Duration.ofSeconds(10), () -> attr(jmx, registry, "Connected"));

      assertEquals(id, jmx.getAttribute(instance, "Id"));
      assertEquals("ENABLED", jmx.getAttribute(instance, "State"));
      assertEquals(false, jmx.getAttribute(instance, "Disabled"));
      assertEquals("REGISTRY", jmx.getAttribute(instance, "Mode"));
      assertEquals(true, jmx.getAttribute(instance, "RegistryConnected"));
      assertEquals(path, jmx.getAttribute(instance, "RegistryPath"));
      assertEquals("ZOOKEEPER", jmx.getAttribute(registry, "Backend"));
      assertEquals(zk.connectString(), jmx.getAttribute(registry, "Endpoints"));
      assertEquals("sluice", jmx.getAttribute(registry, "Namespace"));
      assertEquals("v5", jmx.getAttribute(registry, "Layout"));
      assertEquals(
          "0x" + Long.toHexString(zk.stat(path).getEphemeralOwner()),
          jmx.getAttribute(registry, "SessionId"));

      List<AttributeChangeNotification> changes = new CopyOnWriteArrayList<>();
      jmx.addNotificationListener(
          instance, (n, handback) -> changes.add((AttributeChangeNotification) n), null, null);

      jmx.invoke(instance, "disable", null, null);
      // returned once applied: no waiting needed from here on
      assertEquals("DISABLED", zk.get(path));
      assertEquals("DISABLED", jmx.getAttribute(instance, "State"));
      assertRefusal(app.send("connect"), id, path);

      jmx.invoke(instance, "enable", null, null);
      assertEquals("", zk.get(path));
      assertTrue(app.send("connect").ok);

      Await.until("two notifications", Duration.ofSeconds(10), () -> changes.size() == 2);
      assertEquals("State", changes.get(0).getAttributeName());
      assertEquals("ENABLED", changes.get(0).getOldValue());
      assertEquals("DISABLED", changes.get(0).getNewValue());
      assertEquals("ENABLED", changes.get(1).getNewValue());

      // With the registry unreachable the operation fails, naming the problem, and changes nothing.
      zk.stop();
      try {
        Await.until(
            "registry disconnected",
            Duration.ofSeconds(20),
            () -> !attr(jmx, registry, "Connected"));
        Exception failed =
            assertThrows(Exception.class, () -> jmx.invoke(instance, "disable", null, null));
        assertTrue(
            String.valueOf(rootMessage(failed)).contains("not connected"),
            () -> rootMessage(failed));
        assertEquals("ENABLED", jmx.getAttribute(instance, "State"));
        assertTrue(app.send("connect").ok, "the last known state stays in force");
      } finally {
        zk.restart();
      }
      Await.until(
          "registry connected again",
          Duration.ofSeconds(20),
          () -> attr(jmx, registry, "Connected"));
    }
  }

  @Test
  void legacyLayoutKeysTheNodeByApplicationName() throws Exception {
    try (AppProcess app =
        AppProcess.jdbcApp(h2.url("orders"))
            .agentArgs(registryArgs() + ",layout=legacy,app=orders")
            .start()) {
      String parent = "/sluice/orders/state/instances";
      String id = zk.awaitChild(parent, "@-@" + app.pid());
      assertTrue(id.matches("\\d+\\.\\d+\\.\\d+\\.\\d+@-@" + app.pid()), id);
      String path = parent + "/" + id;
      zk.set(path, "DISABLED");
      assertRefusal(awaitRefused(app, "connect"), id, path);
      zk.set(path, "");
      awaitAllowed(app, "connect");

      // datasource nodes: one level, {schema}.{name}
      String port = h2.url("orders").replaceAll("^jdbc:h2:tcp://127\\.0\\.0\\.1:(\\d+)/.*$", "$1");
      String datanode = "/sluice/orders/state/datasources/orders.127.0.0.1_" + port;
      Await.until("the legacy datanode", Duration.ofSeconds(10), () -> get(datanode) != null);
      zk.set(datanode, "DISABLED");
      AppProcess.Reply refused = awaitRefused(app, "connect");
      assertTrue(
          refused.text.endsWith(
              "Sluice: orders/127.0.0.1_" + port + " is DISABLED (" + datanode + ")"),
          refused::toString);
      zk.set(datanode, "");
      awaitAllowed(app, "connect");
    }
  }

  @Test
  void aDriverInAChildFirstClassLoaderIsGoverned() throws Exception {
    String h2Jar =
        Paths.get(org.h2.Driver.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    try (AppProcess app =
        AppProcess.jdbcApp(
                "--driver-jar", h2Jar, "--driver-class", "org.h2.Driver", h2.url("orders"))
            .agentArgs(registryArgs())
            .start()) {
      assertTrue(app.send("loader").text.contains("ChildFirstClassLoader"));
      String path = instanceNode(zk, app);
      assertTrue(app.send("connect").ok);
      assertTrue(app.send("open held").ok);
      zk.set(path, "DISABLED");
      assertRefusal(awaitRefused(app, "connect"), path.substring(INSTANCES.length() + 1), path);
      awaitFailure(app, "query held SELECT 1");
      zk.set(path, "");
      awaitAllowed(app, "connect");
    }
  }

  @Test
  void aRegistryThatIsDownNeverStopsTheAppAndIsUsedOnceItIsUp() throws Exception {
    int port = FreePort.next();
    try (AppProcess app =
        AppProcess.jdbcApp(h2.url("orders"))
            .agentArgs("registry=zookeeper://127.0.0.1:" + port + ",registry.initial-sync-ms=1500")
            .start()) {
      assertOnlyTheFirstConnectWaits(app, 1500);
      try (ZooKeeperFixture late = new ZooKeeperFixture(port)) {
        String path = instanceNode(late, app);
        late.set(path, "DISABLED");
        awaitRefused(app, "connect");
      }
    }
  }

  static boolean attr(MBeanServerConnection jmx, ObjectName name, String attribute) {
    try {
      return (Boolean) jmx.getAttribute(name, attribute);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String get(String path) {
    try {
      return zk.get(path);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static long countLines(AppProcess app, String text) {
    return app.agentLog().stream().filter(l -> l.contains(text)).count();
  }

  static String rootMessage(Throwable t) {
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      all.append(c).append(" / ");
    }
    return all.toString();
  }
}
