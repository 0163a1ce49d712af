package dev.sluice.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * A real PostgreSQL server for end-to-end tests: Debian's {@code postgresql} binaries started on a
 * free loopback port with a temporary data directory (as the {@code postgres} user when the tests
 * run as root); a Testcontainers container where a Docker engine is present and the binaries are
 * not. With neither, the test fails with a message naming the package to install.
 */
final class PostgresServer implements AutoCloseable {

  static final String PACKAGE_HINT =
      "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin and no Docker engine"
          + " is available: install the Debian package 'postgresql' (apt-get install postgresql)";

  private final String jdbcUrl;
  private final Process process;
  private final Path dataRoot;
  private final PostgreSQLContainer<?> container;

  private PostgresServer(
      String jdbcUrl, Process process, Path dataRoot, PostgreSQLContainer<?> container) {
    this.jdbcUrl = jdbcUrl;
    this.process = process;
    this.dataRoot = dataRoot;
    this.container = container;
  }

  static PostgresServer start() throws Exception {
    Path bin = findBinaries();
    if (bin != null) {
      return startLocal(bin);
    }
    if (dockerAvailable()) {
      PostgreSQLContainer<?> c =
          new PostgreSQLContainer<>("postgres:16-alpine")
              .withUsername("postgres")
              .withPassword("postgres");
      c.start();
      return new PostgresServer(c.getJdbcUrl(), null, null, c);
    }
    throw new AssertionError(PACKAGE_HINT);
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  private static Path findBinaries() throws IOException {
    Path root = Paths.get("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return null;
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(
              b ->
                  Files.isExecutable(b.resolve("postgres"))
                      && Files.isExecutable(b.resolve("initdb")))
          .max(
              Comparator.comparing(
                  b ->
                      Integer.parseInt(
                          b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
          .orElse(null);
    }
  }

  private static PostgresServer startLocal(Path bin) throws Exception {
    Path root = Files.createTempDirectory("sluice-pg");
    Path data = root.resolve("data");
    int port = FreePort.next();
    boolean asRoot = "root".equals(System.getProperty("user.name"));
    if (asRoot) {
      run(List.of("chown", "-R", "postgres:postgres", root.toString()), false);
    }
    run(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.toString(),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync"),
        asRoot);
    List<String> cmd =
        new ArrayList<>(
            Arrays.asList(
                bin.resolve("postgres").toString(),
                "-D",
                data.toString(),
                "-p",
                String.valueOf(port),
                "-k",
                root.toString(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300"));
    Process p =
        new ProcessBuilder(asPostgres(cmd, asRoot))
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("server.log").toFile())
            .start();
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    PostgresServer server = new PostgresServer(url, p, root, null);
    try {
      Await.until(
          "PostgreSQL on port " + port + " (log: " + root.resolve("server.log") + ")",
          Duration.ofSeconds(60),
          () -> {
            if (!p.isAlive()) {
              throw new AssertionError("PostgreSQL exited: " + readLog(root));
            }
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
              return c.isValid(2);
            } catch (Exception e) {
              return false;
            }
          });
    } catch (Throwable t) {
      server.close();
      throw t;
    }
    return server;
  }

  private static String readLog(Path root) {
    try {
      return Files.readString(root.resolve("server.log"));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static List<String> asPostgres(List<String> cmd, boolean asRoot) {
    if (!asRoot) {
      return cmd;
    }
    List<String> out =
        new ArrayList<>(
            List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
    out.addAll(cmd);
    return out;
  }

  private static void run(List<String> cmd, boolean asPostgresUser) throws Exception {
    Process p =
        new ProcessBuilder(asPostgres(cmd, asPostgresUser)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  String jdbcUrl() {
    return jdbcUrl;
  }

  String user() {
    return container != null ? container.getUsername() : "postgres";
  }

  String password() {
    return container != null ? container.getPassword() : "";
  }

  @Override
  public void close() throws Exception {
    if (container != null) {
      container.stop();
      return;
    }
    if (process.isAlive()) {
      // SIGINT is PostgreSQL's "fast" shutdown: it disconnects clients instead of waiting.
      new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
    try (Stream<Path> files = Files.walk(dataRoot)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
