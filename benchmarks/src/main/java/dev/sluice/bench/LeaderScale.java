package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The fleet leader at scale (SPEC section 8): a {@code controller} process leads and probes {@link
 * #ENDPOINTS} endpoints recorded under {@code /bench/meta/endpoints}, every second, each a real TCP
 * server in this JVM that answers PostgreSQL's {@code SSLRequest} with {@code N} (one selector
 * thread serves them all). Beside it the same controller with no endpoint (the baseline).
 *
 * <ul>
 *   <li>the leader's cost over a minute: CPU (share of one core, from {@code /proc}), threads and
 *       resident memory;
 *   <li>detection to action: {@link #KILLS} endpoints stop (their port closes), one at a time; from
 *       the leader's own log, the time from its detection to its {@code DISABLED} write, and from
 *       the stop to the write as ZooKeeper shows it;
 *   <li>registry load in a quiet fleet: every change under {@code /bench} a recursive watch sees
 *       during a minute in which nothing changes (goal: none).
 * </ul>
 */
final class LeaderScale {

  static final int ENDPOINTS = Integer.getInteger("bench.endpoints", 1000);
  static final int KILLS = 10;
  static final int INTERVAL_MS = 1000;
  static final int FAILURES = 3;
  static final long QUIET_MS = Long.getLong("bench.quiet-ms", 60_000);

  private final Bench bench;

  LeaderScale(Bench bench) {
    this.bench = bench;
  }

  /** The endpoints' servers: each accepts, reads an SSLRequest (8 bytes), answers 'N', closes. */
  static final class Endpoints implements AutoCloseable {
    final Selector selector = Selector.open();
    final List<ServerSocketChannel> servers = new ArrayList<>();
    final Map<Integer, ServerSocketChannel> byPort = new ConcurrentHashMap<>();
    final Thread thread;
    final AtomicLong answered = new AtomicLong();
    private volatile boolean open = true;
    private final List<Runnable> pending = new CopyOnWriteArrayList<>();

    Endpoints(int n) throws IOException {
      for (int i = 0; i < n; i++) {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.bind(new InetSocketAddress("127.0.0.1", 0), 1024);
        s.configureBlocking(false);
        s.register(selector, SelectionKey.OP_ACCEPT);
        servers.add(s);
        byPort.put(((InetSocketAddress) s.getLocalAddress()).getPort(), s);
      }
      thread = new Thread(this::serve, "bench-endpoints");
      thread.setDaemon(true);
      thread.start();
    }

    List<Integer> ports() {
      List<Integer> out = new ArrayList<>();
      for (ServerSocketChannel s : servers) {
        try {
          out.add(((InetSocketAddress) s.getLocalAddress()).getPort());
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }
      return out;
    }

    /** Closes the server on {@code port} (its port refuses connections from now on). */
    void stop(int port) throws InterruptedException {
      CountDownLatch done = new CountDownLatch(1);
      pending.add(
          () -> {
            try {
              ServerSocketChannel s = byPort.remove(port);
              s.keyFor(selector).cancel();
              s.close();
            } catch (IOException e) {
              throw new IllegalStateException(e);
            } finally {
              done.countDown();
            }
          });
      selector.wakeup();
      if (!done.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("endpoint " + port + " did not stop");
      }
    }

    private void serve() {
      ByteBuffer buf = ByteBuffer.allocate(64);
      ByteBuffer no = ByteBuffer.wrap(new byte[] {'N'});
      while (open) {
        try {
          selector.select(100);
          for (Runnable r : pending) {
            pending.remove(r);
            r.run();
          }
          for (SelectionKey k : selector.selectedKeys()) {
            if (!k.isValid()) {
              continue;
            }
            if (k.isAcceptable()) {
              SocketChannel c = ((ServerSocketChannel) k.channel()).accept();
              if (c != null) {
                c.configureBlocking(false);
                c.register(selector, SelectionKey.OP_READ);
              }
            } else if (k.isReadable()) {
              SocketChannel c = (SocketChannel) k.channel();
              buf.clear();
              int n = c.read(buf);
              if (n > 0) {
                no.rewind();
                c.write(no);
                answered.incrementAndGet();
              }
              k.cancel();
              c.close();
            }
          }
          selector.selectedKeys().clear();
        } catch (IOException | RuntimeException e) {
          // one client's trouble: the others go on
        }
      }
    }

    @Override
    public void close() throws IOException {
      open = false;
      selector.wakeup();
      for (ServerSocketChannel s : servers) {
        s.close();
      }
      selector.close();
    }
  }

  void run() throws Exception {
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, -1, 0);
    try (TestingServer server = new TestingServer(spec, true);
        Endpoints endpoints = new Endpoints(ENDPOINTS)) {
      ZooKeeper zk = Propagation.connect(server.getConnectString());
      try {
        List<Integer> ports = endpoints.ports();
        create(zk, "/bench/meta/endpoints/db");
        for (int port : ports) {
          zk.create(
              "/bench/meta/endpoints/db/ep_" + port,
              ("127.0.0.1:" + port + "/db").getBytes(StandardCharsets.UTF_8),
              ZooDefs.Ids.OPEN_ACL_UNSAFE,
              CreateMode.PERSISTENT);
        }
        long[] baseline = measureController(server.getConnectString(), "bench-empty", null, null);
        long[] loaded = measureController(server.getConnectString(), "bench", zk, endpoints);
        bench.row(
            "leader, " + ENDPOINTS + " endpoints every " + INTERVAL_MS + " ms: CPU, % of one core",
            pct(loaded[0]),
            pct(baseline[0]),
            "baseline: a leader with no endpoint",
            "");
        bench.row(
            "leader: threads",
            Long.toString(loaded[1]),
            Long.toString(baseline[1]),
            String.format(Locale.ROOT, "%+d", loaded[1] - baseline[1]),
            "bounded (<= 8 probe threads)");
        bench.row(
            "leader: heap in use after a full GC, MB",
            String.format(Locale.ROOT, "%.1f", loaded[3] / 1024.0),
            String.format(Locale.ROOT, "%.1f", baseline[3] / 1024.0),
            String.format(Locale.ROOT, "%+.1f MB", (loaded[3] - baseline[3]) / 1024.0),
            "");
        bench.row(
            "leader: resident memory (the JVM's heap as sized by default), MB",
            Long.toString(loaded[2] / 1024),
            Long.toString(baseline[2] / 1024),
            String.format(Locale.ROOT, "%+d MB", (loaded[2] - baseline[2]) / 1024),
            "");
      } finally {
        zk.close();
      }
    }
  }

  private static String pct(long hundredths) {
    return String.format(Locale.ROOT, "%.1f", hundredths / 100.0);
  }

  /**
   * Starts a controller in {@code namespace}; once it leads (and, with endpoints, has probed them
   * all), samples its CPU, threads and memory over {@link #QUIET_MS}. With {@code zk}, also counts
   * the registry's changes meanwhile, then stops {@link #KILLS} endpoints and times the leader.
   * Returns {CPU in hundredths of a percent of one core, threads, resident KB}.
   */
  private long[] measureController(
      String connectString, String namespace, ZooKeeper zk, Endpoints endpoints) throws Exception {
    Path agentJar = bench.agentJar;
    Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
    List<String> cmd =
        List.of(
            java.toString(),
            "-jar",
            agentJar.toString(),
            "controller",
            "registry=zookeeper://" + connectString,
            "namespace=" + namespace,
            "recovery.auto-disable=replicas",
            "recovery.probe-interval-ms=" + INTERVAL_MS,
            "recovery.failures-to-disable=" + FAILURES,
            "recovery.block-ms=0",
            "console.bind=off");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> log = new CopyOnWriteArrayList<>();
    CountDownLatch leads = new CountDownLatch(1);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  log.add(line);
                  if (line.contains("leads the fleet now")) {
                    leads.countDown();
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "bench-controller-log");
    reader.setDaemon(true);
    reader.start();
    try {
      if (!leads.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the controller did not lead:\n" + String.join("\n", log));
      }
      if (endpoints != null) {
        // every endpoint probed at least twice (the first probe of each learns its protocol)
        long target = 2L * ENDPOINTS;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (endpoints.answered.get() < target) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "the leader probed " + endpoints.answered.get() + " of " + target + " in 60 s");
          }
          Thread.sleep(100);
        }
      }
      AtomicLong changes = new AtomicLong();
      List<String> changed = new CopyOnWriteArrayList<>();
      if (zk != null) {
        zk.addWatch(
            "/" + namespace,
            e -> {
              if (e.getType() != Watcher.Event.EventType.None) {
                changes.incrementAndGet();
                changed.add(e.getType() + " " + e.getPath());
              }
            },
            AddWatchMode.PERSISTENT_RECURSIVE);
      }
      long pid = p.pid();
      long cpu0 = cpuTicks(pid);
      long t0 = System.nanoTime();
      long answered0 = endpoints == null ? 0 : endpoints.answered.get();
      List<Long> threads = new ArrayList<>();
      List<Long> rss = new ArrayList<>();
      long end = t0 + TimeUnit.MILLISECONDS.toNanos(QUIET_MS);
      while (System.nanoTime() < end) {
        Thread.sleep(1000);
        long[] status = status(pid);
        threads.add(status[0]);
        rss.add(status[1]);
      }
      long cpu1 = cpuTicks(pid);
      double seconds = (System.nanoTime() - t0) / 1e9;
      long heapKb = heapAfterGc(pid);
      long hundredths = Math.round((cpu1 - cpu0) / (double) TICKS / seconds * 100 * 100);
      if (zk != null) {
        bench.row(
            "leader: registry writes in a quiet minute (" + ENDPOINTS + " endpoints probed)",
            String.format(Locale.ROOT, "%d in %.0f s", changes.get(), seconds),
            "",
            "",
            "0");
        if (!changed.isEmpty()) {
          bench.note("changes in the quiet minute: " + String.join(", ", changed));
        }
        bench.note(
            String.format(
                Locale.ROOT,
                "the leader probed %,d times in %.0f s (%,.0f a second)",
                endpoints.answered.get() - answered0,
                seconds,
                (endpoints.answered.get() - answered0) / seconds));
        kills(zk, namespace, endpoints, log);
      }
      return new long[] {hundredths, max(threads), max(rss), heapKb};
    } finally {
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  /** Stops endpoints one at a time and times the leader's detection and action. */
  private void kills(ZooKeeper zk, String namespace, Endpoints endpoints, List<String> log)
      throws Exception {
    List<Integer> ports = endpoints.ports();
    long[] stopToWrite = new long[KILLS];
    long[] detectionToAction = new long[KILLS];
    for (int i = 0; i < KILLS; i++) {
      int port = ports.get(i * (ports.size() / KILLS));
      String name = "db/ep_" + port;
      String node = "/" + namespace + "/states/datanodes/" + name;
      CountDownLatch disabled = new CountDownLatch(1);
      long[] at = new long[1];
      Watcher w =
          e -> {
            try {
              byte[] v = zk.getData(node, false, null);
              if ("DISABLED".equals(new String(v, StandardCharsets.UTF_8))) {
                at[0] = System.nanoTime();
                disabled.countDown();
              }
            } catch (KeeperException | InterruptedException ex) {
              // not there yet
            }
          };
      zk.addWatch(node, w, AddWatchMode.PERSISTENT);
      long stopped = System.nanoTime();
      endpoints.stop(port);
      if (!disabled.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            name + " was not disabled within 30 s:\n" + String.join("\n", log));
      }
      zk.removeWatches(node, w, Watcher.WatcherType.Any, true);
      stopToWrite[i] = (at[0] - stopped) / 1_000;
      detectionToAction[i] = fromLog(log, name);
    }
    bench.row(
        "leader: detection to DISABLED written, from its log (µs)",
        Bench.percentiles(detectionToAction),
        "",
        "",
        "");
    bench.row(
        "leader: endpoint stopped to DISABLED in ZooKeeper (µs)",
        Bench.percentiles(stopToWrite),
        "",
        "",
        "<= failures x interval + 1 s = " + (FAILURES * INTERVAL_MS + 1000) * 1000L);
  }

  /** Microseconds between the leader's "detected" and "DISABLED automatically" lines for name. */
  private static long fromLog(List<String> log, String name) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      Instant detected = null;
      Instant acted = null;
      for (String line : log) {
        if (line.contains("detected: " + name + " ")) {
          detected = Instant.parse(line.substring(0, line.indexOf(' ')));
        } else if (line.contains(name + " DISABLED automatically")) {
          acted = Instant.parse(line.substring(0, line.indexOf(' ')));
        }
      }
      if (detected != null && acted != null) {
        return java.time.Duration.between(detected, acted).toNanos() / 1_000;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("no detection and action of " + name + " in the leader's log");
  }

  /** The heap in use after {@code jcmd <pid> GC.run}, in KB ({@code jcmd GC.heap_info}). */
  private static long heapAfterGc(long pid) throws Exception {
    Path jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd");
    run(jcmd.toString(), Long.toString(pid), "GC.run");
    String info = run(jcmd.toString(), Long.toString(pid), "GC.heap_info");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
    if (!m.find()) {
      throw new IllegalStateException("no heap figure in: " + info);
    }
    return Long.parseLong(m.group(1));
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  /** Clock ticks per second of {@code /proc/<pid>/stat}: 100 on Linux. */
  static final long TICKS = 100;

  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Paths.get("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
  }

  /** {threads, resident KB} from {@code /proc/<pid>/status}. */
  private static long[] status(long pid) throws IOException {
    long threads = 0;
    long rss = 0;
    for (String line : Files.readAllLines(Paths.get("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("Threads:")) {
        threads = Long.parseLong(line.substring(8).trim());
      } else if (line.startsWith("VmRSS:")) {
        rss = Long.parseLong(line.substring(6).replace("kB", "").trim());
      }
    }
    return new long[] {threads, rss};
  }

  private static long max(List<Long> values) {
    long m = 0;
    for (long v : values) {
      m = Math.max(m, v);
    }
    return m;
  }

  private static void create(ZooKeeper zk, String path) throws Exception {
    StringBuilder at = new StringBuilder();
    for (String part : path.substring(1).split("/")) {
      at.append('/').append(part);
      try {
        zk.create(at.toString(), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      } catch (KeeperException.NodeExistsException e) {
        // there
      }
    }
  }
}
