package dev.sluice.bench;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every benchmark and prints one table, each figure next to its no-agent baseline. {@code
 * ./bench.sh [hotpath|propagation|failover|fanout|leader|startup|footprint ...]}; no argument runs
 * them all.
 */
public final class Bench {

  final Path root;
  final Path agentJar;
  final List<String[]> rows = new ArrayList<>();
  final List<String> notes = new ArrayList<>();

  Bench(Path root) {
    this.root = root;
    this.agentJar = root.resolve("agent/target/sluice-agent.jar");
  }

  public static void main(String[] args) throws Exception {
    Bench bench =
        new Bench(Paths.get(System.getProperty("bench.root", ".")).toAbsolutePath().normalize());
    List<String> parts =
        args.length == 0
            ? List.of(
                "hotpath", "propagation", "failover", "fanout", "leader", "startup", "footprint")
            : List.of(args);
    for (String part : parts) {
      try {
        run(bench, part);
      } catch (Exception | Error e) {
        // Printed here: an uncaught exception would go to the handler ZooKeeper's server installs,
        // which logs through SLF4J, silenced in the benchmarks; the run would end without a word.
        System.err.println("benchmark " + part + " failed; no figures:");
        e.printStackTrace();
        System.exit(1);
      }
    }
    bench.print();
    System.exit(0);
  }

  private static void run(Bench bench, String part) throws Exception {
    switch (part) {
      case "hotpath":
        bench.hotPath();
        break;
      case "propagation":
        new Propagation(bench).run();
        break;
      case "failover":
        new Failover(bench).run();
        new PatroniFailover(bench).run();
        break;
      case "failover-patroni":
        new PatroniFailover(bench).run();
        break;
      case "fanout":
        new FanOut(bench).run();
        break;
      case "leader":
        new LeaderScale(bench).run();
        break;
      case "startup":
        new Startup(bench).startup();
        break;
      case "footprint":
        new Startup(bench).footprint();
        break;
      default:
        throw new IllegalArgumentException("unknown part " + part);
    }
  }

  void row(String figure, String withAgent, String baseline, String delta, String goal) {
    rows.add(new String[] {figure, withAgent, baseline, delta, goal});
  }

  /** A line printed under the table. */
  void note(String text) {
    notes.add(text);
  }

  void hotPath() throws Exception {
    Map<String, double[]> without = jmh(false);
    Map<String, double[]> with = jmh(true);
    String[][] figures = {
      {"borrowAndReturn:fresh", "HikariCP borrow+return (H2 mem), ns/op", "<= 3% and <= 20 ns"},
      {
        "borrowAndReturn:afterAbort",
        "the same after a cut-off and re-enable, ns/op",
        "<= 3% and <= 20 ns"
      },
      {"pointSelect:fresh", "point SELECT through the pool, ns/op", "<= 3%"},
      {"pointSelect:afterAbort", "the same after a cut-off and re-enable, ns/op", "<= 3%"},
    };
    for (String[] f : figures) {
      double[] w = with.get(f[0]);
      double[] wo = without.get(f[0]);
      double added = w[0] - wo[0];
      boolean noise = Math.abs(added) < w[1] + wo[1];
      row(
          f[1],
          fmt(w[0]) + " ± " + fmt(w[1]),
          fmt(wo[0]) + " ± " + fmt(wo[1]),
          String.format(Locale.ROOT, "%+.1f ns (%+.1f%%)", added, 100 * added / wo[0])
              + (noise ? ", within the error" : ""),
          f[2]);
      double allocated = w[2] - wo[2];
      row(
          "  allocated per op (" + f[0].replace(':', ' ') + "), B/op",
          fmt(w[2]),
          fmt(wo[2]),
          String.format(Locale.ROOT, "%+.1f B", allocated),
          "no allocation added");
    }
  }

  /** {score, error, allocated bytes per op} per "benchmark:state". */
  private Map<String, double[]> jmh(boolean withAgent) throws Exception {
    OptionsBuilder options = new OptionsBuilder();
    options
        .include(HotPathBenchmark.class.getName())
        .forks(Integer.getInteger("bench.forks", 3))
        .warmupIterations(5)
        .warmupTime(TimeValue.seconds(1))
        .measurementIterations(5)
        .measurementTime(TimeValue.seconds(1))
        .threads(1)
        .addProfiler(GCProfiler.class)
        .shouldFailOnError(true);
    if (withAgent) {
      options.jvmArgsAppend("-javaagent:" + agentJar + "=log.level=warn", "-Dbench.agent=true");
    }
    Options built = options.build();
    Collection<RunResult> results = new Runner(built).run();
    Map<String, double[]> out = new HashMap<>();
    for (RunResult r : results) {
      String label = r.getParams().getBenchmark();
      String name = label.substring(label.lastIndexOf('.') + 1);
      String key = name + ":" + r.getParams().getParam("state");
      Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
      out.put(
          key,
          new double[] {
            r.getPrimaryResult().getScore(),
            r.getPrimaryResult().getScoreError(),
            alloc == null ? Double.NaN : alloc.getScore()
          });
    }
    return out;
  }

  /** The java executable of this JVM. */
  static String java() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The benchmarks' own class path, for the JVMs they start. */
  String classpath() {
    return System.getProperty("java.class.path");
  }

  /** {@code p50 / p99 / max} of the values. */
  static String percentiles(long[] values) {
    long[] m = marks(values);
    return String.format(Locale.ROOT, "%,d / %,d / %,d", m[0], m[1], m[2]);
  }

  /** p50, p99 and max of the values. */
  static long[] marks(long[] values) {
    long[] s = values.clone();
    java.util.Arrays.sort(s);
    return new long[] {
      s[(int) Math.floor(0.50 * (s.length - 1))],
      s[(int) Math.ceil(0.99 * (s.length - 1))],
      s[s.length - 1]
    };
  }

  /**
   * What the agent adds to the baseline measured in the same run: the difference of their p50 / p99
   * / max, then the p50 / p99 of the differences switch by switch (both start from the same write,
   * so what ZooKeeper itself took on each switch cancels out).
   */
  static String difference(long[] withAgent, long[] baseline) {
    long[] w = marks(withAgent);
    long[] b = marks(baseline);
    long[] paired = new long[withAgent.length];
    for (int i = 0; i < paired.length; i++) {
      paired[i] = withAgent[i] - baseline[i];
    }
    long[] p = marks(paired);
    return String.format(
        Locale.ROOT,
        "%+,d / %+,d / %+,d (per switch %+,d / %+,d)",
        w[0] - b[0],
        w[1] - b[1],
        w[2] - b[2],
        p[0],
        p[1]);
  }

  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  void print() {
    String[] header = {"figure", "with agent", "without agent", "difference", "goal"};
    int[] width = new int[header.length];
    List<String[]> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (String[] r : all) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%nSluice benchmarks: %d cores, %s %s, %s%n%n",
            Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.vm.name"),
            System.getProperty("java.version"),
            System.getProperty("os.name") + " " + System.getProperty("os.arch")));
    for (int n = 0; n < all.size(); n++) {
      String[] r = all.get(n);
      out.append('|');
      for (int i = 0; i < r.length; i++) {
        out.append(' ').append(String.format("%-" + width[i] + "s", r[i])).append(" |");
      }
      out.append('\n');
      if (n == 0) {
        out.append('|');
        for (int w : width) {
          out.append("-".repeat(w + 2)).append('|');
        }
        out.append('\n');
      }
    }
    for (String note : notes) {
      out.append('\n').append(note);
    }
    if (!notes.isEmpty()) {
      out.append('\n');
    }
    System.out.print(out);
  }
}
