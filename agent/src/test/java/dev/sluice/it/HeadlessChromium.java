package dev.sluice.it;

import dev.sluice.agent.control.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's {@code chromium}, headless, driven over the Chrome DevTools Protocol (a WebSocket, no
 * WebDriver): navigate, evaluate, click with the mouse at an element, answer JavaScript dialogs,
 * take screenshots. One page per browser.
 */
final class HeadlessChromium implements AutoCloseable {

  static final String BINARY = "/usr/bin/chromium";

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<Map<String, Object>>> pending =
      new ConcurrentHashMap<>();

  /** The messages of the JavaScript dialogs the page opened, in order. */
  final List<String> dialogs = new CopyOnWriteArrayList<>();

  private volatile boolean acceptDialogs = true;
  private volatile String promptAnswer = "";

  HeadlessChromium() throws Exception {
    if (!Files.isExecutable(Path.of(BINARY))) {
      throw new IllegalStateException(
          "the console tests need Debian's chromium package (apt-get install chromium)");
    }
    profile = Files.createTempDirectory("sluice-chromium");
    process =
        new ProcessBuilder(
                BINARY,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1400,1000",
                "--user-data-dir=" + profile,
                "about:blank")
            .redirectErrorStream(true)
            .start();
    String browserSocket = devToolsAddress();
    int port = URI.create(browserSocket).getPort();
    HttpClient http = HttpClient.newHttpClient();
    String pageSocket =
        Await.until(
            "chromium's first page",
            Duration.ofSeconds(10),
            () -> {
              try {
                String list =
                    http.send(
                            HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + port + "/json/list"))
                                .build(),
                            HttpResponse.BodyHandlers.ofString())
                        .body();
                for (Object target : (List<?>) Json.parse(list)) {
                  Map<?, ?> t = (Map<?, ?>) target;
                  if ("page".equals(t.get("type"))) {
                    return (String) t.get("webSocketDebuggerUrl");
                  }
                }
                return null;
              } catch (Exception e) {
                return null;
              }
            },
            s -> s != null);
    socket =
        http.newWebSocketBuilder()
            .buildAsync(URI.create(pageSocket), new Listener())
            .get(10, TimeUnit.SECONDS);
    call("Page.enable", Map.of());
    call("Runtime.enable", Map.of());
    call("Network.enable", Map.of());
  }

  private String devToolsAddress() throws IOException {
    BufferedReader lines =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    Pattern listening = Pattern.compile("DevTools listening on (ws://\\S+)");
    List<String> seen = new ArrayList<>();
    for (String line; (line = lines.readLine()) != null; ) {
      Matcher m = listening.matcher(line);
      if (m.find()) {
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (lines.readLine() != null) {
                      // chromium's own chatter
                    }
                  } catch (IOException ended) {
                    // the browser is gone
                  }
                },
                "chromium-output");
        drain.setDaemon(true);
        drain.start();
        return m.group(1);
      }
      seen.add(line);
    }
    throw new IllegalStateException("chromium did not start: " + String.join("\n", seen));
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        String message = text.toString();
        text.setLength(0);
        received(Json.object(message));
      }
      ws.request(1);
      return null;
    }
  }

  @SuppressWarnings("unchecked")
  private void received(Map<String, Object> message) {
    Object id = message.get("id");
    if (id != null) {
      CompletableFuture<Map<String, Object>> f = pending.remove(((Long) id).intValue());
      if (f != null) {
        if (message.containsKey("error")) {
          f.completeExceptionally(new IllegalStateException("CDP error: " + message.get("error")));
        } else {
          f.complete((Map<String, Object>) message.get("result"));
        }
      }
      return;
    }
    if ("Page.javascriptDialogOpening".equals(message.get("method"))) {
      Map<String, Object> params = (Map<String, Object>) message.get("params");
      dialogs.add(String.valueOf(params.get("message")));
      Map<String, Object> answer = new LinkedHashMap<>();
      answer.put("accept", acceptDialogs);
      if ("prompt".equals(params.get("type"))) {
        answer.put("promptText", promptAnswer);
      }
      send("Page.handleJavaScriptDialog", answer); // not awaited: this is the socket's thread
    }
  }

  private CompletableFuture<Map<String, Object>> send(String method, Map<String, Object> params) {
    int id = ids.incrementAndGet();
    CompletableFuture<Map<String, Object>> f = new CompletableFuture<>();
    pending.put(id, f);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("method", method);
    m.put("params", params);
    synchronized (socket) {
      socket.sendText(Json.write(m), true).join();
    }
    return f;
  }

  Map<String, Object> call(String method, Map<String, Object> params) throws Exception {
    return send(method, params).get(30, TimeUnit.SECONDS);
  }

  /** Sends these headers with every request of the page (HTTP basic authentication, say). */
  void headers(Map<String, Object> headers) throws Exception {
    call("Network.setExtraHTTPHeaders", Map.of("headers", headers));
  }

  static String basic(String userPassword) {
    return "Basic "
        + Base64.getEncoder().encodeToString(userPassword.getBytes(StandardCharsets.UTF_8));
  }

  void navigate(String url) throws Exception {
    call("Page.navigate", Map.of("url", url));
  }

  /** Whether JavaScript dialogs are accepted, and what a prompt is answered. */
  void dialogs(boolean accept, String promptAnswer) {
    this.acceptDialogs = accept;
    this.promptAnswer = promptAnswer;
  }

  /** The value of a JavaScript expression (awaited if it is a promise). */
  Object eval(String expression) throws Exception {
    Map<String, Object> r =
        call(
            "Runtime.evaluate",
            Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
    if (r.containsKey("exceptionDetails")) {
      throw new IllegalStateException(expression + " threw " + r.get("exceptionDetails"));
    }
    return ((Map<?, ?>) r.get("result")).get("value");
  }

  /** Waits until {@code expression} is true in the page. */
  void await(String what, Duration timeout, String expression) {
    Await.until(
        what,
        timeout,
        () -> {
          try {
            return Boolean.TRUE.equals(eval(expression));
          } catch (Exception e) {
            return false;
          }
        });
  }

  /** Clicks with the mouse at the middle of the element {@code selector} finds. */
  void click(String selector) throws Exception {
    Object box =
        eval(
            "(() => { const e = document.querySelector("
                + Json.quote(selector)
                + "); if (!e) return null; e.scrollIntoView({block: 'center'});"
                + " const r = e.getBoundingClientRect();"
                + " return [r.left + r.width / 2, r.top + r.height / 2]; })()");
    if (box == null) {
      throw new IllegalStateException("nothing on the page matches " + selector);
    }
    List<?> xy = (List<?>) box;
    double x = ((Number) xy.get(0)).doubleValue();
    double y = ((Number) xy.get(1)).doubleValue();
    for (String type : new String[] {"mousePressed", "mouseReleased"}) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("type", type);
      e.put("x", x);
      e.put("y", y);
      e.put("button", "left");
      e.put("clickCount", 1);
      // a click that opens a confirm() dialog returns only once the dialog is answered
      send("Input.dispatchMouseEvent", e).get(30, TimeUnit.SECONDS);
    }
  }

  /** Saves a PNG of the page. */
  void screenshot(Path file) throws Exception {
    Map<String, Object> r = call("Page.captureScreenshot", Map.of("format", "png"));
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode((String) r.get("data")));
  }

  @Override
  public void close() throws Exception {
    try {
      socket.abort();
    } catch (RuntimeException ignored) {
      // the browser goes anyway
    }
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (var files = Files.walk(profile)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
