package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.control.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code java -jar sluice-agent.jar attach <pid>} (SPEC section 9) into JVMs started without the
 * agent and already connected: through {@code DriverManager} and through HikariCP, whose pooled
 * connections were opened before the attach. A JVM that refuses attach gets a clear message.
 */
class AttachIT {

  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"zookeeper", "etcd"})
  void attachToConnectedApps(String backendName) throws Exception {
    try (CliIT.Backend registry = CliIT.backend(backendName);
        H2TcpServer h2 = new H2TcpServer();
        AppProcess plain = AppProcess.jdbcApp(h2.url("attach")).withoutAgent().start();
        AppProcess hikari = AppProcess.hikariApp(h2.url("attach")).withoutAgent().start()) {
      assertTrue(plain.send("open held").ok);
      assertTrue(hikari.send("borrow").ok, "the pool holds connections opened without the agent");
      List<String> agentSettings = List.of(registry.agentArgs().split(","));
      CliIT.Cli operator = new CliIT.Cli(registry.cliArgs());

      List<String> attach = new ArrayList<>(List.of("attach", String.valueOf(plain.pid())));
      attach.addAll(agentSettings);
      CliIT.Run attached = CliIT.run(attach);
      assertEquals(0, attached.exit, attached.toString());
      Matcher registered = Pattern.compile("registered as instance (\\S+)").matcher(attached.out);
      assertTrue(registered.find(), attached.out + "\nthe app:\n" + plain.output());
      String plainId = registered.group(1);
      assertTrue(plainId.contains("@" + plain.pid() + "@"), plainId);
      assertFalse(attached.out.contains("agent-pw"), "no secret shown: " + attached.out);
      attach =
          new ArrayList<>(List.of("attach", String.valueOf(hikari.pid()), "app=pooled", "--json"));
      attach.addAll(agentSettings);
      CliIT.Run json = CliIT.run(attach);
      assertEquals(0, json.exit, json.toString());
      String hikariId = String.valueOf(Json.object(json.out).get("instance"));
      assertTrue(hikariId.contains("@" + hikari.pid() + "@"), json.out);

      // the switch works on new connects of the plain app...
      assertEquals(0, operator.run("disable", plainId).exit);
      assertEquals("08004", InstanceCutOffIT.awaitRefused(plain, "connect").sqlState());
      assertTrue(hikari.send("borrow").ok, "the other JVM is not touched");
      assertEquals(0, operator.run("enable", plainId).exit);
      InstanceCutOffIT.awaitAllowed(plain, "connect");

      // ...and on the pool's connections opened before the attach, as the pool hands them out
      assertEquals(0, operator.run("disable", hikariId).exit);
      assertEquals("08004", InstanceCutOffIT.awaitRefused(hikari, "borrow").sqlState());
      assertEquals(0, operator.run("enable", hikariId).exit);
      InstanceCutOffIT.awaitAllowed(hikari, "borrow");
      assertEquals(
          "pooled", CliIT.instance(operator.json("status"), hikariId).get("app"), "its metadata");

      attach = new ArrayList<>(List.of("attach", String.valueOf(plain.pid())));
      attach.addAll(agentSettings);
      CliIT.Run twice = CliIT.run(attach);
      assertEquals(0, twice.exit, twice.toString());
      Await.until(
          "the second load said it does nothing",
          java.time.Duration.ofSeconds(10),
          () -> plain.output().contains("the agent is running in this JVM already"));
    }
  }

  @Test
  void aJvmThatRefusesAttachGetsAClearMessage() throws Exception {
    try (AppProcess closed =
        AppProcess.jdbcApp("jdbc:h2:mem:closed")
            .withoutAgent()
            .jvmArg("-XX:+DisableAttachMechanism")
            .start()) {
      CliIT.Run refused = CliIT.run(List.of("attach", String.valueOf(closed.pid())));
      CliIT.assertFailure(refused, 1, "it was started with -XX:+DisableAttachMechanism");
    }
    CliIT.assertFailure(CliIT.run(List.of("attach", "not-a-pid")), 2, "attach takes the pid");
    CliIT.assertFailure(
        CliIT.run(List.of("attach", "999999999")), 1, "no process with pid 999999999");
  }

  /**
   * A JVM accepts attach only from its own user (root may attach to anyone's): the CLI run as
   * another user gets a message that says so.
   */
  @Test
  void aJvmOfAnotherUser() throws Exception {
    Path dir = Files.createTempDirectory("sluice-attach");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jar = dir.resolve("sluice-agent.jar");
    Files.copy(AppProcess.agentJar(), jar);
    Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    String me = System.getProperty("user.name");
    String other = me.equals("nobody") ? "daemon" : "nobody";
    try (AppProcess app = AppProcess.jdbcApp("jdbc:h2:mem:mine").withoutAgent().start()) {
      Process p =
          new ProcessBuilder(
                  "runuser",
                  "-u",
                  other,
                  "--",
                  AppProcess.java(),
                  "-jar",
                  jar.toString(),
                  "attach",
                  String.valueOf(app.pid()))
              .directory(dir.toFile())
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      CliIT.assertFailure(
          new CliIT.Run(p.exitValue(), out, err),
          1,
          "runs as user " + me + " and accepts attach only from that user, not from " + other);
      assertTrue(app.send("connect").ok, "the JVM runs on, without the agent");
    } finally {
      Files.delete(jar);
      Files.delete(dir);
    }
  }
}
