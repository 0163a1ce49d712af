package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The agent's own failures never harm the application. A second agent ({@code
 * test-apps/fault-agent}) makes chosen methods of Sluice throw: the check on every connect, and the
 * registry client's handling of instance node changes. The app keeps running and connecting, each
 * failure is logged by the agent, and only {@code on-registry-loss=cut-off} turns a failed check
 * into a refusal.
 */
class AgentFaultIT extends WithZooKeeperAndH2 {

  static final String CHECK = "dev.sluice.agent.governance.Governor#checkConnect";
  static final String ZOOKEEPER_EVENTS = "dev.sluice.registry.ZooKeeperRegistry#instanceEvent";

  static AppProcess.Builder appWithFaults(String faults, String extraArgs) {
    String faultAgent =
        AppProcess.testAppsDir().resolve("fault-agent/target/fault-agent.jar").toString();
    return AppProcess.jdbcApp(h2.url("faulty"))
        .agentArgs(InstanceCutOffIT.registryArgsFor(zk) + extraArgs)
        .jvmArg("-javaagent:" + faultAgent + "=" + faults);
  }

  @Test
  void aFailingCheckLetsConnectionsThroughAndIsLoggedOnce() throws Exception {
    try (AppProcess app = appWithFaults(CHECK, "").start()) {
      InstanceCutOffIT.instanceNode(zk, app);
      for (int i = 0; i < 5; i++) {
        AppProcess.Reply r = app.send("connect");
        assertTrue(r.ok, r::toString);
      }
      assertEquals(
          1,
          InstanceCutOffIT.countLines(app, "internal fault in Driver.connect"),
          "logged once, with its stack trace: " + app.agentLog());
      assertTrue(app.output().contains("injected fault"), "the cause is in the log");
      assertEquals(0, app.exit());
    }
  }

  @Test
  void withCutOffAFailingCheckRefuses() throws Exception {
    try (AppProcess app = appWithFaults(CHECK, ",on-registry-loss=cut-off").start()) {
      InstanceCutOffIT.instanceNode(zk, app);
      AppProcess.Reply r = app.send("connect");
      assertFalse(r.ok, r::toString);
      assertEquals("java.sql.SQLTransientConnectionException", r.exception(), r::toString);
      assertEquals("08004", r.sqlState(), r::toString);
      assertTrue(r.text.contains("refusing because on-registry-loss=cut-off"), r::toString);
      assertEquals(0, app.exit());
    }
  }

  @Test
  void aFailingRegistryClientKeepsTheAppRunningAndIsLogged() throws Exception {
    try (AppProcess app = appWithFaults(ZOOKEEPER_EVENTS, "").start()) {
      String node = InstanceCutOffIT.instanceNode(zk, app);
      zk.set(node, "DISABLED");
      Await.until(
          "the registry client's failure logged",
          Duration.ofSeconds(10),
          () -> InstanceCutOffIT.countLines(app, "internal fault while handling a change of") >= 1);
      AppProcess.Reply r = app.send("connect");
      assertTrue(r.ok, "the app goes on with the last known state: " + r);
      zk.set(node, "");
      zk.set(node, "DISABLED");
      Await.until(
          "later failures logged briefly",
          Duration.ofSeconds(10),
          () -> InstanceCutOffIT.countLines(app, "internal fault while handling a change of") >= 2);
      assertTrue(
          app.output().contains("dev.sluice.registry.ZooKeeperRegistry.instanceEvent("),
          "the first failure carries its stack trace");
      assertTrue(app.send("connect").ok);
      assertTrue(app.isAlive());
      assertEquals(0, app.exit());
    }
  }
}
