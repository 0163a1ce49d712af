package dev.sluice.it;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Patroni cluster of two PostgreSQL members, {@code pg0} and {@code pg1}, on ZooKeeper or
 * etcd (v3 API): Debian's {@code patroni} and {@code postgresql} packages, each member with its own
 * directory under one temporary directory and free ports for PostgreSQL and for Patroni's REST API.
 * As root, Patroni (and so PostgreSQL) runs as the {@code postgres} user, as {@link PostgresServer}
 * does. Patroni keeps its state under {@code /service/<scope>/} in the registry: {@code leader}
 * holds the leader's member name, {@code members/<name>} a JSON object with {@code conn_url}
 * ({@code postgres://host:port/postgres}), {@code role} and {@code state}.
 *
 * <p>Timings are small for fast tests: ttl 10 s, loop_wait 1 s, retry_timeout 5 s. Every process
 * the cluster started (Patroni, and the PostgreSQL servers it detaches from itself) is killed by
 * {@link #close()}, or by a JVM shutdown hook if the test never gets there.
 */
public final class PatroniCluster implements AutoCloseable {

  static final Path PATRONI = Paths.get("/usr/bin/patroni");
  static final Path PATRONICTL = Paths.get("/usr/bin/patronictl");
  private static final String PYTHON = "/usr/bin/python3";

  static final String PACKAGE_HINT =
      "Patroni not found (/usr/bin/patroni, /usr/bin/patronictl): install the Debian package"
          + " 'patroni' (apt-get install --no-install-recommends patroni)";
  static final String KAZOO_HINT =
      "Patroni on ZooKeeper needs the Python module kazoo: install the Debian package"
          + " 'python3-kazoo' (apt-get install --no-install-recommends python3-kazoo)";

  static final String ETCD_HINT =
      "Patroni on etcd needs the Python module etcd: install the Debian package 'python3-etcd'"
          + " (apt-get install --no-install-recommends python3-etcd; Patroni's package depends on"
          + " it or on python3-kazoo, so with kazoo installed it is left out)";

  static final String NAMESPACE = "/service";
  public static final int TTL_SECONDS = 10;
  static final int LOOP_WAIT_SECONDS = 1;
  static final int RETRY_TIMEOUT_SECONDS = 5;
  public static final String SUPERUSER = "postgres";
  public static final String SUPERUSER_PASSWORD = "postgres-secret";
  static final List<String> PRIMARY_ROLES = List.of("master", "primary");

  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private final String scope = "sluice-" + UUID.randomUUID().toString().substring(0, 8);
  private final String dcsSection;
  private final Path bin;
  private final Path root;
  private final Map<String, Member> members = new LinkedHashMap<>();
  private final Thread shutdownHook = new Thread(this::killAll, "PatroniCluster shutdown");

  private final class Member {
    final String name;
    final int pgPort = FreePort.next();
    final int apiPort = FreePort.next();
    final Path dir;
    Process process;

    Member(String name) {
      this.name = name;
      this.dir = root.resolve(name);
    }

    Path yaml() {
      return dir.resolve("patroni.yml");
    }

    Path data() {
      return dir.resolve("data");
    }

    Path log() {
      return dir.resolve("patroni.log");
    }
  }

  private PatroniCluster(String dcsSection, boolean zookeeper) throws Exception {
    if (!Files.isExecutable(PATRONI) || !Files.isExecutable(PATRONICTL)) {
      throw new AssertionError(PACKAGE_HINT);
    }
    bin = PostgresServer.findBinaries();
    if (bin == null) {
      throw new AssertionError(
          "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install the"
              + " Debian package 'postgresql' (apt-get install postgresql)");
    }
    if (zookeeper && run(List.of(PYTHON, "-c", "import kazoo"), Duration.ofSeconds(30)).code != 0) {
      throw new AssertionError(KAZOO_HINT);
    }
    if (!zookeeper && run(List.of(PYTHON, "-c", "import etcd"), Duration.ofSeconds(30)).code != 0) {
      throw new AssertionError(ETCD_HINT);
    }
    this.dcsSection = dcsSection;
    this.root = Files.createTempDirectory("sluice-patroni");
    for (String name : List.of("pg0", "pg1")) {
      members.put(name, new Member(name));
    }
  }

  /** A cluster (not started) on the ZooKeeper at {@code connectString} ({@code host:port,...}). */
  public static PatroniCluster onZooKeeper(String connectString) throws Exception {
    return new PatroniCluster("zookeeper:\n  hosts: " + yamlList(connectString) + "\n", true);
  }

  /** A cluster (not started) on the etcd at {@code endpoints} ({@code host:port,...}), v3 API. */
  public static PatroniCluster onEtcd(String endpoints) throws Exception {
    return new PatroniCluster("etcd3:\n  hosts: " + yamlList(endpoints) + "\n", false);
  }

  private static String yamlList(String commaSeparated) {
    return Stream.of(commaSeparated.split(","))
        .map(h -> "'" + h.trim() + "'")
        .collect(Collectors.joining(", ", "[", "]"));
  }

  public String scope() {
    return scope;
  }

  /** {@code /service/<scope>}: where Patroni keeps this cluster's keys. */
  public String registryPrefix() {
    return NAMESPACE + "/" + scope;
  }

  public List<String> memberNames() {
    return List.copyOf(members.keySet());
  }

  /**
   * Starts {@code pg0}, waits until it leads, then starts {@code pg1} and waits until it streams
   * from {@code pg0}.
   */
  public PatroniCluster start() throws Exception {
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      for (Member m : members.values()) {
        Files.createDirectories(m.dir);
        Files.writeString(m.yaml(), yaml(m));
      }
      if (NativeServer.asRoot()) {
        checked(List.of("chown", "-R", "postgres:postgres", root.toString()));
      }
      Member first = members.get("pg0");
      launch(first);
      Await.until(
          "pg0 leading (" + first.log() + ")",
          START_TIMEOUT,
          () -> {
            assertRunning(first);
            return status(first, "leader") == 200;
          });
      Member second = members.get("pg1");
      launch(second);
      Await.until(
          "pg1 streaming from pg0 (" + second.log() + ")",
          START_TIMEOUT,
          () -> {
            assertRunning(first);
            assertRunning(second);
            return "streaming".equals(replicationState(first, second.name));
          });
      return this;
    } catch (Throwable t) {
      String logs = logs();
      close();
      if (t instanceof AssertionError) {
        throw new AssertionError(t.getMessage() + "\n" + logs, t);
      }
      throw t;
    }
  }

  private String yaml(Member m) {
    String hba = "md5"; // accepts the SCRAM passwords PostgreSQL 15 stores
    return String.join(
        "\n",
        "scope: " + scope,
        "namespace: " + NAMESPACE,
        "name: " + m.name,
        "log:",
        "  level: INFO",
        "restapi:",
        "  listen: 127.0.0.1:" + m.apiPort,
        "  connect_address: 127.0.0.1:" + m.apiPort,
        dcsSection,
        "watchdog:",
        "  mode: 'off'",
        "bootstrap:",
        "  dcs:",
        "    ttl: " + TTL_SECONDS,
        "    loop_wait: " + LOOP_WAIT_SECONDS,
        "    retry_timeout: " + RETRY_TIMEOUT_SECONDS,
        "    maximum_lag_on_failover: 1048576",
        "    postgresql:",
        "      use_pg_rewind: false",
        "      use_slots: true",
        "      parameters:",
        "        max_connections: 50",
        "        shared_buffers: 16MB",
        "        fsync: 'off'",
        "        full_page_writes: 'off'",
        "        synchronous_commit: 'off'",
        "  initdb:",
        "  - encoding: UTF8",
        "  - no-sync",
        "  pg_hba:",
        "  - host replication replicator 127.0.0.1/32 " + hba,
        "  - host all all 127.0.0.1/32 " + hba,
        "postgresql:",
        "  listen: 127.0.0.1:" + m.pgPort,
        "  connect_address: 127.0.0.1:" + m.pgPort,
        "  data_dir: " + m.data(),
        "  bin_dir: " + bin,
        "  pgpass: " + m.dir.resolve("pgpass"),
        "  remove_data_directory_on_diverged_timelines: true",
        "  use_unix_socket: false",
        "  authentication:",
        "    superuser:",
        "      username: " + SUPERUSER,
        "      password: " + SUPERUSER_PASSWORD,
        "    replication:",
        "      username: replicator",
        "      password: replicator-secret",
        "  parameters:",
        "    unix_socket_directories: '" + m.dir + "'",
        "");
  }

  private void launch(Member m) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (NativeServer.asRoot()) {
      cmd.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
    }
    cmd.addAll(List.of(PATRONI.toString(), m.yaml().toString()));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(m.dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(m.log().toFile()));
    pb.environment().put("HOME", m.dir.toString());
    pb.environment().remove("PYTHONPATH");
    pb.environment().remove("PYTHONHOME");
    m.process = pb.start();
  }

  private void assertRunning(Member m) {
    if (m.process == null || !m.process.isAlive()) {
      throw new AssertionError("Patroni " + m.name + " exited:\n" + log(m.name));
    }
  }

  /** The HTTP status of Patroni's REST API {@code GET /<path>} on the member, or -1. */
  private static int status(Member m, String path) {
    try {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.apiPort + "/" + path))
              .timeout(Duration.ofSeconds(2))
              .build();
      return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** {@code pg_stat_replication.state} of {@code replica} on {@code primary}, or {@code null}. */
  private String replicationState(Member primary, String replica) {
    try (Connection c = connect(primary.name);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT state FROM pg_stat_replication WHERE application_name = ?")) {
      ps.setString(1, replica);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      return null;
    }
  }

  /**
   * The member whose Patroni says it runs the primary (REST API {@code GET /leader} answers 200);
   * fails unless exactly one does.
   */
  public String leader() {
    List<String> leaders =
        members.values().stream()
            .filter(m -> m.process != null && m.process.isAlive())
            .filter(m -> status(m, "leader") == 200)
            .map(m -> m.name)
            .collect(Collectors.toList());
    if (leaders.size() != 1) {
      throw new IllegalStateException("not exactly one leader: " + leaders);
    }
    return leaders.get(0);
  }

  /**
   * Waits until exactly one member leads and every other member still running streams from it (as
   * after a switchover, once the old leader has rejoined as a replica).
   */
  public void awaitHealthy() {
    Await.until(
        "one leader, and every other running member streaming from it",
        START_TIMEOUT,
        () -> {
          Member leader = get(leader());
          for (Member m : members.values()) {
            if (m != leader
                && m.process != null
                && !"streaming".equals(replicationState(leader, m.name))) {
              return false;
            }
          }
          return true;
        });
  }

  /** The member's PostgreSQL address, {@code 127.0.0.1:port}. */
  public String member(String name) {
    return "127.0.0.1:" + get(name).pgPort;
  }

  /** The member's Patroni REST API, {@code http://127.0.0.1:port}. */
  public String apiUrl(String name) {
    return "http://127.0.0.1:" + get(name).apiPort;
  }

  /** {@code jdbc:postgresql://127.0.0.1:port/postgres}; user {@link #SUPERUSER}. */
  public String jdbcUrl(String name) {
    return "jdbc:postgresql://" + member(name) + "/postgres";
  }

  /** A connection to the member as the superuser, failing fast when it is down. */
  public Connection connect(String name) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", SUPERUSER);
    p.setProperty("password", SUPERUSER_PASSWORD);
    p.setProperty("connectTimeout", "3");
    p.setProperty("socketTimeout", "10");
    return DriverManager.getConnection(jdbcUrl(name), p);
  }

  private Member get(String name) {
    Member m = members.get(name);
    if (m == null) {
      throw new IllegalArgumentException("no member " + name + " in " + members.keySet());
    }
    return m;
  }

  /**
   * A planned switchover from the current leader to {@code to}, as an operator does it: {@code
   * patronictl -c <yaml> switchover --leader <leader> --candidate <to> --force}. Returns when
   * patronictl does (after the candidate has taken the leader lock).
   */
  public void switchover(String to) throws Exception {
    String from = leader();
    Result r =
        run(
            List.of(
                PATRONICTL.toString(),
                "-c",
                get(to).yaml().toString(),
                "switchover",
                "--leader",
                from,
                "--candidate",
                to,
                "--force"),
            Duration.ofSeconds(90));
    if (r.code != 0 || !r.output.contains("Successfully switched over")) {
      throw new AssertionError(
          "patronictl switchover " + from + " -> " + to + " failed (" + r.code + "):\n" + r.output);
    }
  }

  /**
   * Kills the leader's Patroni and PostgreSQL at once (SIGKILL, every process of the member), as a
   * crashed machine leaves them; returns its name. Its registry keys stay until they expire.
   */
  public String crashLeader() {
    String name = leader();
    kill(get(name));
    return name;
  }

  /**
   * Starts a crashed member's Patroni again and waits until it streams from the leader. Its data
   * directory may hold WAL the new leader never received; Patroni then copies it afresh from the
   * leader ({@code remove_data_directory_on_diverged_timelines}).
   */
  public void restart(String name) throws Exception {
    Member m = get(name);
    if (m.process != null) {
      throw new IllegalStateException(name + " is running");
    }
    launch(m);
    try {
      awaitHealthy();
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n" + logs(), e);
    }
  }

  /** Patroni's output for the member (PostgreSQL's log included). */
  public String log(String name) {
    try {
      return Files.readString(get(name).log());
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private String logs() {
    StringBuilder out = new StringBuilder();
    for (String name : members.keySet()) {
      String log = log(name);
      out.append("--- ")
          .append(name)
          .append(" ---\n")
          .append(log.length() > 6000 ? log.substring(log.length() - 6000) : log);
    }
    return out.toString();
  }

  /** Every process of the member: its Patroni, and whatever names its directory, with children. */
  private void kill(Member m) {
    Set<ProcessHandle> victims = new LinkedHashSet<>();
    if (m.process != null) {
      victims.add(m.process.toHandle());
    }
    String marker = m.dir + File.separator;
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
        .forEach(victims::add);
    for (ProcessHandle p : List.copyOf(victims)) {
      p.descendants().forEach(victims::add);
    }
    victims.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (ProcessHandle p : victims) {
      try {
        p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        // gone, or a zombie until its new parent reaps it: nothing of it runs any more
      }
    }
    if (m.process != null) {
      try {
        m.process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    m.process = null;
    removeSharedMemory(m);
  }

  /**
   * A killed postmaster leaves its System V shared memory segment behind; {@code postmaster.pid}
   * names it (line 7: key and id).
   */
  private static void removeSharedMemory(Member m) {
    Path pidFile = m.data().resolve("postmaster.pid");
    try {
      List<String> lines = Files.readAllLines(pidFile);
      if (lines.size() < 7
          || ProcessHandle.of(Long.parseLong(lines.get(0).trim()))
              .map(ProcessHandle::isAlive)
              .orElse(false)) {
        return;
      }
      String[] keyAndId = lines.get(6).trim().split("\\s+");
      if (keyAndId.length == 2) {
        run(List.of("ipcrm", "-m", keyAndId[1]), Duration.ofSeconds(10));
      }
    } catch (Exception e) {
      // no pid file (a clean stop removed it), or nothing to remove
    }
  }

  private void killAll() {
    for (Member m : members.values()) {
      kill(m);
    }
  }

  @Override
  public void close() throws Exception {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // shutting down already, or never started
    }
    killAll();
    if (Files.exists(root)) {
      try (Stream<Path> files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  private static final class Result {
    final int code;
    final String output;

    Result(int code, String output) {
      this.code = code;
      this.output = output;
    }
  }

  /** Runs a command to its end (or kills it after {@code timeout}); its exit code and output. */
  private static Result run(List<String> cmd, Duration timeout) throws Exception {
    Path out = Files.createTempFile("sluice-patroni-cmd", ".out");
    try {
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      boolean ended = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!ended) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      String output = Files.readString(out);
      return ended ? new Result(p.exitValue(), output) : new Result(-1, output + "\n(timed out)");
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static void checked(List<String> cmd) throws Exception {
    Result r = run(cmd, Duration.ofSeconds(60));
    if (r.code != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.output);
    }
  }
}
