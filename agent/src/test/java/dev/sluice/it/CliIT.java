package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.control.Json;
import dev.sluice.registry.etcd.EtcdCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every registry command of {@code java -jar sluice-agent.jar} (SPEC section 9) end to end, against
 * real app JVMs with the agent, on ZooKeeper and on etcd with TLS and authentication: the text and
 * the {@code --json} result, the exit codes and the messages of misuse; the instance metadata the
 * agents keep; export and import across registries and backends.
 */
class CliIT {

  /** A CLI run: its exit code and its output. */
  static final class Run {
    final int exit;
    final String out;
    final String err;

    Run(int exit, String out, String err) {
      this.exit = exit;
      this.out = out;
      this.err = err;
    }

    Map<String, Object> json() {
      return Json.object(out);
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n" + out + err;
    }
  }

  static Run run(List<String> args) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of(AppProcess.java(), "-jar", AppProcess.agentJar().toString()));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).start();
    byte[] err = new byte[0];
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the CLI ends");
    return new Run(p.exitValue(), out, new String(err, StandardCharsets.UTF_8));
  }

  /** The CLI, with output and error in one string, for older callers. */
  static String[] cli(String... args) throws Exception {
    Run r = run(List.of(args));
    return new String[] {String.valueOf(r.exit), r.out + r.err};
  }

  /** One registry, as the tests reach it besides the CLI (zkCli's or etcdctl's view). */
  interface Backend extends AutoCloseable {
    /** The agent's registry settings. */
    String agentArgs();

    /** The CLI's registry settings. */
    List<String> cliArgs();

    /** A node's value, {@code null} when absent. */
    String get(String path) throws Exception;

    /** Writes a persistent node, as an operator with zkCli or etcdctl would. */
    void put(String path, String value) throws Exception;

    /** Ends the session (lease) that holds the app's ephemeral nodes. */
    void loseSession(String instancePath) throws Exception;
  }

  static final class ZooKeeperBackend implements Backend {
    final ZooKeeperFixture zk = new ZooKeeperFixture();

    ZooKeeperBackend() throws Exception {}

    @Override
    public String agentArgs() {
      return InstanceCutOffIT.registryArgsFor(zk);
    }

    @Override
    public List<String> cliArgs() {
      return List.of("registry=zookeeper://" + zk.connectString());
    }

    @Override
    public String get(String path) throws Exception {
      return zk.stat(path) == null ? null : zk.get(path);
    }

    @Override
    public void put(String path, String value) throws Exception {
      if (zk.stat(path) == null) {
        zk.create(path, value);
      } else {
        zk.set(path, value);
      }
    }

    @Override
    public void loseSession(String instancePath) throws Exception {
      zk.expireSession(zk.stat(instancePath).getEphemeralOwner());
    }

    @Override
    public void close() throws Exception {
      zk.close();
    }
  }

  /** etcd over TLS, with authentication: the agent's user and a root operator. */
  static final class EtcdBackend implements Backend {
    final EtcdCluster etcd = EtcdCluster.start(1, true);
    final String root = etcd.enableAuth("sluice:agent-pw", "/sluice/");
    final Etcdctl etcdctl = new Etcdctl(etcd, root);

    EtcdBackend() throws Exception {}

    @Override
    public String agentArgs() {
      return "registry=etcd+https://"
          + etcd.endpoints()
          + ",registry.tls-ca-file="
          + etcd.caFile()
          + ",registry.auth=sluice:agent-pw";
    }

    @Override
    public List<String> cliArgs() {
      return List.of(
          "registry=etcd+https://" + etcd.endpoints(),
          "registry.tls-ca-file=" + etcd.caFile(),
          "registry.auth=" + root);
    }

    @Override
    public String get(String path) throws Exception {
      return etcdctl.get(path);
    }

    @Override
    public void put(String path, String value) throws Exception {
      etcdctl.run("put", path, value);
    }

    @Override
    public void loseSession(String instancePath) throws Exception {
      etcdctl.run("lease", "revoke", etcdctl.lease(instancePath));
    }

    @Override
    public void close() throws Exception {
      etcd.close();
    }
  }

  static Backend backend(String name) throws Exception {
    return name.equals("zookeeper") ? new ZooKeeperBackend() : new EtcdBackend();
  }

  private static final String SECRET = "cli-secret-pw";

  /**
   * Two app JVMs (one with a routing group) on one H2 server: {@code status} shows them with their
   * metadata; {@code disable}/{@code enable} of an instance and of a datasource cut them off and
   * let them back; {@code primary}, {@code recovery} and their misuse; the metadata is refreshed,
   * holds no secret, comes back after a lost session and goes with the JVM.
   */
  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"zookeeper", "etcd"})
  void everyCommandAgainstRunningApps(String backendName) throws Exception {
    try (Backend registry = backend(backendName);
        H2TcpServer h2 = new H2TcpServer();
        AppProcess shop =
            AppProcess.jdbcApp(h2.url("cli") + ";PASSWORD=" + SECRET, "sa")
                .agentArgs(
                    registry.agentArgs() + ",app=shop,groups.orders.address=orders.invalid:3306")
                .start();
        AppProcess billing =
            AppProcess.jdbcApp(h2.url("cli") + ";PASSWORD=" + SECRET, "sa")
                .agentArgs(registry.agentArgs() + ",app=billing,recovery.candidate=false")
                .start()) {
      Cli cli = new Cli(registry.cliArgs());
      String shopId = awaitInstance(cli, shop);
      String billingId = awaitInstance(cli, billing);
      // (an in-memory H2 database lives as long as the test JVM: no other test may use "cli")
      String datasource = "cli/127.0.0.1_" + h2.hostPort().split(":")[1];
      AppProcess.Reply shopConnect = shop.send("connect");
      assertTrue(shopConnect.ok, shopConnect + "\n" + shop.output());
      AppProcess.Reply billingConnect = billing.send("connect");
      assertTrue(billingConnect.ok, billingConnect + "\n" + billing.output());

      // metadata: refreshed within 5 s of a change, no secret in it
      assertTrue(shop.send("open held").ok);
      long opened = System.nanoTime();
      Map<String, Object> status =
          cli.awaitJson(
              "shop's held connection in its metadata",
              Duration.ofSeconds(8),
              s -> Long.valueOf(1).equals(instance(s, shopId).get("open")),
              "status");
      long seenMs = (System.nanoTime() - opened) / 1_000_000;
      System.out.println("CliIT: a held connection reached the metadata in " + seenMs + " ms");
      Map<String, Object> shopStatus = instance(status, shopId);
      assertEquals("shop", shopStatus.get("app"));
      assertEquals(shop.pid(), shopStatus.get("pid"));
      assertEquals("ENABLED", shopStatus.get("state"));
      assertTrue(
          String.valueOf(shopStatus.get("startedAt")).matches("20\\d\\d-.*Z"), status.toString());
      assertTrue(
          String.valueOf(shopStatus.get("agentVersion")).matches("\\d+\\.\\d+.*"),
          status.toString());
      assertEquals("billing", instance(status, billingId).get("app"));
      Map<String, Object> ds = datasource(status, datasource);
      assertEquals("ENABLED", ds.get("state"));
      assertEquals(h2.hostPort() + "/cli", ds.get("endpoint"));
      assertEquals(1L, ds.get("open"));
      Map<String, Object> group = group(status, "orders");
      assertEquals("node", group.get("primarySource"));
      assertEquals("/sluice/states/groups/orders/primary", group.get("key"));
      assertNull(group.get("primary"));
      assertEquals("ENABLED", ((Map<?, ?>) status.get("recovery")).get("state"));
      assertEquals(shopId, status.get("leader"), "shop is the only candidate");
      String meta = registry.get("/sluice/meta/instances/" + shopId);
      assertNotNull(meta);
      assertFalse(meta.contains(SECRET), meta);
      assertFalse(cli.run("status").out.contains(SECRET));

      Run table = cli.run("status");
      assertEquals(0, table.exit, table.toString());
      System.out.println("CliIT: status on " + backendName + ":\n" + table.out);
      for (String shown :
          new String[] {
            "INSTANCES 2",
            shopId,
            "shop",
            String.valueOf(shop.pid()),
            "DATASOURCES 1",
            datasource,
            h2.hostPort() + "/cli",
            "GROUPS 1",
            "orders",
            "node /sluice/states/groups/orders/primary",
            "automatic recovery ENABLED",
            "LEADER    " + shopId
          }) {
        assertTrue(table.out.contains(shown), shown + " in\n" + table.out);
      }

      // disable / enable an instance
      Run off = cli.run("disable", shopId, "--json");
      assertEquals(0, off.exit, off.toString());
      assertEquals("DISABLED", off.json().get("state"));
      assertEquals("/sluice/states/proxynodes/" + shopId, off.json().get("path"));
      InstanceCutOffIT.awaitRefused(shop, "connect");
      assertTrue(billing.send("connect").ok, "the other instance is not touched");
      assertTrue(cli.run("status").out.matches("(?s).*" + shopId + " +DISABLED.*"));
      assertEquals(0, cli.run("enable", shopId).exit);
      InstanceCutOffIT.awaitAllowed(shop, "connect");

      // disable / enable a datasource: every instance
      Run dsOff = cli.run("disable", datasource);
      assertEquals(0, dsOff.exit, dsOff.toString());
      assertTrue(dsOff.out.contains("datasource DISABLED"), dsOff.out);
      InstanceCutOffIT.awaitRefused(shop, "connect");
      InstanceCutOffIT.awaitRefused(billing, "connect");
      assertEquals("DISABLED", datasource(cli.json("status"), datasource).get("state"));
      assertEquals(0, cli.run("enable", datasource).exit);
      InstanceCutOffIT.awaitAllowed(shop, "connect");
      InstanceCutOffIT.awaitAllowed(billing, "connect");

      // primary: shown, set for a node group, misuse
      Run shown = cli.run("primary", "orders");
      assertEquals(0, shown.exit, shown.toString());
      assertTrue(
          shown.out.contains(
              "group orders: primary unknown (from node, /sluice/states/groups/orders/primary)"),
          shown.out);
      Run set = cli.run("primary", "orders", "db2.example:3306", "--json");
      assertEquals(0, set.exit, set.toString());
      assertEquals("db2.example:3306", registry.get("/sluice/states/groups/orders/primary"));
      assertEquals("db2.example:3306", cli.json("primary", "orders").get("primary"));
      cli.awaitJson(
          "shop's metadata reports the primary it applied",
          Duration.ofSeconds(8),
          s -> {
            List<?> groups = (List<?>) instance(s, shopId).get("groups");
            return "db2.example:3306".equals(((Map<?, ?>) groups.get(0)).get("primary"));
          },
          "status");
      assertFailure(cli.run("primary", "nosuch"), 1, "no group nosuch");
      assertFailure(cli.run("primary", "orders", "db2.example"), 2, "'db2.example' is no primary");
      assertFailure(cli.run("primary"), 2, "primary takes a group");

      // the recovery switch and ack
      Run recovery = cli.run("recovery", "--json");
      assertEquals(0, recovery.exit, recovery.toString());
      assertEquals("ENABLED", recovery.json().get("state"));
      assertEquals(shopId, recovery.json().get("leader"));
      assertEquals(0, cli.run("recovery", "disable").exit);
      assertEquals("DISABLED", registry.get("/sluice/control/recovery"));
      assertTrue(cli.run("recovery").out.contains("automatic recovery DISABLED"));
      assertTrue(cli.run("status").out.contains("automatic recovery DISABLED"));
      assertEquals(0, cli.run("recovery", "enable").exit);
      assertEquals("", registry.get("/sluice/control/recovery"));
      String record = "/sluice/control/actions/cli/db9_3306";
      assertFailure(
          cli.run("recovery", "ack", "cli/db9_3306"), 1, "no automatic action is recorded");
      registry.put(
          record,
          "{\"action\":\"disable\",\"reason\":\"DOWN\",\"at\":\"2026-11-28T10:00:00Z\",\"leader\":\"x\"}");
      Run ack = cli.run("recovery", "ack", "cli/db9_3306", "--json");
      assertEquals(0, ack.exit, ack.toString());
      assertTrue(
          registry.get(record).matches(".*\"acknowledged\":\"20\\d\\d-.*Z\"}"),
          registry.get(record));
      assertEquals("DOWN", ((Map<?, ?>) ack.json().get("record")).get("reason"));
      assertFailure(
          cli.run("recovery", "sideways"), 2, "recovery takes status, disable, enable or ack");
      assertFailure(cli.run("recovery", "ack", "no-slash"), 2, "schema/name");

      // no such node; misuse before any registry is reached
      assertFailure(
          cli.run("disable", "10.0.0.1@1@nope"),
          1,
          "no instance node /sluice/states/proxynodes/10.0.0.1@1@nope");
      assertFailure(
          cli.run("enable", "cli/nope_1"),
          1,
          "no datasource node /sluice/states/datanodes/cli/nope_1");
      Run jsonFailure = cli.run("disable", "10.0.0.1@1@nope", "--json");
      assertEquals(1, jsonFailure.exit);
      assertEquals(1L, jsonFailure.json().get("exit"));
      assertTrue(String.valueOf(jsonFailure.json().get("error")).contains("no instance node"));

      // metadata comes back after a lost session, and goes with the JVM
      String billingMeta = "/sluice/meta/instances/" + billingId;
      registry.loseSession("/sluice/states/proxynodes/" + billingId);
      Await.until(
          "billing's metadata re-created",
          Duration.ofSeconds(30),
          () -> {
            try {
              return registry.get(billingMeta) != null
                  && registry.get("/sluice/states/proxynodes/" + billingId) != null;
            } catch (Exception e) {
              return false;
            }
          });
      billing.close();
      Await.until(
          "billing's metadata gone with its JVM",
          Duration.ofSeconds(30),
          () -> {
            try {
              return registry.get(billingMeta) == null;
            } catch (Exception e) {
              return false;
            }
          });
      assertEquals(1, ((List<?>) cli.json("status").get("instances")).size());
    }
  }

  /** Misuse is reported with exit 2 before any registry is reached; an unreachable one is 1. */
  @Test
  void misuseAndAnUnreachableRegistry() throws Exception {
    Cli cli = new Cli(List.of("registry=zookeeper://127.0.0.1:" + FreePort.next()));
    assertFailure(cli.run("frobnicate"), 2, "unknown command 'frobnicate'");
    assertFailure(cli.run("status", "extra"), 2, "status takes no argument");
    assertFailure(cli.run("disable"), 2, "disable takes one instance id or one schema/name");
    assertFailure(cli.run("disable", "a/b/c"), 2, "schema/name");
    assertFailure(cli.run("status", "--jsn"), 2, "unknown option --jsn");
    assertFailure(cli.run("status", "--dry-run"), 2, "--dry-run belongs to import only");
    assertFailure(cli.run("import"), 2, "import takes the file to read");
    assertFailure(new Cli(List.of()).run("status"), 2, "no registry given");
    assertFailure(
        new Cli(List.of("registry=zk:2181")).run("status"), 2, "invalid registry='zk:2181'");
    Run usage = run(List.of());
    assertEquals(2, usage.exit);
    assertTrue(usage.out.contains("usage: java -jar sluice-agent.jar"), usage.out);
    assertEquals(0, run(List.of("help")).exit);
    Run json = cli.run("frobnicate", "--json");
    assertEquals(2L, json.json().get("exit"), json.toString());
    Run unreachable =
        new Cli(
                List.of(
                    "registry=zookeeper://127.0.0.1:" + FreePort.next(),
                    "registry.connect-timeout-ms=2000"))
            .run("status");
    assertFailure(unreachable, 1, "registry zookeeper://127.0.0.1:");
  }

  /**
   * The governance state exported from one registry and imported into an empty one on the other
   * backend (ZooKeeper to etcd over TLS with authentication, and back): the dry run shows the
   * difference and writes nothing; the import reproduces the state; a second import has nothing to
   * do; a broken file is refused with a clear message and changes nothing.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"zookeeper to etcd", "etcd to zookeeper"})
  void exportAndImportAcrossBackends(String direction, @TempDir Path dir) throws Exception {
    String[] names = direction.split(" to ");
    try (Backend from = backend(names[0]);
        Backend to = backend(names[1])) {
      Cli source = new Cli(from.cliArgs());
      Cli target = new Cli(to.cliArgs());
      from.put("/sluice/states/datanodes/orders/db1_3306", "");
      from.put("/sluice/states/datanodes/orders/db2_3306", "DISABLED");
      from.put("/sluice/states/datanodes/billing/db3_5432", "disabled");
      from.put("/sluice/states/groups/orders/primary", "db1:3306");
      from.put("/sluice/meta/endpoints/orders/db1_3306", "db1:3306/orders");
      assertEquals(0, source.run("recovery", "disable").exit);
      // the target holds a DISABLED datasource the source does not know, and another primary
      to.put("/sluice/states/datanodes/legacy/db9_3306", "DISABLED");
      to.put("/sluice/states/groups/orders/primary", "db9:3306");

      Path file = dir.resolve("state.json");
      Run exported = source.run("export", file.toString());
      assertEquals(0, exported.exit, exported.toString());
      Map<String, Object> document = Json.object(Files.readString(file));
      assertEquals("sluice-governance-state", document.get("format"));
      assertEquals(
          Map.of(
              "orders/db1_3306", "", "orders/db2_3306", "DISABLED", "billing/db3_5432", "disabled"),
          document.get("datasources"));
      assertEquals(Map.of("orders", "db1:3306"), document.get("primaries"));
      assertEquals("DISABLED", document.get("recovery"));
      assertEquals(
          document.get("datasources"),
          source.json("export").get("datasources"),
          "export to standard output");

      Run dry = target.run("import", file.toString(), "--dry-run", "--json");
      assertEquals(0, dry.exit, dry.toString());
      assertEquals(Boolean.TRUE, dry.json().get("dryRun"));
      List<?> changes = (List<?>) dry.json().get("changes");
      assertEquals(6, changes.size(), dry.out);
      assertNull(to.get("/sluice/states/datanodes/orders/db2_3306"), "a dry run writes nothing");
      assertEquals("db9:3306", to.get("/sluice/states/groups/orders/primary"));
      Run dryText = target.run("import", file.toString(), "--dry-run");
      System.out.println("CliIT: import --dry-run, " + direction + ":\n" + dryText.out);
      assertTrue(
          dryText.out.contains("/sluice/states/datanodes/orders/db2_3306: (absent) -> 'DISABLED'"),
          dryText.out);
      assertTrue(
          dryText.out.contains("/sluice/states/groups/orders/primary: 'db9:3306' -> 'db1:3306'"),
          dryText.out);
      assertTrue(
          dryText.out.contains("/sluice/states/datanodes/legacy/db9_3306: 'DISABLED' -> ''"),
          dryText.out);
      assertTrue(dryText.out.contains("6 changes (dry run: nothing written)"), dryText.out);

      Run applied = target.run("import", file.toString());
      assertEquals(0, applied.exit, applied.toString());
      assertTrue(applied.out.contains("6 changes written to"), applied.out);
      Map<String, Object> after = target.json("export");
      assertEquals(
          Map.of(
              "orders/db1_3306", "",
              "orders/db2_3306", "DISABLED",
              "billing/db3_5432", "disabled",
              "legacy/db9_3306", ""),
          after.get("datasources"));
      assertEquals(Map.of("orders", "db1:3306"), after.get("primaries"));
      assertEquals("DISABLED", after.get("recovery"));
      Run again = target.run("import", file.toString());
      assertTrue(again.out.contains("0 changes"), again.out);

      for (String broken :
          new String[] {
            "{\"format\":\"sluice-governance-state\",\"version\":1,\"datasources\":{\"a/b\":1}}",
            "{\"format\":\"sluice-governance-state\",\"version\":1,\"primaries\":{\"orders\":\"nope\"}}",
            "{\"format\":\"sluice-governance-state\",\"version\":2}",
            "{\"datasources\":{}}",
            "{\"format\":\"sluice-governance-state\",\"version\":1,\"datasources\":{\"x\":\"\"}}",
            "{\"format\":\"sluice-governance-state\",\"version\":1,\"recovery\":\"\",}"
          }) {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, broken.replace("nope", "no port"));
        Run refused = target.run("import", bad.toString());
        assertFailure(refused, 2, "is no Sluice export: ");
        assertTrue(refused.err.contains("nothing was written"), refused.toString());
      }
      assertEquals(
          after.get("datasources"), target.json("export").get("datasources"), "nothing changed");
      assertFailure(target.run("import", dir.resolve("missing.json").toString()), 2, "cannot read");
    }
  }

  static void assertFailure(Run run, int exit, String message) {
    assertEquals(exit, run.exit, run.toString());
    assertTrue(run.err.contains(message), "'" + message + "' in " + run);
  }

  /** The CLI with one registry's settings. */
  static final class Cli {
    private final List<String> settings;

    Cli(List<String> settings) {
      this.settings = settings;
    }

    Run run(String... args) throws Exception {
      List<String> all = new ArrayList<>(List.of(args));
      all.addAll(settings);
      return CliIT.run(all);
    }

    Map<String, Object> json(String... args) throws Exception {
      List<String> all = new ArrayList<>(List.of(args));
      all.add("--json");
      Run r = run(all.toArray(new String[0]));
      assertEquals(0, r.exit, r.toString());
      return r.json();
    }

    Map<String, Object> awaitJson(
        String what, Duration timeout, Predicate<Map<String, Object>> until, String... args) {
      return Await.until(
          what,
          timeout,
          () -> {
            try {
              return json(args);
            } catch (Exception | AssertionError e) {
              return null;
            }
          },
          s -> s != null && until.test(s));
    }
  }

  private static String awaitInstance(Cli cli, AppProcess app) {
    Map<String, Object> status =
        cli.awaitJson(
            "pid " + app.pid() + " with its metadata in status",
            Duration.ofSeconds(30),
            s -> byPid(s, app.pid()) != null,
            "status");
    return String.valueOf(byPid(status, app.pid()).get("id"));
  }

  private static Map<String, Object> byPid(Map<String, Object> status, long pid) {
    for (Object o : (List<?>) status.get("instances")) {
      @SuppressWarnings("unchecked")
      Map<String, Object> i = (Map<String, Object>) o;
      if (Long.valueOf(pid).equals(i.get("pid"))) {
        return i;
      }
    }
    return null;
  }

  static Map<String, Object> instance(Map<String, Object> status, String id) {
    return find(status, "instances", i -> id.equals(i.get("id")));
  }

  static Map<String, Object> datasource(Map<String, Object> status, String schemaSlashName) {
    return find(
        status, "datasources", d -> schemaSlashName.equals(d.get("schema") + "/" + d.get("name")));
  }

  static Map<String, Object> group(Map<String, Object> status, String name) {
    return find(status, "groups", g -> name.equals(g.get("name")));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> find(
      Map<String, Object> status, String list, Predicate<Map<String, Object>> which) {
    for (Object o : (List<?>) status.get(list)) {
      if (which.test((Map<String, Object>) o)) {
        return (Map<String, Object>) o;
      }
    }
    throw new AssertionError("not in " + list + ": " + status);
  }
}
