package dev.sluice.agent.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.agent.cli.SluiceCli.Failure;
import dev.sluice.agent.cli.SluiceCli.Reply;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.control.Json;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryPaths;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console (SPEC section 9): one page showing the fleet as {@code status} does, live (each
 * registry change is pushed to the page as server-sent events), with buttons that write the
 * registry through the same {@link Commands} as the CLI; and its JSON API. On the JDK's own HTTP
 * server.
 *
 * <p>Safety: HTTP basic authentication with {@code console.auth}; without it the console binds to
 * loopback only. Writes are {@code POST}s with a JSON body from the console's own origin: a
 * cross-site form post (which can send no JSON) and a cross-origin request are refused. No secret
 * is ever in a response: the registry is named by its URI, which holds no credentials.
 */
public final class Console implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(Console.class);

  /** How many pages may follow the fleet live at once; more are told to come back later. */
  static final int MAX_LIVE_PAGES = 32;

  private static final long KEEPALIVE_MS = 15_000;
  private static final long COALESCE_MS = 50;
  private static final Map<String, String> ASSETS =
      Map.of(
          "/", "index.html",
          "/index.html", "index.html",
          "/console.js", "console.js",
          "/console.css", "console.css");

  private final AgentConfig config;
  private final RegistryPaths paths;
  private final OperatorAccess operator;
  private final FleetSnapshot snapshot;
  private final BooleanSupplier leads;
  private final String registry;
  private final byte[] expectedAuth;
  private final HttpServer server;
  private final ExecutorService threads;
  private final Semaphore livePages = new Semaphore(MAX_LIVE_PAGES);
  private volatile boolean closed;

  private Console(
      AgentConfig config,
      RegistryPaths paths,
      OperatorAccess operator,
      FleetSnapshot snapshot,
      BooleanSupplier leads,
      HttpServer server) {
    this.config = config;
    this.paths = paths;
    this.operator = operator;
    this.snapshot = snapshot;
    this.leads = leads;
    this.registry = config.registry().orElseThrow().toString();
    String auth = config.consoleAuth();
    this.expectedAuth =
        auth == null
            ? null
            : ("Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)))
                .getBytes(StandardCharsets.UTF_8);
    this.server = server;
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "sluice-console");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(threads);
    server.createContext("/", this::handle);
  }

  /**
   * Binds {@code console.bind} and serves the console.
   *
   * @param leads whether this process is the fleet's leader ({@code GET /api/leader-check})
   * @throws IllegalArgumentException when {@code console.bind} lies beyond loopback and no {@code
   *     console.auth} is set, or its host is unknown
   * @throws IOException when the address cannot be bound (say, its port is taken)
   */
  static Console start(
      AgentConfig config,
      RegistryPaths paths,
      OperatorAccess operator,
      FleetSnapshot snapshot,
      BooleanSupplier leads)
      throws IOException {
    String bind = config.consoleBind();
    int colon = bind.lastIndexOf(':');
    String host = bind.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (IOException e) {
      throw new IllegalArgumentException("console.bind=" + bind + ": unknown host " + host);
    }
    if (!address.isLoopbackAddress() && config.consoleAuth() == null) {
      throw new IllegalArgumentException(
          "console.bind="
              + bind
              + " lies beyond loopback: set console.auth=user:password (or SLUICE_CONSOLE_AUTH)"
              + " to serve it there, or bind 127.0.0.1");
    }
    HttpServer server =
        HttpServer.create(
            new InetSocketAddress(address, Integer.parseInt(bind.substring(colon + 1))), 0);
    Console console = new Console(config, paths, operator, snapshot, leads, server);
    server.start();
    log.info(
        "console at {} ({})",
        console.url(),
        config.consoleAuth() == null ? "no authentication, loopback only" : "basic authentication");
    return console;
  }

  /** The console's address, with the port actually bound. */
  public String url() {
    InetSocketAddress a = server.getAddress();
    String host = a.getAddress().getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/";
  }

  private void handle(HttpExchange x) throws IOException {
    try {
      headers(x);
      if (!authenticated(x)) {
        x.getResponseHeaders()
            .set("WWW-Authenticate", "Basic realm=\"Sluice console\", charset=\"UTF-8\"");
        send(x, 401, "text/plain", "authentication required\n");
        return;
      }
      String path = x.getRequestURI().getPath();
      String method = x.getRequestMethod();
      if (method.equals("GET") || method.equals("HEAD")) {
        get(x, path);
      } else if (method.equals("POST")) {
        post(x, path);
      } else {
        x.getResponseHeaders().set("Allow", "GET, HEAD, POST");
        json(x, 405, error("method " + method + " not allowed"));
      }
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        log.debug("console request failed: {}", e.toString());
      }
    } finally {
      x.close();
    }
  }

  private static void headers(HttpExchange x) {
    x.getResponseHeaders().set("Cache-Control", "no-store");
    x.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    x.getResponseHeaders().set("X-Frame-Options", "DENY");
    x.getResponseHeaders()
        .set(
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'");
    x.getResponseHeaders().set("Referrer-Policy", "no-referrer");
  }

  private boolean authenticated(HttpExchange x) {
    if (expectedAuth == null) {
      return true;
    }
    String given = x.getRequestHeaders().getFirst("Authorization");
    return given != null
        && MessageDigest.isEqual(expectedAuth, given.getBytes(StandardCharsets.UTF_8));
  }

  private void get(HttpExchange x, String path) throws IOException {
    String asset = ASSETS.get(path);
    if (asset != null) {
      asset(x, asset);
      return;
    }
    switch (path) {
      case "/api/status":
        json(x, 200, status());
        return;
      case "/api/leader-check":
        boolean leader = leads.getAsBoolean();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("leader", leader);
        json(x, leader ? 200 : 404, m);
        return;
      case "/api/events":
        events(x);
        return;
      default:
        json(x, 404, error("no such page: " + path));
    }
  }

  private Map<String, Object> status() {
    Map<String, Object> status;
    try {
      status = FleetStatus.read(snapshot, paths, registry);
    } catch (Exception e) {
      throw new IllegalStateException(e); // the snapshot reads no registry: never
    }
    status.put("synced", snapshot.isSynced());
    return status;
  }

  /** Server-sent events: the status now, then again after each change, coalesced. */
  private void events(HttpExchange x) throws IOException {
    if (!livePages.tryAcquire()) {
      json(x, 503, error("more than " + MAX_LIVE_PAGES + " pages follow the fleet live"));
      return;
    }
    try {
      x.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
      x.sendResponseHeaders(200, 0);
      OutputStream out = x.getResponseBody();
      long seen = -1;
      String last = null;
      while (!closed) {
        long now = snapshot.version();
        if (now != seen) {
          seen = now;
          String data = Json.write(status());
          if (!data.equals(last)) {
            last = data;
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
          }
          Thread.sleep(COALESCE_MS); // a burst of changes (a fleet restarting) is one update
        }
        if (snapshot.awaitChange(seen, KEEPALIVE_MS) == seen) {
          out.write(": keepalive\n\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      livePages.release();
    }
  }

  private void post(HttpExchange x, String path) throws IOException {
    String refusal = crossSite(x);
    if (refusal != null) {
      log.warn("console: refused POST {} from {}: {}", path, x.getRemoteAddress(), refusal);
      json(x, 403, error(refusal));
      return;
    }
    Map<String, Object> body;
    try (InputStream in = x.getRequestBody()) {
      byte[] bytes = in.readNBytes(64 * 1024);
      body = Json.object(new String(bytes, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException bad) {
      json(x, 400, error("the request body is no JSON object: " + bad.getMessage()));
      return;
    }
    List<String> args = new ArrayList<>();
    switch (path) {
      case "/api/disable":
      case "/api/enable":
        args.add(path.substring("/api/".length()));
        args.add(text(body.get("target")));
        break;
      case "/api/primary":
        args.add("primary");
        args.add(text(body.get("group")));
        args.add(text(body.get("primary")));
        break;
      case "/api/recovery":
        args.add("recovery");
        args.add(text(body.get("action")));
        if (body.get("datasource") != null) {
          args.add(text(body.get("datasource")));
        }
        break;
      default:
        json(x, 404, error("no such action: " + path));
        return;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Reply reply =
        new Reply(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            true);
    int exit;
    int status;
    try {
      exit = new Commands(config, paths, args, Set.of("--json"), reply).run(operator);
      status = 200;
    } catch (Failure f) {
      exit = reply.failed(f.exit, f.getMessage());
      status = f.exit == 2 ? 400 : 404; // bad request; no such node
    } catch (Exception e) {
      exit = reply.failed(1, "registry " + registry + " failed: " + SluiceCli.describe(e));
      status = 502;
    }
    log.info(
        "console: {} from {}: {}",
        String.join(" ", args),
        x.getRemoteAddress().getAddress().getHostAddress(),
        exit == 0 ? "done" : err.toString(StandardCharsets.UTF_8).trim());
    send(x, status, "application/json", out.toString(StandardCharsets.UTF_8));
  }

  /**
   * Why a write is not from the console's own page, or {@code null}: it must carry JSON (an HTML
   * form cannot), and a browser's {@code Origin} and {@code Sec-Fetch-Site} must name this origin.
   */
  private static String crossSite(HttpExchange x) {
    String type = x.getRequestHeaders().getFirst("Content-Type");
    if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      return "writes take Content-Type application/json";
    }
    String site = x.getRequestHeaders().getFirst("Sec-Fetch-Site");
    if (site != null && !site.equals("same-origin") && !site.equals("none")) {
      return "a " + site + " request (Sec-Fetch-Site); writes come from the console's own page";
    }
    String origin = x.getRequestHeaders().getFirst("Origin");
    String host = x.getRequestHeaders().getFirst("Host");
    // https: the console behind a reverse proxy that ends TLS, under the same host name
    if (origin != null && !origin.equals("http://" + host) && !origin.equals("https://" + host)) {
      return "origin " + origin + " is not this console's (http://" + host + ")";
    }
    return null;
  }

  private static String text(Object v) {
    return v == null ? "" : v.toString();
  }

  private static Map<String, Object> error(String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", message);
    return m;
  }

  private void asset(HttpExchange x, String name) throws IOException {
    try (InputStream in = Console.class.getResourceAsStream("/dev/sluice/agent/console/" + name)) {
      if (in == null) {
        json(x, 404, error("missing from the jar: " + name));
        return;
      }
      String type =
          name.endsWith(".html")
              ? "text/html"
              : name.endsWith(".js") ? "text/javascript" : "text/css";
      send(x, 200, type, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static void json(HttpExchange x, int status, Object value) throws IOException {
    send(x, status, "application/json", Json.pretty(value) + "\n");
  }

  private static void send(HttpExchange x, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
    boolean head = x.getRequestMethod().equals("HEAD");
    x.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      x.getResponseBody().write(bytes);
    }
  }

  @Override
  public void close() {
    closed = true;
    server.stop(0);
    threads.shutdownNow();
  }
}
