package dev.sluice.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.RegistryLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {

  @Test
  void defaults() {
    AgentConfig c = AgentConfig.load("", Map.of(), Map.of());
    assertTrue(c.problems().isEmpty(), c.problems()::toString);
    assertFalse(c.registry().isPresent());
    assertEquals("sluice", c.namespace());
    assertEquals(RegistryLayout.V5, c.layout());
    assertEquals(5000, c.registryConnectTimeoutMs());
    assertEquals(3000, c.registryInitialSyncMs());
    assertEquals(AgentConfig.RegistryLossPolicy.KEEP, c.onRegistryLoss());
    assertEquals(30000, c.registryLossGraceMs());
    assertEquals(0, c.cutoffGraceMs());
    assertEquals("sluice", c.jmxDomain());
    assertEquals("info", c.logLevel());
  }

  @Test
  void agentArgumentsBeatSystemPropertiesBeatEnvironmentBeatTheFile(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("sluice.properties");
    Files.writeString(
        file, "namespace=from-file\nlayout=legacy\napp=file-app\ncutoff.grace-ms=7\n");
    Map<String, String> props =
        Map.of(
            "sluice.config",
            file.toString(),
            "sluice.namespace",
            "from-props",
            "sluice.app",
            "props-app");
    Map<String, String> env =
        Map.of("SLUICE_NAMESPACE", "from-env", "SLUICE_APP", "env-app", "SLUICE_LAYOUT", "v5");

    assertEquals("from-args", AgentConfig.load("namespace=from-args", props, env).namespace());
    assertEquals("from-props", AgentConfig.load("", props, env).namespace());
    assertEquals(
        "from-env",
        AgentConfig.load("", Map.of("sluice.config", file.toString()), env).namespace());
    AgentConfig fileOnly = AgentConfig.load("", Map.of("sluice.config", file.toString()), Map.of());
    assertEquals("from-file", fileOnly.namespace());
    assertEquals(RegistryLayout.LEGACY, fileOnly.layout());
    assertEquals("file-app", fileOnly.app());
    assertEquals(7, fileOnly.cutoffGraceMs());
    assertEquals("props-app", AgentConfig.load("", props, env).app());
    assertEquals(
        RegistryLayout.V5, AgentConfig.load("", props, env).layout(), "env beats the file");
    assertEquals(
        "system property sluice.namespace",
        AgentConfig.load("", props, env).origin(ConfigKey.NAMESPACE));
  }

  @Test
  void theRecoveryKeysHaveTheSpecDefaultsAndBadValuesFallBackToThem() {
    AgentConfig d = AgentConfig.load("", Map.of(), Map.of());
    assertTrue(d.recoveryCandidate());
    assertEquals("off", d.recoveryAutoDisable());
    assertEquals(1000, d.recoveryProbeIntervalMs());
    assertEquals(1000, d.recoveryProbeTimeoutMs());
    assertEquals(3, d.recoveryFailuresToDisable());
    assertEquals(5, d.recoverySuccessesToEnable());
    assertEquals(600000, d.recoveryBlockMs());

    AgentConfig set =
        AgentConfig.load(
            "recovery.candidate=FALSE,recovery.auto-disable=Replicas,recovery.probe-interval-ms=250,"
                + "recovery.failures-to-disable=2",
            Map.of(),
            Map.of());
    assertTrue(set.problems().isEmpty(), set.problems()::toString);
    assertFalse(set.recoveryCandidate());
    assertEquals("replicas", set.recoveryAutoDisable());
    assertEquals(250, set.recoveryProbeIntervalMs());
    assertEquals(2, set.recoveryFailuresToDisable());

    AgentConfig bad =
        AgentConfig.load(
            "recovery.candidate=yes,recovery.auto-disable=everything,recovery.probe-interval-ms=5,"
                + "recovery.successes-to-enable=0",
            Map.of(),
            Map.of());
    assertEquals(4, bad.problems().size(), bad.problems()::toString);
    assertTrue(bad.problems().get(0).contains("true or false"), bad.problems()::toString);
    assertTrue(bad.recoveryCandidate(), "the default");
    assertEquals("off", bad.recoveryAutoDisable());
    assertEquals(1000, bad.recoveryProbeIntervalMs());
    assertEquals(5, bad.recoverySuccessesToEnable());
  }

  @Test
  void configFileFromTheEnvironment(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("s.properties");
    Files.writeString(file, "registry=zookeeper://zk:2181\n");
    AgentConfig c = AgentConfig.load("", Map.of(), Map.of("SLUICE_CONFIG", file.toString()));
    assertEquals("zk:2181", c.registry().get().endpoints());
  }

  @Test
  void aSegmentWithoutEqualsContinuesThePreviousValue() {
    AgentConfig c =
        AgentConfig.load("registry=zookeeper://h1:2181,h2:2181,namespace=prod", Map.of(), Map.of());
    assertTrue(c.problems().isEmpty(), c.problems()::toString);
    assertEquals("h1:2181,h2:2181", c.registry().get().endpoints());
    assertEquals("prod", c.namespace());
  }

  @Test
  void aBadValueIsOneLineNamingKeyValueSourceAndWhatIsAccepted() {
    AgentConfig c =
        AgentConfig.load(
            "registry.connect-timeout-ms=abc", Map.of("sluice.layout", "sideways"), Map.of());
    List<String> problems = c.problems();
    assertEquals(2, problems.size(), problems::toString);
    assertEquals(
        "invalid layout='sideways' (system property sluice.layout): expected v5 or legacy; using the default v5",
        problems.get(0));
    assertEquals(
        "invalid registry.connect-timeout-ms='abc' (agent argument registry.connect-timeout-ms): expected a whole"
            + " number of milliseconds from 100 to 600000; using the default 5000",
        problems.get(1));
    assertEquals(5000, c.registryConnectTimeoutMs());
    assertEquals(RegistryLayout.V5, c.layout());
  }

  @Test
  void badRegistryFallsBackToLocalMode() {
    for (String bad :
        List.of(
            "zk1:2181",
            "zookeeper://",
            "zookeeper://h:0",
            "zookeeper://h:x",
            "http://h:1",
            "etcd://",
            "etcd+http://h:2379")) {
      AgentConfig c = AgentConfig.load("registry=" + bad, Map.of(), Map.of());
      assertFalse(c.registry().isPresent(), bad);
      assertEquals(1, c.problems().size(), bad);
      assertTrue(c.problems().get(0).contains("registry='" + bad + "'"), c.problems()::toString);
      assertTrue(c.problems().get(0).contains("zookeeper://host:port"), c.problems()::toString);
      assertTrue(c.problems().get(0).endsWith("running in local mode"), c.problems()::toString);
    }
  }

  @Test
  void zooKeeperOverTlsParses() {
    AgentConfig tls =
        AgentConfig.load("registry=zookeeper+tls://z1:2281,z2:2281", Map.of(), Map.of());
    assertEquals(List.of(), tls.problems());
    assertEquals(RegistryUri.Backend.ZOOKEEPER, tls.registry().get().backend());
    assertTrue(tls.registry().get().tls());
    assertEquals("z1:2281,z2:2281", tls.registry().get().endpoints());
    assertEquals("zookeeper+tls://z1:2281,z2:2281", tls.registry().get().toString());
    assertFalse(
        AgentConfig.load("registry=zookeeper://z1:2181", Map.of(), Map.of())
            .registry()
            .get()
            .tls());
  }

  @Test
  void etcdRegistriesParse() {
    AgentConfig plain =
        AgentConfig.load("registry=etcd://e1:2379,e2:2379,namespace=prod", Map.of(), Map.of());
    assertEquals(List.of(), plain.problems());
    assertEquals(RegistryUri.Backend.ETCD, plain.registry().get().backend());
    assertFalse(plain.registry().get().tls());
    assertEquals("e1:2379,e2:2379", plain.registry().get().endpoints());
    AgentConfig tls = AgentConfig.load("registry=ETCD+HTTPS://e1:2379/", Map.of(), Map.of());
    assertTrue(tls.registry().get().tls());
    assertEquals("etcd+https://e1:2379", tls.registry().get().toString());
  }

  @Test
  void anUnreadableCaFileIsReported() {
    AgentConfig c =
        AgentConfig.load(
            "registry=etcd+https://e1:2379,registry.tls-ca-file=/nonexistent/ca.pem",
            Map.of(),
            Map.of());
    assertEquals(1, c.problems().size(), c.problems()::toString);
    assertTrue(c.problems().get(0).contains("/nonexistent/ca.pem"), c.problems().get(0));
    assertEquals(null, c.registryTlsCaFile());
  }

  @Test
  void secretsAreNeverRepeated() {
    AgentConfig c = AgentConfig.load("registry.auth=hunter2", Map.of(), Map.of());
    assertEquals(1, c.problems().size());
    assertFalse(c.problems().get(0).contains("hunter2"), c.problems().get(0));
    assertTrue(c.problems().get(0).contains("registry.auth='****'"), c.problems().get(0));
  }

  @Test
  void aSecretMayHoldCommasAndEqualsSigns() {
    AgentConfig c =
        AgentConfig.load("registry=zookeeper://h:1,registry.auth=u:ab,cd=ef", Map.of(), Map.of());
    assertEquals(List.of(), c.problems());
    assertEquals("u:ab,cd=ef", c.registryAuth());
  }

  @Test
  void aSecretRunsUpToTheNextKnownKeyAndIsTakenVerbatim() {
    String secret = " u:a,b=\"c' d,=,e= ";
    AgentConfig c =
        AgentConfig.load(
            "registry.auth=" + secret + ",namespace=prod,datasources.s.n=h:1", Map.of(), Map.of());
    assertEquals(List.of(), c.problems());
    assertEquals(secret, c.registryAuth());
    assertEquals("prod", c.namespace());
    assertEquals("h:1", c.datasources().get("s.n").hostPort);
  }

  @Test
  void aMalformedSecretIsReportedWithoutAnyPartOfIt() {
    AgentConfig c = AgentConfig.load("registry.auth=nocolon,hunter2=x y", Map.of(), Map.of());
    assertEquals(1, c.problems().size(), c.problems()::toString);
    String problem = c.problems().get(0);
    assertTrue(problem.startsWith("invalid registry.auth='****' (agent argument"), problem);
    for (String part : new String[] {"nocolon", "hunter2", "x y"}) {
      assertFalse(problem.contains(part), problem);
    }
    assertEquals(null, c.registryAuth());
  }

  @Test
  void theSecretFromAFileNamedInTheEnvironment(@TempDir Path dir) throws Exception {
    String secret = "u:a,b=c \"d' e";
    Path file = dir.resolve("auth");
    Files.writeString(file, secret + "\n");
    AgentConfig c =
        AgentConfig.load(
            "registry=zookeeper://h:1",
            Map.of(),
            Map.of("SLUICE_REGISTRY_AUTH_FILE", file.toString()));
    assertEquals(List.of(), c.problems());
    assertEquals(secret, c.registryAuth());
    assertEquals("environment SLUICE_REGISTRY_AUTH_FILE", c.origin(ConfigKey.REGISTRY_AUTH_FILE));
  }

  @Test
  void aBadAuthFileIsNamedButNeverShown(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("auth");
    Files.writeString(file, "hunter2-without-a-user\n");
    AgentConfig bad = AgentConfig.load("registry.auth-file=" + file, Map.of(), Map.of());
    assertEquals(1, bad.problems().size(), bad.problems()::toString);
    assertTrue(bad.problems().get(0).contains(file.toString()), bad.problems()::toString);
    assertFalse(bad.problems().get(0).contains("hunter2"), bad.problems()::toString);
    assertEquals(null, bad.registryAuth());

    AgentConfig missing =
        AgentConfig.load("registry.auth-file=" + dir.resolve("absent"), Map.of(), Map.of());
    assertEquals(1, missing.problems().size(), missing.problems()::toString);
    assertTrue(missing.problems().get(0).contains("cannot be read"), missing.problems()::toString);
    assertEquals(null, missing.registryAuth());

    AgentConfig both =
        AgentConfig.load("registry.auth=u:inline,registry.auth-file=" + file, Map.of(), Map.of());
    assertEquals("u:inline", both.registryAuth());
    assertEquals(1, both.problems().size(), both.problems()::toString);
    assertTrue(
        both.problems().get(0).startsWith("registry.auth-file (agent argument"),
        both.problems()::toString);
  }

  @Test
  void unknownKeysAndUnreadableFilesAreReported() {
    AgentConfig c =
        AgentConfig.load(
            "regsitry=zookeeper://h:1,config=/nonexistent/sluice.properties", Map.of(), Map.of());
    assertEquals(2, c.problems().size(), c.problems()::toString);
    assertTrue(
        c.problems().get(0).startsWith("config file '/nonexistent/sluice.properties'"),
        c.problems()::toString);
    assertTrue(c.problems().get(1).contains("unknown key 'regsitry'"), c.problems()::toString);
  }

  @Test
  void datasourceMappings() {
    AgentConfig c =
        AgentConfig.load(
            "datasources.orders.primary=db1:3306/orders,datasources.orders.replica=[::1]:5432,datasources.bad=x:1",
            Map.of(),
            Map.of());
    assertEquals(1, c.problems().size(), c.problems()::toString);
    dev.sluice.agent.datasource.DatasourceMapping primary = c.datasources().get("orders.primary");
    assertEquals("db1:3306", primary.hostPort);
    assertEquals("orders", primary.database);
    assertEquals("[::1]:5432", c.datasources().get("orders.replica").hostPort);
  }

  @Test
  void appDefaultsToTheMainClassOrJarName() {
    assertEquals(
        "com.acme.Main",
        AgentConfig.load("", Map.of("sun.java.command", "com.acme.Main --x"), Map.of()).app());
    assertEquals(
        "orders-service",
        AgentConfig.load("", Map.of("sun.java.command", "/opt/app/orders-service.jar"), Map.of())
            .app());
  }

  @Test
  void theEnvironmentNamesOfTheKeys() {
    assertEquals(
        "SLUICE_REGISTRY_CONNECT_TIMEOUT_MS",
        ConfigKey.REGISTRY_CONNECT_TIMEOUT_MS.environmentVariable());
    assertEquals("SLUICE_ON_REGISTRY_LOSS", ConfigKey.ON_REGISTRY_LOSS.environmentVariable());
  }

  @Test
  void thousandsOfMalformedArgumentsNeverThrowAndLeaveAValidConfiguration() {
    long seed = System.nanoTime();
    java.util.Random rnd = new java.util.Random(seed);
    for (int i = 0; i < 5000; i++) {
      String args = MalformedConfig.randomArgs(rnd, true);
      String where =
          "seed " + seed + ", case " + i + ": " + args.substring(0, Math.min(200, args.length()));
      AgentConfig c = AgentConfig.load(args, Map.of(), Map.of());
      assertTrue(
          c.registryConnectTimeoutMs() >= 100 && c.registryConnectTimeoutMs() <= 600_000, where);
      assertTrue(c.registryInitialSyncMs() >= 0, where);
      assertTrue(c.cutoffGraceMs() >= 0 && c.registryLossGraceMs() >= 0, where);
      assertTrue(c.namespace().matches("[A-Za-z0-9._-]+"), where);
      assertTrue(c.layout() != null && c.onRegistryLoss() != null, where);
      assertTrue(
          List.of("trace", "debug", "info", "warn", "error", "off").contains(c.logLevel()), where);
      for (String problem : c.problems()) {
        assertTrue(
            problem.startsWith("invalid ")
                || problem.startsWith("unknown key '")
                || problem.startsWith("agent argument '"),
            where + " -> " + problem);
        assertFalse(problem.contains(MalformedConfig.SECRET), "a secret in: " + problem);
      }
      assertEquals(
          new java.util.HashSet<>(c.problems()).size(),
          c.problems().size(),
          where + ": each problem once: " + c.problems());
    }
  }
}
