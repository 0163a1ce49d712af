package dev.sluice.registry;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/**
 * A real ZooKeeper server with a TLS client port (Netty, a certificate made by {@code openssl} for
 * 127.0.0.1 and localhost, client certificates not required) beside its plain one. Shared with the
 * agent's end-to-end tests.
 *
 * <p>ZooKeeper's server takes its TLS settings from {@code zookeeper.*} system properties, which
 * its configuration parser sets JVM-wide; {@link #close()} removes the ones it added, so that later
 * tests in this JVM see none of them.
 */
public final class TlsZooKeeper implements AutoCloseable {

  private final Path dir;
  private final Set<String> propertiesBefore;
  private final TestingCluster cluster;
  private final int securePort;
  private final InstanceSpec spec;

  public TlsZooKeeper() throws Exception {
    dir = Files.createTempDirectory("sluice-zk-tls");
    propertiesBefore = new HashSet<>(System.getProperties().stringPropertyNames());
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=sluice-test-zookeeper",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout",
        dir.resolve("server.key").toString(),
        "-out",
        caFile());
    // ZooKeeper's PEM key store: the private key and its certificate in one file.
    Files.writeString(
        dir.resolve("server.pem"),
        Files.readString(dir.resolve("server.key")) + Files.readString(Path.of(caFile())));
    securePort = freePort();
    Map<String, Object> properties =
        Map.of(
            "secureClientPort", String.valueOf(securePort),
            "serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory",
            "ssl.keyStore.location", dir.resolve("server.pem").toString(),
            "ssl.keyStore.type", "PEM",
            "ssl.trustStore.location", caFile(),
            "ssl.trustStore.type", "PEM",
            "ssl.clientAuth", "none");
    spec =
        new InstanceSpec(
            dir.resolve("data").toFile(), -1, -1, -1, true, 1, -1, -1, properties, "127.0.0.1");
    cluster = new TestingCluster(List.of(spec));
    try {
      cluster.start();
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /** {@code 127.0.0.1:<port>} of the TLS port. */
  public String secureConnectString() {
    return "127.0.0.1:" + securePort;
  }

  /** {@code 127.0.0.1:<port>} of the plain port. */
  public String plainConnectString() {
    return "127.0.0.1:" + spec.getPort();
  }

  /** The PEM certificate that signs the server's (it is its own CA). */
  public String caFile() {
    return dir.resolve("ca.pem").toString();
  }

  @Override
  public void close() throws IOException {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      for (String name : System.getProperties().stringPropertyNames()) {
        if (name.startsWith("zookeeper.") && !propertiesBefore.contains(name)) {
          System.clearProperty(name);
        }
      }
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void openssl(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
