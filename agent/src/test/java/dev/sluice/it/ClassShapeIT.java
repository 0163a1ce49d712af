package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.tools.attach.VirtualMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sluice never changes the shape of a class: attached to an application whose drivers are already
 * loaded, it instruments them by retransformation (which the JVM refuses for any change of shape);
 * another agent retransforms the same classes afterwards, and the shapes it sees are those from
 * before Sluice. The cut-off still holds after the other agent's retransformation.
 */
class ClassShapeIT {

  @Test
  void lateAttachAndASecondAgentLeaveClassShapesAlone(@TempDir Path dir) throws Exception {
    Path probe = AppProcess.testAppsDir().resolve("probe-agent/target/probe-agent.jar");
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess app =
            AppProcess.jdbcApp(h2.url("shapes"))
                .withoutAgent()
                .jvmArg("-XX:+EnableDynamicAgentLoading")
                .start()) {
      assertTrue(app.send("connect").ok); // loads and uses the drivers, before any agent

      List<String> before = attachProbe(app, probe, dir.resolve("before.txt"));
      assertTrue(
          before.stream().anyMatch(l -> l.startsWith("shape org.h2.Driver ")), before::toString);

      VirtualMachine vm = VirtualMachine.attach(String.valueOf(app.pid()));
      try {
        vm.loadAgent(AppProcess.agentJar().toString(), InstanceCutOffIT.registryArgsFor(zk));
      } finally {
        vm.detach();
      }
      String path = InstanceCutOffIT.instanceNode(zk, app);
      zk.set(path, "DISABLED");
      InstanceCutOffIT.awaitRefused(app, "connect");
      assertFalse(app.output().contains("could not instrument"), app.output());

      List<String> after = attachProbe(app, probe, dir.resolve("after.txt"));
      assertEquals(shapes(before), shapes(after), "no instrumented class changed shape");
      assertTrue(
          InstanceCutOffIT.awaitRefused(app, "connect").text.contains("Sluice:"), "still enforced");
      zk.set(path, "");
      InstanceCutOffIT.awaitAllowed(app, "connect");
    }
  }

  private static List<String> attachProbe(AppProcess app, Path probe, Path out) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(String.valueOf(app.pid()));
    try {
      vm.loadAgent(probe.toString(), out.toString());
    } finally {
      vm.detach();
    }
    List<String> lines = Files.readAllLines(out);
    String last = lines.get(lines.size() - 1);
    assertTrue(last.startsWith("retransformed "), "the other agent's retransformation: " + last);
    return lines;
  }

  private static List<String> shapes(List<String> lines) {
    return lines.stream().filter(l -> l.startsWith("shape ")).collect(Collectors.toList());
  }
}
