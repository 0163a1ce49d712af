package dev.sluice.agent.config;

import java.util.List;

/** Random malformed agent arguments, for the configuration fuzz tests (unit and end to end). */
public final class MalformedConfig {

  private MalformedConfig() {}

  public static final String SECRET = "s3cr3t-PASSWORD";

  static final List<String> KEYS =
      List.of(
          "registry",
          "namespace",
          "layout",
          "app",
          "instance.ip",
          "registry.auth",
          "registry.tls-ca-file",
          "registry.connect-timeout-ms",
          "registry.session-timeout-ms",
          "registry.initial-sync-ms",
          "on-registry-loss",
          "registry.loss-grace-ms",
          "cutoff.grace-ms",
          "jmx.domain",
          "log.level",
          "datasources.orders.db1",
          "datasources..",
          "datasources.a",
          "regsitry",
          "",
          "REGISTRY",
          " registry ");

  static final List<String> VALUES =
      List.of(
          "",
          " ",
          "DISABLED",
          "-5",
          "0",
          "99999999999999999999",
          "0x10",
          "1e3",
          "NaN",
          "zookeeper://h:1",
          "zookeeper://",
          "etcd+https://",
          "etcd://a:1",
          "http://h:1",
          "db:3306/orders",
          ":0",
          "h:99999",
          "v5",
          "LEGACY",
          "cut-off",
          "debug",
          "ünïcödé-€-\uD83D\uDE00",
          "\u0000\u0007\t",
          "=",
          "==",
          "a b",
          "/nonexistent/ca.pem",
          "x".repeat(10_000));

  /**
   * One to six comma-separated segments: known and unknown keys with odd values, bare segments, and
   * {@code registry.auth} holding {@link #SECRET}. Without {@code controlCharacters}, values that a
   * command line cannot carry (NUL) are left out.
   */
  private static String value(java.util.Random rnd, boolean controlCharacters) {
    String v = VALUES.get(rnd.nextInt(VALUES.size()));
    return controlCharacters ? v : v.replace("\u0000", "");
  }

  public static String randomArgs(java.util.Random rnd, boolean controlCharacters) {
    StringBuilder args = new StringBuilder();
    int segments = 1 + rnd.nextInt(6);
    for (int i = 0; i < segments; i++) {
      if (i > 0) {
        args.append(',');
      }
      int kind = rnd.nextInt(10);
      if (kind == 0) {
        args.append(value(rnd, controlCharacters)); // a bare segment
      } else if (kind == 1) {
        args.append("registry.auth=");
        switch (rnd.nextInt(3)) {
          case 0:
            args.append("user:").append(SECRET);
            break;
          case 1:
            args.append(SECRET);
            break;
          default:
            // commas, '=', quotes and spaces: all part of the secret
            args.append(rnd.nextBoolean() ? "user:" : "")
                .append("a,")
                .append(SECRET)
                .append("=\"x' ,y=")
                .append(SECRET);
        }
      } else {
        args.append(KEYS.get(rnd.nextInt(KEYS.size())))
            .append('=')
            .append(value(rnd, controlCharacters));
      }
    }
    return args.toString();
  }
}
