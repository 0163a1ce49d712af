package dev.sluice.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code zkCli.sh} (package {@code zookeeper}), the tool the README tells operators to
 * use.
 */
final class ZkCli {

  static final String BINARY = "/usr/share/zookeeper/bin/zkCli.sh";

  private final String server;

  ZkCli(ZooKeeperFixture zk) {
    if (!Files.isExecutable(Path.of(BINARY))) {
      throw new IllegalStateException(
          "the zkCli tests need Debian's zookeeper package (apt-get install zookeeper)");
    }
    this.server = zk.connectString();
  }

  /** Runs {@code zkCli.sh -server <server> args}; returns its output. */
  String run(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(BINARY, "-server", server));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("zkCli.sh " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }
}
