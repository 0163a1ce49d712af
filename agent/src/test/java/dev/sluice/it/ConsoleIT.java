package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.agent.control.Json;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The web console (SPEC section 9) in Debian's headless Chromium: a {@code controller} serves it
 * for three running app JVMs; a click on Disable (confirmed) cuts one off ({@code 08004}); a write
 * with zkCli is on screen within 1 s; the recovery switch and a group's primary are set from the
 * page; a cross-site page's posts and unauthenticated requests are refused. Screenshots go to
 * {@code target/console/}.
 */
class ConsoleIT {

  private static final String AUTH = "admin:console-pw";
  private static final Path SHOTS = Path.of("target", "console");

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void theConsoleInAHeadlessBrowser() throws Exception {
    int port = FreePort.next();
    String console = "http://127.0.0.1:" + port + "/";
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess shop =
            AppProcess.hikariApp(h2.url("console"))
                .agentArgs(
                    InstanceCutOffIT.registryArgsFor(zk)
                        + ",app=shop,recovery.candidate=false"
                        + ",groups.orders.address=orders.invalid:3306")
                .start();
        AppProcess billing = app(zk, h2, "billing", "");
        AppProcess search = app(zk, h2, "search", "");
        AppProcess controller =
            AppProcess.controller(
                    "registry=zookeeper://" + zk.connectString(),
                    "console.bind=127.0.0.1:" + port,
                    "console.auth=" + AUTH)
                .start();
        HeadlessChromium browser = new HeadlessChromium()) {
      String shopId = zk.awaitChild(InstanceCutOffIT.INSTANCES, "@" + shop.pid() + "@");
      zk.awaitChild(InstanceCutOffIT.INSTANCES, "@" + billing.pid() + "@");
      zk.awaitChild(InstanceCutOffIT.INSTANCES, "@" + search.pid() + "@");
      assertTrue(shop.send("borrow").ok, "shop borrows from its HikariCP pool");
      assertTrue(billing.send("connect").ok);
      assertTrue(search.send("connect").ok);
      Await.until(
          "the controller's console answers, leading",
          Duration.ofSeconds(30),
          () -> status(get(console + "api/leader-check", AUTH)) == 200);

      // no authentication, a wrong password: refused, and nothing is shown
      HttpResponse<String> anonymous = get(console + "api/status", null);
      assertEquals(401, anonymous.statusCode());
      assertTrue(anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
      assertFalse(anonymous.body().contains(shopId));
      assertEquals(401, status(get(console, "admin:wrong")));
      String statusJson = get(console + "api/status", AUTH).body();
      assertTrue(statusJson.contains(shopId), statusJson);
      assertFalse(statusJson.contains("console-pw"), "no secret in the API");

      browser.headers(Map.of("Authorization", HeadlessChromium.basic(AUTH)));
      browser.navigate(console);
      browser.await(
          "three instances on the page",
          Duration.ofSeconds(15),
          "document.querySelectorAll('#instances tbody tr').length === 3"
              + " && document.getElementById('live').textContent === 'live'");
      assertTrue(
          String.valueOf(browser.eval("document.getElementById('leader').textContent"))
              .startsWith("controller@"));
      browser.screenshot(SHOTS.resolve("1-fleet.png"));

      // Disable on one instance, confirmed: its next borrow fails with 08004; the others go on
      String row = "#instances tr[data-key='" + shopId + "']";
      browser.dialogs(false, "");
      browser.click(row + " button[data-action='disable']");
      assertEquals("", zk.get(InstanceCutOffIT.INSTANCES + "/" + shopId), "dismissed: no write");
      browser.dialogs(true, "");
      browser.click(row + " button[data-action='disable']");
      assertTrue(
          browser.dialogs.get(1).startsWith("Disable instance " + shopId + "?"),
          browser.dialogs.toString());
      AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(shop, "borrow");
      assertEquals("08004", refused.sqlState(), refused.toString());
      assertTrue(billing.send("connect").ok);
      assertTrue(search.send("connect").ok);
      browser.await(
          "shop DISABLED on the page",
          Duration.ofSeconds(5),
          "document.querySelector(\"" + row + "\").className === 'disabled'");
      browser.screenshot(SHOTS.resolve("2-instance-disabled.png"));
      browser.click(row + " button[data-action='enable']");
      InstanceCutOffIT.awaitAllowed(shop, "borrow");

      // a write with zkCli is on screen within 1 s: the page notes when the row turned DISABLED,
      // and the node's mtime says when ZooKeeper made the write (one clock: this machine's)
      String datasource = "console/127.0.0.1_" + h2.hostPort().split(":")[1];
      String datanode = "/sluice/states/datanodes/" + datasource;
      String dsRow = "#datasources tr[data-key='" + datasource + "']";
      browser.await(
          "the datasource on the page",
          Duration.ofSeconds(10),
          "!!document.querySelector(\"" + dsRow + "\")");
      browser.eval(
          "window.disabledAt = null; new MutationObserver(() => {"
              + " const r = document.querySelector(\""
              + dsRow
              + "\");"
              + " if (r && r.className === 'disabled' && window.disabledAt === null)"
              + " window.disabledAt = Date.now(); })"
              + ".observe(document.getElementById('datasources'),"
              + " {subtree: true, childList: true, attributes: true}); true");
      new ZkCli(zk).run("set", datanode, "DISABLED");
      browser.await(
          "the datasource DISABLED on screen", Duration.ofSeconds(5), "window.disabledAt !== null");
      long onScreenMs =
          ((Number) browser.eval("window.disabledAt")).longValue() - zk.stat(datanode).getMtime();
      System.out.println("ConsoleIT: a zkCli write was on screen " + onScreenMs + " ms later");
      assertTrue(onScreenMs <= 1000, "on screen " + onScreenMs + " ms after the write");
      browser.screenshot(SHOTS.resolve("3-datasource-disabled.png"));
      browser.click(dsRow + " button[data-action='enable']");
      Await.until(
          "the datasource enabled from the page",
          Duration.ofSeconds(5),
          () -> value(zk, datanode).isEmpty());

      // the recovery switch and a node group's primary, from the page
      browser.click("#recovery-toggle");
      Await.until(
          "recovery DISABLED",
          Duration.ofSeconds(5),
          () -> "DISABLED".equals(value(zk, "/sluice/control/recovery")));
      browser.await(
          "the switch on the page",
          Duration.ofSeconds(5),
          "document.getElementById('recovery-state').textContent === 'DISABLED'");
      browser.dialogs(true, "db7.example:3306");
      browser.click("#groups tr[data-key='orders'] button[data-action='primary']");
      Await.until(
          "the primary set from the page",
          Duration.ofSeconds(5),
          () -> "db7.example:3306".equals(value(zk, "/sluice/states/groups/orders/primary")));
      browser.await(
          "the primary on the page",
          Duration.ofSeconds(5),
          "document.querySelector(\"#groups tr[data-key='orders'] td:nth-child(2)\").textContent === 'db7.example:3306'");
      browser.screenshot(SHOTS.resolve("4-recovery-off-primary-set.png"));

      // a cross-site page posts to the console with the user's credentials: refused
      String target = InstanceCutOffIT.INSTANCES + "/" + shopId;
      try (Site evil = new Site(console, shopId)) {
        browser.navigate(evil.url);
        browser.await(
            "the cross-site page's posts ended", Duration.ofSeconds(10), "window.posted === 2");
      }
      Await.until(
          "the console logged both refusals",
          Duration.ofSeconds(5),
          () -> controller.output().split("refused POST /api/disable", -1).length - 1 >= 2);
      assertEquals("", zk.get(target), "the cross-site posts wrote nothing");
      HttpResponse<String> foreign =
          post(console + "api/disable", "{\"target\":\"" + shopId + "\"}", "http://evil.example");
      assertEquals(403, foreign.statusCode(), foreign.body());
      HttpResponse<String> form =
          http.send(
              HttpRequest.newBuilder(URI.create(console + "api/disable"))
                  .header("Authorization", HeadlessChromium.basic(AUTH))
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString("target=" + shopId))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(403, form.statusCode(), form.body());
      assertEquals("", zk.get(target));
      // a script (no browser, no Origin) writes as the CLI does
      HttpResponse<String> script =
          post(console + "api/disable", "{\"target\":\"" + shopId + "\"}", null);
      assertEquals(200, script.statusCode(), script.body());
      assertEquals("DISABLED", Json.object(script.body()).get("state"));
      assertEquals("DISABLED", zk.get(target));
      HttpResponse<String> missing =
          post(console + "api/enable", "{\"target\":\"10.0.0.1@1@x\"}", null);
      assertEquals(404, missing.statusCode(), missing.body());
      HttpResponse<String> bad =
          post(console + "api/primary", "{\"group\":\"orders\",\"primary\":\"nope\"}", null);
      assertEquals(400, bad.statusCode(), bad.body());
    }
  }

