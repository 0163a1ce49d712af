package dev.sluice.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;

/**
 * A database server from the machine's own packages, started on a free loopback port with a
 * temporary data directory, as its service user when the tests run as root. Subclasses know the
 * commands; this class owns the directory, the process and the wait for readiness.
 */
abstract class NativeServer implements AutoCloseable {

  final Path root;
  final int port = FreePort.next();
  private final String serviceUser;
  private Process process;

  NativeServer(String prefix, String serviceUser) throws Exception {
    this.root = Files.createTempDirectory(prefix);
    this.serviceUser = serviceUser;
    if (asRoot()) {
      run(List.of("chown", "-R", serviceUser + ":" + serviceUser, root.toString()), false);
    }
  }

  static boolean asRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  /** Runs a command to its end, as the service user if asked; fails with its output. */
  void run(List<String> cmd, boolean asServiceUser) throws Exception {
    Process p =
        new ProcessBuilder(asServiceUser ? asService(cmd) : cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  private List<String> asService(List<String> cmd) {
    if (!asRoot()) {
      return cmd;
    }
    List<String> out =
        new ArrayList<>(
            List.of(
                "setpriv",
                "--reuid=" + serviceUser,
                "--regid=" + serviceUser,
                "--init-groups",
                "--"));
    out.addAll(cmd);
    return out;
  }

  private List<String> startedWith;
  private String[] awaitedWith;

  /** Kills the server as {@code kill -9} does (a crash): its port refuses connections. */
  void kill() throws Exception {
    signal("KILL");
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the server did not die of SIGKILL");
    }
  }

  /**
   * Stops the server as {@code kill -STOP} does: a hung server, whose port still accepts TCP
   * connections (the kernel completes them) but which answers nothing.
   */
  void pause() throws Exception {
    signal("STOP");
  }

  /** Lets a paused server run on ({@code kill -CONT}). */
  void resume() throws Exception {
    signal("CONT");
  }

  private void signal(String name) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** Starts the server again, as it was started, on its own port and data; after {@link #kill}. */
  void restart() throws Exception {
    startAndAwait(startedWith, awaitedWith[0], awaitedWith[1], awaitedWith[2]);
  }

  /** Starts the server as the service user and waits until {@code url} accepts a connection. */
  void startAndAwait(List<String> cmd, String url, String user, String password) throws Exception {
    startedWith = cmd;
    awaitedWith = new String[] {url, user, password};
    process =
        new ProcessBuilder(asService(cmd))
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("server.log").toFile())
            .start();
    try {
      Await.until(
          getClass().getSimpleName() + " on port " + port,
          Duration.ofSeconds(90),
          () -> {
            if (!process.isAlive()) {
              throw new AssertionError("the server exited: " + log());
            }
            try (Connection c = DriverManager.getConnection(url, user, password)) {
              return c.isValid(2);
            } catch (Exception e) {
              return false;
            }
          });
    } catch (Throwable t) {
      close();
      throw t;
    }
  }

  String log() {
    try {
      return Files.readString(root.resolve("server.log"));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** The signal that makes the server shut down without waiting for its clients. */
  abstract String fastShutdownSignal();

  @Override
  public void close() throws Exception {
    if (process != null && process.isAlive()) {
      new ProcessBuilder("kill", "-" + fastShutdownSignal(), String.valueOf(process.pid()))
          .start()
          .waitFor();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
