package dev.sluice.bench;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every benchmark and prints one table, each figure next to its no-agent baseline. {@code
 * ./bench.sh [hotpath|propagation|fanout|startup|footprint ...]}; no argument runs them all.
 */
public final class Bench {

  final Path root;
  final Path agentJar;
  final List<String[]> rows = new ArrayList<>();

  Bench(Path root) {
    this.root = root;
    this.agentJar = root.resolve("agent/target/sluice-agent.jar");
  }

  public static void main(String[] args) throws Exception {
    Bench bench =
        new Bench(Paths.get(System.getProperty("bench.root", ".")).toAbsolutePath().normalize());
    List<String> parts =
        args.length == 0
            ? List.of("hotpath", "propagation", "fanout", "startup", "footprint")
            : List.of(args);
    for (String part : parts) {
      switch (part) {
        case "hotpath":
          bench.hotPath();
          break;
        case "propagation":
          new Propagation(bench).run();
          break;
        case "fanout":
          new FanOut(bench).run();
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
    bench.print();
    System.exit(0);
  }

  void row(String figure, String withAgent, String baseline, String delta, String goal) {
    rows.add(new String[] {figure, withAgent, baseline, delta, goal});
  }

  void hotPath() throws Exception {
    double[][] without = jmh(false);
    double[][] with = jmh(true);
    String[] names = {
      "HikariCP borrow+return (H2 mem), ns/op", "point SELECT through the pool, ns/op"
    };
    for (int i = 0; i < 2; i++) {
      double added = with[i][0] - without[i][0];
      boolean noise = Math.abs(added) < with[i][1] + without[i][1];
      row(
          names[i],
          fmt(with[i][0]) + " ± " + fmt(with[i][1]),
          fmt(without[i][0]) + " ± " + fmt(without[i][1]),
          String.format(Locale.ROOT, "%+.1f ns (%+.1f%%)", added, 100 * added / without[i][0])
              + (noise ? ", within the error" : ""),
          i == 0 ? "<= 3% and <= 20 ns" : "<= 3%");
    }
  }

  /** {score, error} per benchmark: borrowAndReturn, pointSelect. */
  private double[][] jmh(boolean withAgent) throws Exception {
    OptionsBuilder options = new OptionsBuilder();
    options
        .include(HotPathBenchmark.class.getName())
        .forks(Integer.getInteger("bench.forks", 3))
        .warmupIterations(5)
        .warmupTime(TimeValue.seconds(1))
        .measurementIterations(5)
        .measurementTime(TimeValue.seconds(1))
        .threads(1)
        .shouldFailOnError(true);
    if (withAgent) {
      options.jvmArgsAppend("-javaagent:" + agentJar + "=log.level=warn");
    }
    Options built = options.build();
    Collection<RunResult> results = new Runner(built).run();
    double[][] out = new double[2][2];
    for (RunResult r : results) {
      String label = r.getParams().getBenchmark();
      int i = label.endsWith("borrowAndReturn") ? 0 : 1;
      out[i][0] = r.getPrimaryResult().getScore();
      out[i][1] = r.getPrimaryResult().getScoreError();
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
    long[] s = values.clone();
    java.util.Arrays.sort(s);
    return String.format(
        Locale.ROOT,
        "%,d / %,d / %,d",
        s[(int) Math.floor(0.50 * (s.length - 1))],
        s[(int) Math.ceil(0.99 * (s.length - 1))],
        s[s.length - 1]);
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
    System.out.print(out);
  }
}
