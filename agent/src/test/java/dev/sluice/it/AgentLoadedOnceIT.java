package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.tools.attach.VirtualMachine;
import java.time.Duration;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The agent loaded twice into one JVM (two {@code -javaagent} options, or one and a later attach)
 * runs once: one instance node, one set of MBeans, and the registry and JMX both steer the governor
 * that the JDBC advice asks. The second load says so in one line and does nothing else.
 */
class AgentLoadedOnceIT extends WithZooKeeperAndH2 {

  private static final String SECOND_LOAD = "the agent is running in this JVM already";

  @Test
  void twoJavaagentOptionsStartOneAgent() throws Exception {
    try (AppProcess app =
        InstanceCutOffIT.app()
            .jvmArgBeforeSluice(
                "-javaagent:" + AppProcess.agentJar() + "=" + InstanceCutOffIT.registryArgs())
            .jmx()
            .start()) {
      assertGovernedOnce(app);
    }
  }

  @Test
  void anAttachToAJvmThatRunsTheAgentStartsNoSecondOne() throws Exception {
    try (AppProcess app =
        InstanceCutOffIT.app().jvmArg("-XX:+EnableDynamicAgentLoading").jmx().start()) {
      InstanceCutOffIT.instanceNode(zk, app);
      VirtualMachine vm = VirtualMachine.attach(String.valueOf(app.pid()));
      try {
        vm.loadAgent(AppProcess.agentJar().toString(), InstanceCutOffIT.registryArgs());
      } finally {
        vm.detach();
      }
      assertGovernedOnce(app);
    }
  }

  private static void assertGovernedOnce(AppProcess app) throws Exception {
    String node = InstanceCutOffIT.instanceNode(zk, app);
    // Either the second load said it stepped aside, or it registered an instance of its own.
    Await.until(
        "the second load's line, or a second instance node",
        Duration.ofSeconds(20),
        () -> app.output().contains(SECOND_LOAD) || instanceNodes(app) > 1);
    assertEquals(1, instanceNodes(app), "one instance node per JVM:\n" + app.output());
    assertEquals(1, InstanceCutOffIT.countLines(app, SECOND_LOAD), "said once:\n" + app.output());
    Await.until(
        "the agent's start line",
        Duration.ofSeconds(10),
        () -> InstanceCutOffIT.countLines(app, "started: instance") > 0);
    assertEquals(1, InstanceCutOffIT.countLines(app, "started: instance"), app::output);

    MBeanServerConnection jmx = app.jmx();
    ObjectName instance = new ObjectName("sluice:type=Instance");
    InstanceCutOffIT.awaitMBean(jmx, instance);
    assertEquals(1, jmx.queryNames(new ObjectName("sluice:type=Instance,*"), null).size());
    assertEquals(1, jmx.queryNames(new ObjectName("sluice:type=Registry,*"), null).size());
    assertEquals(node, jmx.getAttribute(instance, "RegistryPath"));

    InstanceCutOffIT.awaitAllowed(app, "connect");
    zk.set(node, "DISABLED");
    InstanceCutOffIT.awaitRefused(app, "connect");
    assertEquals("DISABLED", jmx.getAttribute(instance, "State"), "JMX shows the registry's");
    zk.set(node, "");
    InstanceCutOffIT.awaitAllowed(app, "connect");

    jmx.invoke(instance, "disable", null, null);
    AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(app, "connect");
    assertEquals("08004", refused.sqlState(), refused::toString);
    assertEquals("DISABLED", zk.get(node), "written through to the registry");
    jmx.invoke(instance, "enable", null, null);
    InstanceCutOffIT.awaitAllowed(app, "connect");
    assertTrue(app.send("connect").ok);
  }

  private static long instanceNodes(AppProcess app) {
    try {
      return zk.children(InstanceCutOffIT.INSTANCES).stream()
          .filter(c -> c.contains("@" + app.pid() + "@"))
          .count();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