  /**
   * {@code java -jar sluice-agent.jar console}, on ZooKeeper and on etcd over TLS with
   * authentication: the page alone, fed by its watch of the namespace (the leader read from it),
   * not a leader candidate ({@code leader-check} 404); a CLI write is in its status at once; it
   * refuses to bind beyond loopback without {@code console.auth}, and a taken port, with exit 2.
   */
  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"zookeeper", "etcd"})
  void theConsoleCommand(String backendName) throws Exception {
    int port = FreePort.next();
    String console = "http://127.0.0.1:" + port + "/";
    try (CliIT.Backend registry = CliIT.backend(backendName);
        AppProcess app =
            AppProcess.jdbcApp("jdbc:h2:mem:console").agentArgs(registry.agentArgs()).start()) {
      List<String> settings = new ArrayList<>(registry.cliArgs());
      settings.add("console.bind=127.0.0.1:" + port);
      settings.add("--json");
      try (AppProcess page = AppProcess.console(settings.toArray(new String[0])).start()) {
        Map<String, Object> status =
            Await.until(
                "the console's status with the app, its metadata and the leader",
                Duration.ofSeconds(30),
                () -> {
                  HttpResponse<String> r = get(console + "api/status", null);
                  return r == null || r.statusCode() != 200 ? null : Json.object(r.body());
                },
                s ->
                    s != null
                        && String.valueOf(s.get("instances")).contains("pid=" + app.pid())
                        && s.get("leader") != null);
        String id =
            String.valueOf(((Map<?, ?>) ((List<?>) status.get("instances")).get(0)).get("id"));
        assertEquals(Boolean.TRUE, status.get("synced"));
        assertTrue(id.contains("@" + app.pid() + "@"), id);
        assertEquals(id, status.get("leader"), "the election read from the watch: " + status);
        assertTrue(page.output().contains("\"console\":\"" + console + "\""), page.output());
        assertEquals(
            404, status(get(console + "api/leader-check", null)), "a console leads nothing");
        assertTrue(get(console, null).body().contains("<title>Sluice console</title>"));
        assertEquals(404, status(get(console + "nothing-here", null)));

        long written = System.nanoTime();
        assertEquals(0, new CliIT.Cli(registry.cliArgs()).run("disable", id).exit);
        Await.until(
            "the CLI's write in the console's status",
            Duration.ofSeconds(5),
            () -> {
              HttpResponse<String> r = get(console + "api/status", null);
              return r != null && r.body().contains("\"state\": \"DISABLED\"");
            });
        System.out.println(
            "ConsoleIT on "
                + backendName
                + ": a CLI write in the console's status "
                + (System.nanoTime() - written) / 1_000_000
                + " ms after the CLI started");

        List<String> taken = new ArrayList<>(List.of("console"));
        taken.addAll(registry.cliArgs());
        taken.add("console.bind=127.0.0.1:" + port);
        CliIT.assertFailure(
            CliIT.run(taken), 2, "console.bind=127.0.0.1:" + port + " cannot be bound");
        List<String> open = new ArrayList<>(List.of("console"));
        open.addAll(registry.cliArgs());
        open.add("console.bind=0.0.0.0:" + FreePort.next());
        CliIT.assertFailure(
            CliIT.run(open), 2, "lies beyond loopback: set console.auth=user:password");
      }
    }
  }

  private static AppProcess app(ZooKeeperFixture zk, H2TcpServer h2, String name, String more)
      throws Exception {
    return AppProcess.jdbcApp(h2.url("console"))
        .agentArgs(
            InstanceCutOffIT.registryArgsFor(zk)
                + ",app="
                + name
                + ",recovery.candidate=false"
                + more)
        .start();
  }

  private static String value(ZooKeeperFixture zk, String path) {
    try {
      return zk.get(path);
    } catch (Exception e) {
      return null;
    }
  }

  private HttpResponse<String> get(String url, String auth) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
    if (auth != null) {
      b.header("Authorization", HeadlessChromium.basic(auth));
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      return null;
    }
  }

  private static int status(HttpResponse<String> r) {
    return r == null ? -1 : r.statusCode();
  }

  private HttpResponse<String> post(String url, String json, String origin) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .header("Authorization", HeadlessChromium.basic(AUTH))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (origin != null) {
      b.header("Origin", origin);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A page on another origin that posts to the console as an attacker's page would: a script's JSON
   * post (no-cors) and a plain-text form-like post, both carrying the browser's credentials.
   */
  private static final class Site implements AutoCloseable {
    final HttpServer server;
    final String url;

    Site(String console, String id) throws Exception {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      String body = "{\"target\":\"" + id + "\"}";
      String page =
          "<!doctype html><script>window.posted = 0;"
              + "const done = () => { window.posted++; };"
              + "fetch('"
              + console
              + "api/disable', {method: 'POST', mode: 'no-cors',"
              + " credentials: 'include', headers: {'Content-Type': 'text/plain'},"
              + " body: '"
              + body
              + "'}).then(done, done);"
              + "fetch('"
              + console
              + "api/disable', {method: 'POST', mode: 'no-cors',"
              + " credentials: 'include', headers: {'Content-Type': 'application/x-www-form-urlencoded'},"
              + " body: 'x="
              + body
              + "'}).then(done, done);"
              + "</script>";
      server.createContext(
          "/",
          x -> {
            byte[] bytes = page.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().set("Content-Type", "text/html");
            x.sendResponseHeaders(200, bytes.length);
            x.getResponseBody().write(bytes);
            x.close();
          });
      server.start();
      url = "http://localhost:" + server.getAddress().getPort() + "/";
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
