package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.apache.curator.test.TestingServer;

/**
 * Startup and footprint: the same application JVM started again and again, with and without the
 * agent, alternating: in registry mode (a loopback ZooKeeper), in local mode, and started from the
 * application's own AppCDS archive (made by a training run without the agent); on this JVM's Java
 * and on Java 25 when it is installed.
 */
final class Startup {

  static final int RUNS = Integer.getInteger("bench.startup-runs", 10);
  static final Path JAVA_25 = Paths.get("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
  static final String CDS_WARNING = "Sharing is only supported for boot loader classes";

  private final Bench bench;

  Startup(Bench bench) {
    this.bench = bench;
  }

  /** One way of starting the application: which Java, which agent arguments, which archive. */
  private static final class Variant {
    final String name;
    final String java;
    final String agentArgs; // null: local mode
    final Path archive; // null: the JDK's default CDS archive only

    Variant(String name, String java, String agentArgs, Path archive) {
      this.name = name;
      this.java = java;
      this.agentArgs = agentArgs;
      this.archive = archive;
    }
  }

  void startup() throws Exception {
    try (TestingServer zk = new TestingServer(true)) {
      String registry = "registry=zookeeper://" + zk.getConnectString() + ",log.level=warn";
      List<String> javas = new ArrayList<>();
      javas.add(Bench.java());
      if (Files.isExecutable(JAVA_25)) {
        javas.add(JAVA_25.toString());
      } else {
        bench.note("Java 25 is not installed at " + JAVA_25 + ": its rows are left out.");
      }
      for (String java : javas) {
        String version = javaVersion(java);
        Path archive = Files.createTempFile("sluice-startup-" + version + "-", ".jsa");
        Files.delete(archive);
        try {
          train(java, archive);
          boolean first = java.equals(Bench.java());
          if (first) {
            measure(new Variant("Java " + version + ", registry mode", java, registry, null), true);
            measure(
                new Variant("Java " + version + ", local mode", java, "log.level=warn", null),
                false);
            measure(
                new Variant(
                    "Java " + version + ", an agent that transforms nothing", java, NOP, null),
                false);
          } else {
            measure(
                new Variant("Java " + version + ", registry mode", java, registry, null), false);
          }
          measure(
              new Variant(
                  "Java " + version + ", own AppCDS archive, registry mode",
                  java,
                  registry,
                  archive),
              false);
          measure(
              new Variant(
                  "Java " + version + ", own AppCDS archive, local mode",
                  java,
                  "log.level=warn",
                  archive),
              false);
          measure(
              new Variant(
                  "Java " + version + ", own AppCDS archive, an agent that transforms nothing",
                  java,
                  NOP,
                  archive),
              false);
          measure(
              new Variant(
                  "Java " + version + ", own AppCDS archive, an agent with no transformer",
                  java,
                  NOP_BARE,
                  archive),
              false);
        } finally {
          Files.deleteIfExists(archive);
        }
      }
    }
  }

  /** A run without the agent that writes the application's own archive when it exits. */
  private void train(String java, Path archive) throws Exception {
    launch(java, null, List.of("-XX:ArchiveClassesAtExit=" + archive), false);
    if (!Files.isRegularFile(archive)) {
      throw new IllegalStateException("the training run made no archive " + archive);
    }
  }

  private void measure(Variant v, boolean withMain) throws Exception {
    List<String> jvm = new ArrayList<>();
    if (v.archive != null) {
      jvm.add("-XX:SharedArchiveFile=" + v.archive);
    }
    long[][] with = new long[2][RUNS];
    long[][] without = new long[2][RUNS];
    int classes = 0;
    for (int i = 0; i < RUNS; i++) {
      long[] a = launch(v.java, null, jvm, false);
      long[] b = launch(v.java, agentOption(v.agentArgs), jvm, false);
      without[0][i] = a[0];
      without[1][i] = a[1];
      with[0][i] = b[0];
      with[1][i] = b[1];
      classes = (int) b[2];
    }
    if (withMain) {
      row(
          "startup: JVM start to main (ms), median of " + RUNS + ", " + v.name,
          with[0],
          without[0]);
    }
    row(
        "startup: JVM start to first query (ms), median of "
            + RUNS
            + ", "
            + v.name
            + ", "
            + classes
            + " classes",
        with[1],
        without[1]);
    if (v.archive != null) {
      // one more run each way, counting the application's classes mapped from its archive
      List<String> logged = new ArrayList<>(jvm);
      logged.add("-Xlog:class+load=info");
      long[] a = launch(v.java, null, logged, false);
      long[] b = launch(v.java, agentOption(v.agentArgs), logged, false);
      bench.row(
          "startup: classes loaded from the application's archive, " + v.name,
          String.valueOf(b[5]),
          String.valueOf(a[5]),
          String.valueOf(b[5] - a[5]),
          "CDS kept" + (b[6] == 0 ? "" : " (the JVM warned: " + CDS_WARNING + ")"));
    }
  }

  private void row(String figure, long[] with, long[] without) {
    long w = median(with);
    long wo = median(without);
    bench.row(figure, ms(w), ms(wo), "+" + ms(w - wo) + " ms", "<= 150 ms added");
  }

  /** Agent arguments standing for {@link NopAgent} with its transformer, and without one. */
  private static final String NOP = "(no-op)";

  private static final String NOP_BARE = "(no-op, bare)";
  private Path nopAgent;

  private String agentOption(String agentArgs) {
    if (agentArgs.equals(NOP)) {
      return "-javaagent:" + nopAgent();
    }
    if (agentArgs.equals(NOP_BARE)) {
      return "-javaagent:" + nopAgent() + "=bare";
    }
    return "-javaagent:" + bench.agentJar + "=" + agentArgs;
  }

  /** A jar holding {@link NopAgent} alone, written once. */
  private Path nopAgent() {
    if (nopAgent != null) {
      return nopAgent;
    }
    try {
      Path jar = Files.createTempFile("sluice-nop-agent", ".jar");
      jar.toFile().deleteOnExit();
      Manifest manifest = new Manifest();
      manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
      manifest.getMainAttributes().putValue("Premain-Class", NopAgent.class.getName());
      manifest.getMainAttributes().putValue("Can-Retransform-Classes", "true");
      try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
        for (String name :
            new String[] {NopAgent.class.getName(), NopAgent.class.getName() + "$1"}) {
          String entry = name.replace('.', '/') + ".class";
          try (InputStream in = NopAgent.class.getClassLoader().getResourceAsStream(entry)) {
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
          }
        }
      }
      nopAgent = jar;
      return jar;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void footprint() throws Exception {
    try (TestingServer zk = new TestingServer(true)) {
      String agent =
          agentOption("registry=zookeeper://" + zk.getConnectString() + ",log.level=warn");
      long[][] with = new long[2][3];
      long[][] without = new long[2][3];
      for (int i = 0; i < 3; i++) {
        long[] a = launch(Bench.java(), null, List.of(), true);
        long[] b = launch(Bench.java(), agent, List.of(), true);
        without[0][i] = a[3];
        without[1][i] = a[4];
        with[0][i] = b[3];
        with[1][i] = b[4];
      }
      long heapWith = median(with[0]);
      long heapWithout = median(without[0]);
      bench.row(
          "footprint: heap in use after full GC (MiB), registry mode",
          mib(heapWith),
          mib(heapWithout),
          "+" + mib(heapWith - heapWithout) + " MiB",
          "<= 6 MiB added");
      bench.row(
          "footprint: live threads, registry mode",
          String.valueOf(median(with[1])),
          String.valueOf(median(without[1])),
          "+" + (median(with[1]) - median(without[1])),
          "<= 6 added");
      long jar = Files.size(bench.agentJar);
      bench.row("footprint: agent jar (MiB)", mib(jar), "", "", "<= 12 MiB");
    }
  }

  /**
   * {main µs after launch, first query µs after launch, classes, heap, threads, classes from the
   * application's archive (with {@code -Xlog:class+load}), 1 when the JVM printed the CDS warning}.
   */
  private long[] launch(String java, String agent, List<String> jvm, boolean footprint)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    if (agent != null) {
      cmd.add(agent);
    }
    cmd.addAll(jvm);
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
      long[] out = read(p, launched, agent != null, stderr);
      out[6] = Files.readString(stderr).contains(CDS_WARNING) ? 1 : 0;
      return out;
    } finally {
      Files.deleteIfExists(stderr);
    }
  }

  private static long[] read(Process p, long launched, boolean agent, Path stderr)
      throws Exception {
    long[] out = new long[7];
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
        } else if (line.contains("source: shared objects file (top)")) {
          out[5]++;
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

  /** The feature version of the Java at {@code java}, e.g. {@code 17}. */
  private static String javaVersion(String java) throws Exception {
    Process p = new ProcessBuilder(java, "-XshowSettings:properties", "-version").start();
    String out = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    for (String line : out.split("\n")) {
      String t = line.trim();
      if (t.startsWith("java.specification.version = ")) {
        return t.substring("java.specification.version = ".length());
      }
    }
    throw new IllegalStateException("no java.specification.version from " + java + ": " + out);
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
