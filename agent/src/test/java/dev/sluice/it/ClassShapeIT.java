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
 * before Sluice. The cut-off still holds after the other agent's retransformation. Classes woven as
 * they are loaded, in a JVM started with the agent, have the shapes they have without it.
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

      // The JVM itself refuses a retransformation that changes a shape, so after a late attach
      // the shapes are unchanged whatever the agent does; that the other agent's retransformation
      // succeeded (attachProbe checks it) and the cut-off still holds is what this part shows.
      attachProbe(app, probe, dir.resolve("after.txt"));
      assertTrue(
          InstanceCutOffIT.awaitRefused(app, "connect").text.contains("Sluice:"), "still enforced");
      zk.set(path, "");
      InstanceCutOffIT.awaitAllowed(app, "connect");

      // A class loaded after the agent started is woven as it is defined, where the JVM would
      // accept a new field, method or interface: only here could the agent change a shape. The
      // same classes, loaded under the agent from the start, have the shapes they have without it.
      try (AppProcess governed =
          AppProcess.jdbcApp(h2.url("shapes"))
              .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
              .jvmArg("-XX:+EnableDynamicAgentLoading")
              .start()) {
        assertTrue(governed.send("connect").ok);
        String governedPath = InstanceCutOffIT.instanceNode(zk, governed);
        zk.set(governedPath, "DISABLED");
        InstanceCutOffIT.awaitRefused(governed, "connect"); // woven: the cut-off holds
        List<String> woven = probe(governed, probe, dir.resolve("woven.txt"));
        assertEquals(
            List.of(),
            difference(shapes(before), shapes(woven)),
            "the shapes of classes woven at load time are those without the agent (- without,"
                + " + with the agent)");
        assertTrue(
            shapes(woven).stream().anyMatch(l -> l.startsWith("shape org.h2.Driver ")),
            woven::toString);
        assertRetransformed(woven);
        InstanceCutOffIT.awaitRefused(governed, "connect");
      }
    }
  }

  private static List<String> attachProbe(AppProcess app, Path probe, Path out) throws Exception {
    List<String> lines = probe(app, probe, out);
    assertRetransformed(lines);
    return lines;
  }

  /** The probe agent's lines: the shapes it saw, then the outcome of its retransformation. */
  private static List<String> probe(AppProcess app, Path probe, Path out) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(String.valueOf(app.pid()));
    try {
      vm.loadAgent(probe.toString(), out.toString());
    } finally {
      vm.detach();
    }
    return Files.readAllLines(out);
  }

  private static void assertRetransformed(List<String> lines) {
    String last = lines.get(lines.size() - 1);
    assertTrue(last.startsWith("retransformed "), "the other agent's retransformation: " + last);
  }

  /**
   * The lines only in {@code without} (prefixed {@code -}) and only in {@code with} ({@code +}).
   */
  private static List<String> difference(List<String> without, List<String> with) {
    List<String> out = new java.util.ArrayList<>();
    without.stream().filter(l -> !with.contains(l)).forEach(l -> out.add("- " + l));
    with.stream().filter(l -> !without.contains(l)).forEach(l -> out.add("+ " + l));
    return out;
  }

  private static List<String> shapes(List<String> lines) {
    return lines.stream().filter(l -> l.startsWith("shape ")).collect(Collectors.toList());
  }
}
