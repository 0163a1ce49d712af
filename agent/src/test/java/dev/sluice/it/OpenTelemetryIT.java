package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OpenTelemetry Java agent (from Maven Central) next to Sluice, in both orders: the app's JDBC
 * spans are still produced, and the cut-off is still enforced.
 */
class OpenTelemetryIT extends WithZooKeeperAndH2 {

  static String otelAgent() {
    Path jar = Path.of(System.getProperty("sluice.otel.agent", "target/other-agents/x.jar"));
    assertTrue(Files.isRegularFile(jar), "the OpenTelemetry agent is fetched by the build: " + jar);
    return "-javaagent:" + jar.toAbsolutePath();
  }

  @ParameterizedTest(name = "OpenTelemetry {0}")
  @ValueSource(strings = {"first", "second"})
  void bothAgentsWork(String otelPosition) throws Exception {
    AppProcess.Builder b =
        AppProcess.jdbcApp(h2.url("traced"))
            .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
            .sysProp("otel.traces.exporter", "console")
            .sysProp("otel.metrics.exporter", "none")
            .sysProp("otel.logs.exporter", "none")
            .sysProp("otel.service.name", "sluice-otel-test");
    b = otelPosition.equals("first") ? b.jvmArgBeforeSluice(otelAgent()) : b.jvmArg(otelAgent());
    try (AppProcess app = b.start()) {
      String node = InstanceCutOffIT.instanceNode(zk, app);
      assertTrue(app.send("connect").ok);
      Await.until(
          "a JDBC span from the OpenTelemetry agent",
          Duration.ofSeconds(20),
          () -> app.output().contains("[tracer: io.opentelemetry.jdbc"));

      zk.set(node, "DISABLED");
      AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(app, "connect");
      assertEquals("08004", refused.sqlState(), refused::toString);
      zk.set(node, "");
      InstanceCutOffIT.awaitAllowed(app, "connect");
      assertFalse(
          app.agentLog().stream().anyMatch(l -> l.contains(" ERROR ")),
          "no agent error: " + app.agentLog());
      assertEquals(0, app.exit());
    }
  }
}
