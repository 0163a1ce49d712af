package dev.sluice.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * One of the unmodified test applications, started as a separate JVM with {@code -javaagent} and
 * driven through its command line protocol (see the test apps' {@code CommandLoop}).
 */
final class AppProcess implements AutoCloseable {

  /** A parsed {@code REPLY} line. */
  static final class Reply {
    final boolean ok;
    final long ms;
    final String text;

    Reply(String line) {
      String[] parts = line.split(" ", 3);
      ok = parts[0].equals("OK");
      ms = Long.parseLong(parts[1]);
      text = parts.length > 2 ? parts[2] : "";
    }

    /** For an error: the exception class. */
    String exception() {
      return text.split(" ", 2)[0];
    }

    /** For an error: the SQLState, or {@code -}. */
    String sqlState() {
      String[] parts = text.split(" ", 3);
      return parts.length > 1 ? parts[1] : "";
    }

    @Override
    public String toString() {
      return (ok ? "OK " : "ERR ") + ms + " ms " + text;
    }
  }

  static final class Builder {
    private final String app;
    private final String mainClass;
    private String agentArgs;
    private boolean withAgent = true;
    private final Map<String, String> sysProps = new LinkedHashMap<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmArgs = new ArrayList<>();
    private final List<String> before = new ArrayList<>();
    private boolean jmx;

    private Builder(String app, String mainClass) {
      this.app = app;
      this.mainClass = mainClass;
    }

    Builder agentArgs(String agentArgs) {
      this.agentArgs = agentArgs;
      return this;
    }

    Builder withoutAgent() {
      this.withAgent = false;
      return this;
    }

    Builder sysProp(String key, String value) {
      sysProps.put(key, value);
      return this;
    }

    Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    Builder jvmArg(String arg) {
      jvmArgs.add(arg);
      return this;
    }

    /** A JVM argument placed before Sluice's {@code -javaagent}, e.g. another agent first. */
    Builder jvmArgBeforeSluice(String arg) {
      before.add(arg);
      return this;
    }

    Builder args(String... more) {
      args.addAll(List.of(more));
      return this;
    }

    Builder jmx() {
      this.jmx = true;
      return this;
    }

    AppProcess start() throws Exception {
      return new AppProcess(this);
    }
  }

  /**
   * {@code java -jar sluice-agent.jar controller <settings>}: no application, no command loop; the
   * process is started and not waited for.
   */
  static Builder controller(String... settings) {
    Builder b = new Builder(null, null).withoutAgent().args("controller").args(settings);
    // several controllers on one machine: each console on a port of its own, unless one is named
    return java.util.Arrays.stream(settings).anyMatch(s -> s.startsWith("console.bind="))
        ? b
        : b.args("console.bind=127.0.0.1:0");
  }

  /** {@code java -jar sluice-agent.jar console <settings>}, started and not waited for. */
  static Builder console(String... settings) {
    return new Builder(null, null).withoutAgent().args("console").args(settings);
  }

  static Builder jdbcApp(String... args) {
    return new Builder("jdbc-app", "dev.sluice.testapp.jdbc.JdbcApp").args(args);
  }

  /** A HikariCP pool that waits up to 10 s for a connection. */
  static Builder hikariApp(String... args) {
    return poolApp("hikari", args);
  }

  /** {@code pool} is {@code hikari}, {@code dbcp2}, {@code tomcat} or {@code c3p0}. */
  static Builder poolApp(String pool, String... args) {
    Builder b = new Builder("pool-app", "dev.sluice.testapp.pool.PoolApp").args(pool);
    return b.args(args);
  }

  /** The Spring Boot fat jar, run with {@code java -jar}; its data source URL as an argument. */
  static Builder springBootApp(String jdbcUrl) {
    return new Builder("spring-boot-app", null).args("--spring.datasource.url=" + jdbcUrl);
  }

  /** Tomcat serving servlet-webapp, whose servlet connects to {@code jdbcUrl}. */
  static Builder servletApp(String jdbcUrl) {
    String webapp = testAppsDir().resolve("servlet-webapp/target/servlet-webapp").toString();
    return new Builder("servlet-app", "dev.sluice.testapp.servlet.ServletApp")
        .args(webapp, jdbcUrl);
  }

  static Builder bundledLibsApp() {
    return new Builder("bundled-libs-app", "dev.sluice.testapp.bundled.BundledLibsApp");
  }

  static Path agentJar() {
    return Paths.get(System.getProperty("sluice.agent.jar", "target/sluice-agent.jar"))
        .toAbsolutePath();
  }

  static Path testAppsDir() {
    return Paths.get(System.getProperty("sluice.test-apps.dir", "../test-apps")).toAbsolutePath();
  }

  /** The java executable the apps run on: {@code sluice.it.java}, else this JVM's. */
  static String java() {
    String configured = System.getProperty("sluice.it.java");
    if (configured != null && !configured.isEmpty()) {
      return configured;
    }
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
  private final StringBuffer output = new StringBuffer();
  private final int jmxPort;
  private JMXConnector jmxConnector;

  private AppProcess(Builder b) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    cmd.addAll(b.before);
    if (b.withAgent) {
      cmd.add("-javaagent:" + agentJar() + (b.agentArgs == null ? "" : "=" + b.agentArgs));
    }
    cmd.addAll(b.jvmArgs);
    b.sysProps.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
    jmxPort = b.jmx ? FreePort.next() : -1;
    if (b.jmx) {
      cmd.add("-Dcom.sun.management.jmxremote.port=" + jmxPort);
      cmd.add("-Dcom.sun.management.jmxremote.rmi.port=" + jmxPort);
      cmd.add("-Dcom.sun.management.jmxremote.host=127.0.0.1");
      cmd.add("-Djava.rmi.server.hostname=127.0.0.1");
      cmd.add("-Dcom.sun.management.jmxremote.authenticate=false");
      cmd.add("-Dcom.sun.management.jmxremote.ssl=false");
    }
    Path appDir = b.app == null ? null : testAppsDir().resolve(b.app).resolve("target");
    if (appDir == null) {
      cmd.add("-jar"); // the agent jar itself: the operator tools
      cmd.add(agentJar().toString());
    } else if (!Files.exists(appDir.resolve(b.app + ".jar"))) {
      throw new IllegalStateException("test app not built: " + appDir.resolve(b.app + ".jar"));
    } else if (b.mainClass == null) {
      cmd.add("-jar"); // a self-contained (fat) jar with its own launcher
      cmd.add(appDir.resolve(b.app + ".jar").toString());
    } else {
      cmd.add("-cp");
      cmd.add(
          appDir.resolve(b.app + ".jar")
              + java.io.File.pathSeparator
              + appDir.resolve("lib")
              + "/*");
      cmd.add(b.mainClass);
    }
    cmd.addAll(b.args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    // The app must not inherit Sluice settings from the test JVM's environment.
    pb.environment().keySet().removeIf(k -> k.startsWith("SLUICE_"));
    pb.environment().putAll(b.env);
    process = pb.start();
    stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    pump(process.getInputStream(), true);
    pump(process.getErrorStream(), false);
    if (appDir == null) {
      return;
    }
    Reply ready = awaitReply(60);
    if (!ready.text.isEmpty() || ready.ms != 0) {
      throw new IllegalStateException("unexpected first reply " + ready);
    }
  }

  private void pump(InputStream in, boolean stdout) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  output.append(stdout ? "out| " : "err| ").append(line).append('\n');
                  if (stdout && line.startsWith("REPLY ")) {
                    replies.add(line.substring("REPLY ".length()));
                  }
                }
              } catch (IOException e) {
                // process gone
              }
            },
            "app-" + (stdout ? "stdout" : "stderr"));
    t.setDaemon(true);
    t.start();
  }

  private Reply awaitReply(long seconds) throws InterruptedException {
    String line = replies.poll(seconds, TimeUnit.SECONDS);
    if (line == null) {
      throw new AssertionError(
          "no reply from the app within " + seconds + " s; output:\n" + output);
    }
    if (line.equals("READY") || line.equals("BYE")) {
      return new Reply("OK 0");
    }
    return new Reply(line);
  }

  /** Sends one command and waits for its reply. */
  Reply send(String command) throws Exception {
    return send(command, 60);
  }

  Reply send(String command, long timeoutSeconds) throws Exception {
    write(command);
    return awaitReply(timeoutSeconds);
  }

  /**
   * Opens connections named {@code prefix1, prefix2, ...} ({@code <open> <name><suffix>}) until one
   * answers {@code query} with {@code expected}, closing the others; the name of that one. Fails
   * after {@code timeout}, with the application's output.
   */
  String awaitLanding(
      String open, String suffix, String prefix, String query, String expected, Duration timeout) {
    int[] n = {0};
    try {
      return Await.until(
              "a connect that lands on " + expected + " (" + query + ")",
              timeout,
              () -> {
                String name = prefix + (++n[0]);
                try {
                  Reply opened = send(open + " " + name + suffix);
                  if (!opened.ok) {
                    return opened.toString();
                  }
                  Reply on = send("query " + name + " " + query);
                  if (!on.ok || !on.text.equals(expected)) {
                    send("close " + name);
                  }
                  return name + "=" + (on.ok ? on.text : on.toString());
                } catch (Exception e) {
                  return e.toString();
                }
              },
              landed -> landed.endsWith("=" + expected))
          .split("=")[0];
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nthe application's output:\n" + output(), e);
    }
  }

  /** Sends a command without waiting; take its reply with {@link #reply}. */
  void write(String command) throws IOException {
    stdin.write(command + "\n");
    stdin.flush();
  }

  Reply reply(long timeoutSeconds) throws InterruptedException {
    return awaitReply(timeoutSeconds);
  }

  long pid() {
    return process.pid();
  }

  /** Everything the app printed so far, stdout and stderr, each line tagged. */
  String output() {
    return output.toString();
  }

  /** Lines the agent logged (prefixed {@code [sluice]}). */
  List<String> agentLog() {
    List<String> lines = new ArrayList<>();
    for (String line : output().split("\n")) {
      if (line.contains("[sluice]")) {
        lines.add(line);
      }
    }
    return lines;
  }

  /** Asks the app to leave {@code main} and waits for the JVM to exit; returns its exit code. */
  int exit() throws Exception {
    write("exit");
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("the app did not exit within 60 s after main returned:\n" + output);
    }
    return process.exitValue();
  }

  /** Kills the JVM as {@code kill -9} does: no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the app survived SIGKILL for 30 s");
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** A remote JMX connection to the app, as JConsole makes one. */
  MBeanServerConnection jmx() throws Exception {
    if (jmxConnector == null) {
      JMXServiceURL url =
          new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi");
      jmxConnector = JMXConnectorFactory.connect(url);
    }
    return jmxConnector.getMBeanServerConnection();
  }

  @Override
  public void close() throws Exception {
    if (jmxConnector != null) {
      try {
        jmxConnector.close();
      } catch (IOException ignored) {
        // the app may be gone
      }
    }
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
