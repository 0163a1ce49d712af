package dev.sluice.it;

import dev.sluice.registry.etcd.EtcdCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real {@code etcdctl} (Debian's {@code etcd-client}), run the way the README shows it. */
final class Etcdctl {

  static final String BINARY = "/usr/bin/etcdctl";

  private final EtcdCluster cluster;
  private final String user;

  /** {@code user} is {@code name:password}, or {@code null} for none. */
  Etcdctl(EtcdCluster cluster, String user) {
    if (!Files.isExecutable(Path.of(BINARY))) {
      throw new IllegalStateException(
          "the etcdctl tests need Debian's etcd-client package (apt-get install etcd-client)");
    }
    this.cluster = cluster;
    this.user = user;
  }

  /** Runs {@code etcdctl --endpoints=... [--cacert=...] [--user=...] args}; returns stdout. */
  String run(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(BINARY, "--endpoints=" + cluster.clientUrl(0)));
    if (cluster.tls()) {
      cmd.add("--cacert=" + cluster.caFile());
    }
    if (user != null) {
      cmd.add("--user=" + user);
    }
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("etcdctl " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }

  /** {@code etcdctl get --print-value-only key}, or {@code null} when there is no key. */
  String get(String key) throws Exception {
    String out = run("get", key);
    if (out.isEmpty()) {
      return null;
    }
    // "key\nvalue\n"
    String rest = out.substring(out.indexOf('\n') + 1);
    return rest.endsWith("\n") ? rest.substring(0, rest.length() - 1) : rest;
  }

  /** The keys under {@code prefix}. */
  List<String> keys(String prefix) throws Exception {
    List<String> keys = new ArrayList<>();
    for (String line : run("get", "--prefix", "--keys-only", prefix).split("\n")) {
      if (!line.isBlank()) {
        keys.add(line);
      }
    }
    return keys;
  }

  /** The lease of {@code key} in hex, as {@code etcdctl lease} takes it, or {@code 0}. */
  String lease(String key) throws Exception {
    String json = run("get", key, "-w", "json");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"lease\":(\\d+)").matcher(json);
    return m.find() ? Long.toHexString(Long.parseUnsignedLong(m.group(1))) : "0";
  }
}
