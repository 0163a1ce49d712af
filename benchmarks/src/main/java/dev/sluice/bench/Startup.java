package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.curator.test.TestingServer;

/**
 * Startup and footprint: the same application JVM started again and again, with and without the
 * agent (in registry mode, against a loopback ZooKeeper), alternating.
 */
final class Startup {

  static final int RUNS = Integer.getInteger("bench.startup-runs", 10);

  private final Bench bench;

  Startup(Bench bench) {
    this.bench = bench;
  }

  void startup() throws Exception {
    try (TestingServer zk = new TestingServer(true)) {
      long[][] with = new long[2][RUNS];
      long[][] without = new long[2][RUNS];
      int classes = 0;
      for (int i = 0; i < RUNS; i++) {
        long[] a = launch(zk, false, false);
        long[] b = launch(zk, true, false);
        without[0][i] = a[0];
        without[1][i] = a[1];
        with[0][i] = b[0];
        with[1][i] = b[1];
        classes = (int) b[2];
      }
      String[] names = {
        "startup: JVM start to main (ms)", "startup: JVM start to first query (ms)"
      };
      for (int k = 0; k < 2; k++) {
        long w = median(with[k]);
        long wo = median(without[k]);
        bench.row(
            names[k] + ", median of " + RUNS + (k == 1 ? ", " + classes + " classes" : ""),
            ms(w),
            ms(wo),
            "+" + ms(w - wo) + " ms",
            "< 150 ms added");
      }
    }
  }

  void footprint() throws Exception {
    try (TestingServer zk = new TestingServer(true)) {
      long[][] with = new long[2][3];
      long[][] without = new long[2][3];
      for (int i = 0; i < 3; i++) {
        long[] a = launch(zk, false, true);
        long[] b = launch(zk, true, true);
        without[0][i] = a[3];
        without[1][i] = a[4];
        with[0][i] = b[3];
        with[1][i] = b[4];
      }
      long heapWith = median(with[0]);
      long heapWithout = median(without[0]);
      bench.row(
          "footprint: heap in use after full GC (MiB)",
          mib(heapWith),
          mib(heapWithout),
          "+" + mib(heapWith - heapWithout) + " MiB",
          "");
      bench.row(
          "footprint: live threads",
          String.valueOf(median(with[1])),
          String.valueOf(median(without[1])),
          "+" + (median(with[1]) - median(without[1])),
          "");
      bench.row("footprint: agent jar (MiB)", mib(Files.size(bench.agentJar)), "", "", "");
    }
  }

  /** {main µs after launch, first query µs after launch, classes, heap, threads}. */
  private long[] launch(TestingServer zk, boolean agent, boolean footprint) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Bench.java());
    if (agent) {
      cmd.add(
          "-javaagent:"
              + bench.agentJar
              + "=registry=zookeeper://"
              + zk.getConnectString()
              + ",log.level=warn");
    }
    cmd.add("-cp");
    cmd.add(bench.classpath());
    cmd.add(StartupApp.class.getName());
    if (footprint) {
      cmd.add("footprint");
    }
    // The child's stderr goes to a file, not to the console (it would be interleaved with the
    // table) and not away: when the child fails, it is the reason.
    Path stderr = Files.createTempFile("sluice-startup", ".err");
    try {
      long launched = PropagationProbe.epochMicros();
      Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
      return read(p, launched, agent, stderr);
    } finally {
      Files.deleteIfExists(stderr);
    }
  }

  private static long[] read(Process p, long launched, boolean agent, Path stderr)
      throws Exception {
    long[] out = new long[5];
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        String[] f = line.split(" ");
        if (f[0].equals("STARTUP")) {
          out[0] = Long.parseLong(f[1]) - launched;
          out[1] = Long.parseLong(f[2]) - launched;
          out[2] = Long.parseLong(f[3]);
        } else if (f[0].equals("FOOTPRINT")) {
          out[3] = Long.parseLong(f[1]);
          out[4] = Long.parseLong(f[2]);
        }
      }
    }
    int exit = p.waitFor();
    if (exit != 0 || out[1] == 0) {
      throw new IllegalStateException(
          "the startup app failed (agent "
              + agent
              + ", exit "
              + exit
              + (out[1] == 0 ? ", no STARTUP line" : "")
              + "); its stderr:\n"
              + Files.readString(stderr));
    }
    return out;
  }

  static long median(long[] values) {
    long[] s = values.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  static String ms(long micros) {
    return String.format(Locale.ROOT, "%.1f", micros / 1000.0);
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
  }
}
