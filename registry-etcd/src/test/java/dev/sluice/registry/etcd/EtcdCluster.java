package dev.sluice.registry.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.FixedHostPortGenericContainer;
import org.testcontainers.containers.GenericContainer;

/**
 * Real etcd for tests: the {@code etcd} binary of Debian's {@code etcd-server} package, one or more
 * members on free loopback ports, each with a temporary data directory; with TLS on the client port
 * when asked (a certificate made by {@code openssl}), and with authentication when asked. Where the
 * binary is missing and a Docker engine is present, a single plain member runs in a container
 * instead; otherwise starting fails with a message naming the package to install.
 */
public final class EtcdCluster implements AutoCloseable {

  public static final String BINARY = "/usr/bin/etcd";
  private static final String IMAGE = "quay.io/coreos/etcd:v3.5.17";

  /** The root account the fixture creates when authentication is on. */
  public static final String ROOT_USER = "root";

  public static final String ROOT_PASSWORD = "root-secret";

  private final Path root;
  private final boolean tls;
  private final List<Member> members = new ArrayList<>();
  private GenericContainer<?> container;
  private String rootAuth;

  private final class Member {
    final String name;
    final int clientPort = freePort();
    final int peerPort = freePort();
    final Path dataDir;
    Process process;

    Member(int index) {
      this.name = "m" + index;
      this.dataDir = root.resolve(name);
    }

    String clientUrl() {
      return (tls ? "https" : "http") + "://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
      return "http://127.0.0.1:" + peerPort;
    }
  }

  private EtcdCluster(int size, boolean tls) throws Exception {
    this.root = Files.createTempDirectory("sluice-etcd");
    this.tls = tls;
    for (int i = 0; i < size; i++) {
      members.add(new Member(i));
    }
  }

  /** One member, plain HTTP. */
  public static EtcdCluster single() throws Exception {
    return start(1, false);
  }

  /** {@code size} members; client traffic over TLS when {@code tls}. */
  public static EtcdCluster start(int size, boolean tls) throws Exception {
    EtcdCluster cluster = new EtcdCluster(size, tls);
    try {
      if (!Files.isExecutable(Path.of(BINARY))) {
        if (size != 1 || tls || !dockerAvailable()) {
          throw new IllegalStateException(
              "etcd tests need the etcd binary: install Debian's etcd-server package (apt-get"
                  + " install etcd-server)"
                  + (size == 1 && !tls ? ", or run a Docker engine" : ""));
        }
        cluster.startContainer();
        return cluster;
      }
      if (tls) {
        cluster.makeCertificate();
      }
      for (Member m : cluster.members) {
        cluster.launch(m);
      }
      cluster.awaitHealthy();
      return cluster;
    } catch (Throwable t) {
      cluster.close();
      throw t;
    }
  }

  /**
   * {@code size} plain members with their ports chosen but not started, for a registry that comes
   * up after its clients: start them with {@link #startAll()}.
   */
  public static EtcdCluster unstarted(int size) throws Exception {
    if (!Files.isExecutable(Path.of(BINARY))) {
      throw new IllegalStateException(
          "etcd tests need the etcd binary: install Debian's etcd-server package (apt-get"
              + " install etcd-server)");
    }
    return new EtcdCluster(size, false);
  }

  /** Starts every member that is not running and waits until the cluster serves. */
  public void startAll() throws Exception {
    for (Member m : members) {
      if (m.process == null) {
        launch(m);
      }
    }
    awaitHealthy();
  }

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void makeCertificate() throws Exception {
    run(
        List.of(
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=sluice-test-etcd",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            root.resolve("server.key").toString(),
            "-out",
            root.resolve("server.crt").toString()));
  }

  private static void run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  /** The PEM certificate that clients trust when the cluster speaks TLS. */
  public String caFile() {
    return root.resolve("server.crt").toString();
  }

  public boolean tls() {
    return tls;
  }

