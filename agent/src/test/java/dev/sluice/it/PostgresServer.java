package dev.sluice.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * A real PostgreSQL server for end-to-end tests: Debian's {@code postgresql} binaries on a free
 * port; a Testcontainers container where a Docker engine is present and the binaries are not. With
 * neither, the test fails with a message naming the package to install.
 */
final class PostgresServer implements AutoCloseable {

  static final String PACKAGE_HINT =
      "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin and no Docker engine"
          + " is available: install the Debian package 'postgresql' (apt-get install postgresql)";

  private final String jdbcUrl;
  private final AutoCloseable server;
  private final PostgreSQLContainer<?> container;

  private PostgresServer(String jdbcUrl, AutoCloseable server, PostgreSQLContainer<?> container) {
    this.jdbcUrl = jdbcUrl;
    this.server = server;
    this.container = container;
  }

  static PostgresServer start() throws Exception {
    Path bin = findBinaries();
    if (bin != null) {
      Local local = new Local(bin);
      return new PostgresServer(local.url(), local, null);
    }
    if (NativeServer.dockerAvailable()) {
      PostgreSQLContainer<?> c =
          new PostgreSQLContainer<>("postgres:16-alpine")
              .withUsername("postgres")
              .withPassword("postgres");
      c.start();
      return new PostgresServer(c.getJdbcUrl(), c::stop, c);
    }
    throw new AssertionError(PACKAGE_HINT);
  }

  /** The newest {@code /usr/lib/postgresql/<version>/bin} with a server, or {@code null}. */
  static Path findBinaries() throws IOException {
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
          .max(Comparator.comparing(b -> b.getParent().getFileName().toString()))
          .orElse(null);
    }
  }

  /** Debian's binaries, as the {@code postgres} user. */
  private static final class Local extends NativeServer {
    Local(Path bin) throws Exception {
      super("sluice-pg", "postgres");
      Path data = root.resolve("data");
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
          true);
      startAndAwait(
          List.of(
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
              // Room beyond what the pools hold: in the nothing-lost run, Agroal under Narayana
              // leaves connections open after its failed enlistments (about 170 on MariaDB, past
              // 300 here) once the last cut-off is over, and 300 made the bank's final check fail
              "max_connections=1000"),
          url(),
          "postgres",
          "");
    }

    String url() {
      return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    @Override
    String fastShutdownSignal() {
      return "INT"; // PostgreSQL's "fast" shutdown
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
    server.close();
  }
}
