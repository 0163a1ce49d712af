package dev.sluice.bench;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real HAProxy in front of a Patroni cluster, configured as Patroni's documentation does it: TCP
 * mode, a health check on each member's REST API ({@code OPTIONS /primary}, 200 only on the
 * leader), {@code inter 3s fall 3 rise 2 on-marked-down shutdown-sessions}. What a fleet without
 * Sluice runs in front of Patroni; the baseline of the Patroni failover benchmark.
 */
final class HaProxy implements AutoCloseable {

  static final Path BINARY = Paths.get("/usr/sbin/haproxy");

  private final Path dir;
  private final Path socket;
  private final Process process;
  final int port;

  /** {@code members}: server name → {@code {PostgreSQL port, REST API port}}. */
  HaProxy(Map<String, int[]> members) throws Exception {
    if (!Files.isExecutable(BINARY)) {
      throw new IllegalStateException(
          "HAProxy not found (" + BINARY + "): install the Debian package 'haproxy'");
    }
    dir = Files.createTempDirectory("sluice-haproxy");
    socket = dir.resolve("admin.sock");
    port = freePort();
    StringBuilder cfg = new StringBuilder();
    cfg.append("global\n  maxconn 100\n  stats socket ")
        .append(socket)
        .append(" mode 600 level admin\n")
        .append("defaults\n  mode tcp\n  retries 2\n  timeout client 30m\n")
        .append("  timeout connect 4s\n  timeout server 30m\n  timeout check 5s\n")
        .append("listen primary\n  bind 127.0.0.1:")
        .append(port)
        .append("\n  option httpchk OPTIONS /primary\n  http-check expect status 200\n")
        .append("  default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions\n");
    members.forEach(
        (name, ports) ->
            cfg.append("  server ")
                .append(name)
                .append(" 127.0.0.1:")
                .append(ports[0])
                .append(" maxconn 100 check port ")
                .append(ports[1])
                .append('\n'));
    Path file = dir.resolve("haproxy.cfg");
    Files.writeString(file, cfg);
    process =
        new ProcessBuilder(BINARY.toString(), "-db", "-f", file.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Files.exists(socket)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "HAProxy did not start:\n" + Files.readString(dir.resolve("haproxy.log")));
      }
      Thread.sleep(20);
    }
  }

  /** Each server's state as HAProxy's health checks see it ({@code UP}, {@code DOWN}, ...). */
  Map<String, String> states() throws IOException {
    String csv = command("show stat");
    List<String> lines = csv.lines().filter(l -> !l.isBlank()).toList();
    List<String> header = List.of(lines.get(0).replaceFirst("^# ", "").split(","));
    int name = header.indexOf("svname");
    int status = header.indexOf("status");
    Map<String, String> states = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", -1);
      if (!f[name].equals("FRONTEND") && !f[name].equals("BACKEND")) {
        states.put(f[name], f[status]);
      }
    }
    return states;
  }

  /** Waits until HAProxy sees {@code up} UP and every other server DOWN. */
  void awaitOnly(String up) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Map<String, String> states = states();
    while (!onlyUp(states, up)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("HAProxy did not settle on " + up + ": " + states);
      }
      Thread.sleep(100);
      states = states();
    }
  }

  private static boolean onlyUp(Map<String, String> states, String up) {
    return states.entrySet().stream()
        .allMatch(e -> e.getValue().startsWith(e.getKey().equals(up) ? "UP" : "DOWN"));
  }

  private String command(String line) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) > 0) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    process.waitFor(10, TimeUnit.SECONDS);
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