  private void launch(Member m) throws IOException {
    String initialCluster =
        members.stream().map(x -> x.name + "=" + x.peerUrl()).collect(Collectors.joining(","));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                BINARY,
                "--name",
                m.name,
                "--data-dir",
                m.dataDir.toString(),
                "--listen-client-urls",
                m.clientUrl(),
                "--advertise-client-urls",
                m.clientUrl(),
                "--listen-peer-urls",
                m.peerUrl(),
                "--initial-advertise-peer-urls",
                m.peerUrl(),
                "--initial-cluster",
                initialCluster,
                "--initial-cluster-token",
                root.getFileName().toString(),
                "--heartbeat-interval",
                "100",
                "--election-timeout",
                "1000",
                "--log-level",
                "warn"));
    if (tls) {
      cmd.addAll(
          List.of(
              "--cert-file",
              root.resolve("server.crt").toString(),
              "--key-file",
              root.resolve("server.key").toString()));
    }
    m.process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(root.resolve(m.name + ".log").toFile()))
            .start();
  }

  private void startContainer() {
    int port = freePort();
    members.get(0).process = null;
    @SuppressWarnings({"resource", "deprecation"})
    GenericContainer<?> c =
        new FixedHostPortGenericContainer<>(IMAGE)
            .withFixedExposedPort(port, 2379)
            .withCommand(
                "etcd",
                "--name",
                "m0",
                "--data-dir",
                "/etcd-data",
                "--listen-client-urls",
                "http://0.0.0.0:2379",
                "--advertise-client-urls",
                "http://127.0.0.1:" + port);
    c.start();
    container = c;
    containerPort = port;
  }

  private int containerPort;

  /** {@code 127.0.0.1:port,...}: every member's client address. */
  public String endpoints() {
    if (container != null) {
      return "127.0.0.1:" + containerPort;
    }
    return members.stream().map(m -> "127.0.0.1:" + m.clientPort).collect(Collectors.joining(","));
  }

  /** One member's client address. */
  public String endpoint(int member) {
    return container != null ? endpoints() : "127.0.0.1:" + members.get(member).clientPort;
  }

  /** The client URL of one member, as etcdctl's {@code --endpoints} takes it. */
  public String clientUrl(int member) {
    return container != null ? "http://" + endpoints() : members.get(member).clientUrl();
  }

  /** A jetcd client of all members, as {@code user:password} ({@code null}: anonymous). */
  public Client client(String auth) {
    return client(auth, endpoints());
  }

  /** A jetcd client of the given {@code 127.0.0.1:port,...} endpoints. */
  public Client client(String auth, String endpoints) {
    return new EtcdSettings(endpoints, tls, tls ? caFile() : null, auth, 5000, 10_000).newClient();
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /**
   * Turns authentication on: a root account, and {@code user:password} with read-write access to
   * the keys under {@code prefix}. Returns the root account as {@code user:password}.
   */
  public String enableAuth(String userAndPassword, String prefix) throws Exception {
    int colon = userAndPassword.indexOf(':');
    ByteSequence user = bytes(userAndPassword.substring(0, colon));
    ByteSequence role = bytes(userAndPassword.substring(0, colon) + "-role");
    ByteSequence start = bytes(prefix);
    byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
    end[end.length - 1]++;
    try (Client c = client(null)) {
      var auth = c.getAuthClient();
      auth.userAdd(bytes(ROOT_USER), bytes(ROOT_PASSWORD)).get(10, TimeUnit.SECONDS);
      auth.userGrantRole(bytes(ROOT_USER), bytes("root")).get(10, TimeUnit.SECONDS);
      auth.roleAdd(role).get(10, TimeUnit.SECONDS);
      auth.roleGrantPermission(role, start, ByteSequence.from(end), Permission.Type.READWRITE)
          .get(10, TimeUnit.SECONDS);
      auth.userAdd(user, bytes(userAndPassword.substring(colon + 1))).get(10, TimeUnit.SECONDS);
      auth.userGrantRole(user, role).get(10, TimeUnit.SECONDS);
      auth.authEnable().get(10, TimeUnit.SECONDS);
    }
    rootAuth = ROOT_USER + ":" + ROOT_PASSWORD;
    return rootAuth;
  }

  /** The Prometheus metrics of one member (plain HTTP clusters only). */
  public String metrics(int member) throws IOException {
    java.net.URL url = URI.create(members.get(member).clientUrl() + "/metrics").toURL();
    java.net.HttpURLConnection c = (java.net.HttpURLConnection) url.openConnection();
    c.setConnectTimeout(2000);
    c.setReadTimeout(5000);
    try (java.io.InputStream in = c.getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      c.disconnect();
    }
  }

  /** How many members this cluster has. */
  public int size() {
    return members.size();
  }

  /** Kills one member at once (SIGKILL), keeping its data. */
  public void kill(int member) throws InterruptedException {
    Member m = members.get(member);
    if (m.process != null && m.process.isAlive()) {
      m.process.destroyForcibly();
      m.process.waitFor(30, TimeUnit.SECONDS);
    }
    m.process = null; // stopped on purpose: no longer watched for an unexpected exit
  }

  /** Starts a stopped member again with its data. */
  public void restart(int member) throws Exception {
    launch(members.get(member));
  }

  /** Stops every member and starts them again with their data; waits until they serve. */
  public void restartAll() throws Exception {
    if (container != null) {
      container
          .getDockerClient()
          .restartContainerCmd(container.getContainerId())
          .withTimeout(10)
          .exec();
    } else {
      for (int i = 0; i < members.size(); i++) {
        kill(i);
      }
      for (Member m : members) {
        launch(m);
      }
    }
    awaitHealthy();
  }

  /** Waits until the cluster serves a linearizable read. */
  public void awaitHealthy() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Exception last = null;
    while (System.nanoTime() < deadline) {
      for (Member m : members) {
        if (m.process != null && !m.process.isAlive()) {
          throw new IllegalStateException("etcd member " + m.name + " exited: " + log(m.name));
        }
      }
      try (Client c = client(rootAuth)) {
        c.getKVClient().get(bytes("/health-probe")).get(2, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException("etcd did not become healthy: " + last + "\n" + log("m0"));
  }

  private String log(String member) {
    try {
      return Files.readString(root.resolve(member + ".log"));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  @Override
  public void close() throws Exception {
    if (!Files.exists(root)) {
      return; // closed already
    }
    if (container != null) {
      container.stop();
    }
    for (int i = 0; i < members.size(); i++) {
      kill(i);
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
