package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.etcd.EtcdCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The etcd client is loaded from a copy in the temporary directory: where no copy can be made, the
 * configured {@code on-registry-loss} policy applies (no silent slide into local mode), and a copy
 * left behind by a killed JVM is deleted by the next one.
 */
class EtcdClientCopyIT {

  static H2TcpServer h2;
  static EtcdCluster etcd;

  @BeforeAll
  static void start() throws Exception {
    h2 = new H2TcpServer();
    etcd = EtcdCluster.single();
  }

  @AfterAll
  static void stop() throws Exception {
    etcd.close();
    h2.close();
  }

  private static AppProcess.Builder app(String moreArgs) {
    return AppProcess.jdbcApp(h2.url("copies"))
        .agentArgs(
            "registry=etcd://" + etcd.endpoints() + (moreArgs.isEmpty() ? "" : "," + moreArgs));
  }

  /**
   * A temporary directory that cannot hold the copy. (A regular file: these tests may run as root,
   * who writes into a read-only directory all the same.)
   */
  private static Path unusableTmpdir(Path dir) throws Exception {
    Path file = dir.resolve("not-a-directory");
    Files.writeString(file, "");
    return file;
  }

  @Test
  void withoutACopyCutOffRefusesAndSaysWhy(@TempDir Path dir) throws Exception {
    try (AppProcess app =
        app("on-registry-loss=cut-off,registry.loss-grace-ms=0")
            .sysProp("java.io.tmpdir", unusableTmpdir(dir).toString())
            .start()) {
      AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(app, "connect");
      assertEquals("08004", refused.sqlState(), refused::toString);
      assertTrue(refused.text.contains("cannot be used"), refused::toString);
      assertTrue(refused.text.contains("on-registry-loss=cut-off"), refused::toString);
      assertEquals(
          1, InstanceCutOffIT.countLines(app, "database access is refused after"), app::output);
      assertEquals(0, InstanceCutOffIT.countLines(app, "as on-registry-loss=keep"), app::output);
      assertTrue(app.isAlive());
    }
  }

  @Test
  void withoutACopyKeepGoesOnInLocalModeAndSaysWhy(@TempDir Path dir) throws Exception {
    try (AppProcess app =
        app("on-registry-loss=keep,registry.loss-grace-ms=0")
            .sysProp("java.io.tmpdir", unusableTmpdir(dir).toString())
            .start()) {
      Await.until(
          "the agent's line on the registry it cannot use",
          java.time.Duration.ofSeconds(20),
          () -> InstanceCutOffIT.countLines(app, "cannot use registry") > 0);
      assertEquals(
          1, InstanceCutOffIT.countLines(app, "running in local mode, as on-registry-loss=keep"));
      assertTrue(app.send("connect").ok, app::output);
      assertTrue(app.send("connect").ok, app::output);
    }
  }

  @Test
  void aCopyLeftByAKilledJvmIsDeletedByTheNextOne(@TempDir Path tmp) throws Exception {
    Etcdctl etcdctl = new Etcdctl(etcd, null);
    long killedPid;
    try (AppProcess killed = app("").sysProp("java.io.tmpdir", tmp.toString()).start()) {
      EtcdIT.instanceKey(etcdctl, killed);
      killedPid = killed.pid();
      assertEquals(1, copies(tmp).size(), "one copy");
      killed.kill();
    }
    assertEquals(1, copies(tmp).size(), "kill -9 leaves the copy behind");

    try (AppProcess next = app("").sysProp("java.io.tmpdir", tmp.toString()).start()) {
      EtcdIT.instanceKey(etcdctl, next);
      assertEquals(1, copies(tmp).size(), "the killed JVM's copy is gone: " + copies(tmp));
      assertEquals(List.of(copyOf(next.pid())), copies(tmp), "named after its process");
      assertTrue(
          next.output().contains("left behind by process " + killedPid + " that is gone"),
          next::output);
      assertEquals(0, next.exit());
    }
    assertEquals(List.of(), copies(tmp), "a normal exit deletes its own copy");
  }

  /** The start of the name of the copy made by process {@code pid}. */
  private static String copyOf(long pid) {
    return "sluice-etcd-" + pid + "-";
  }

  /** The copies in {@code dir}, each as the start of its name up to the process id. */
  private static List<String> copies(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("sluice-etcd-"))
          .map(n -> n.replaceFirst("^(sluice-etcd-\\d+-).*", "$1"))
          .sorted()
          .collect(Collectors.toList());
    }
  }
}
