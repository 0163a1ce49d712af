package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the registry cannot do to the agent, on every backend: exhaust its heap or stop it from
 * syncing with junk under the namespace; and what two JVMs registered under one legacy id do to
 * each other: nothing but share the node.
 */
public abstract class RegistryLimitsContract {

  /** The most heap a registry may retain for the junk of {@link #junk()}, in bytes. */
  static final long RETAINED_BOUND_BYTES = 6L << 20;

  /** Junk nodes at the datasource depth, read (their length) and tracked by the agent. */
  static final int JUNK_DATASOURCES = 1_000;

  /** Junk nodes deeper than a datasource node, never read. */
  static final int JUNK_DEEPER = 9_000;

  /** Each junk node's value: longer than any valid value. */
  static final int JUNK_VALUE_BYTES = 2048;

  /** A backend as an operator and a test see it. */
  public interface Backend extends AutoCloseable {
    RegistryCenter newRegistry(RegistryPaths paths, String instancePath);

    /** Creates or overwrites these persistent nodes, creating parents as needed. */
    void write(Map<String, byte[]> nodes) throws Exception;

    /** Writes a node that exists, as {@code zkCli set} or {@code etcdctl put} does. */
    void set(String path, String value) throws Exception;

    /** The value, or {@code null} when there is no node. */
    String get(String path) throws Exception;

    /**
     * Identifies one incarnation of the node and its owner: its creation (ZooKeeper czxid, etcd
     * create revision) and its session or lease; {@code null} when there is no node.
     */
    String incarnation(String path) throws Exception;

    /** The size of the largest value the backend accepts, near what this test writes. */
    int largeValueBytes();
  }

  private final List<RegistryCenter> started = new ArrayList<>();
  final String namespace = "limits-" + UUID.randomUUID().toString().substring(0, 8);

  protected abstract Backend backend();

  @AfterEach
  void closeRegistriesThenBackend() throws Exception {
    started.forEach(RegistryCenter::close);
    backend().close();
  }

  RegistryCenter start(RegistryPaths paths, String instancePath, RegistryContract.Heard heard)
      throws InterruptedException {
    RegistryCenter r = backend().newRegistry(paths, instancePath);
    started.add(r);
    r.start(heard);
    assertTrue(r.awaitInitialSync(120_000), "initial sync of " + instancePath);
    return r;
  }

  private static byte[] filled(int bytes, char c) {
    byte[] b = new byte[bytes];
    Arrays.fill(b, (byte) c);
    return b;
  }

  /** 10,000 junk nodes of 2 KiB and four multi-megabyte values, at and below the datasources. */
  Map<String, byte[]> junk(RegistryPaths paths) {
    Map<String, byte[]> nodes = new LinkedHashMap<>();
    String root = paths.datasourcesRoot();
    for (int i = 0; i < JUNK_DATASOURCES; i++) {
      nodes.put(root + "/junk/j" + i, filled(JUNK_VALUE_BYTES, 'j'));
    }
    for (int i = 0; i < JUNK_DEEPER; i++) {
      nodes.put(root + "/deep/d" + (i % 10) + "/x" + i, filled(JUNK_VALUE_BYTES, 'x'));
    }
    int large = backend().largeValueBytes();
    for (int i = 0; i < 3; i++) {
      nodes.put(root + "/big/b" + i, filled(large, 'b'));
    }
    nodes.put(root + "/deep/d0/big", filled(large, 'B'));
    return nodes;
  }

  /** The used heap after collections, once it no longer shrinks. */
  static long retainedHeap() throws InterruptedException {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(50); // lets a concurrent collector's cycle end; the minimum is taken anyway
      best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return best;
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private String value(String path) {
    try {
      return backend().get(path);
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }

  private String incarnation(String path) {
    try {
      return backend().incarnation(path);
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }

  private boolean setIfPresent(String path, String value) {
    try {
      backend().set(path, value);
      return true;
    } catch (Exception absent) {
      return false; // re-created in a moment
    }
  }

  @Test
  void junkUnderTheNamespaceNeitherFillsTheHeapNorStopsTheSync() throws Exception {
    RegistryPaths paths = RegistryLayout.V5.paths(namespace, "app");
    String orders = paths.datasourcePath("shop", "orders");
    String stock = paths.datasourcePath("shop", "stock");
    Map<String, byte[]> nodes = junk(paths);
    long junkBytes = nodes.values().stream().mapToLong(b -> b.length).sum();
    nodes.put(orders, "DISABLED".getBytes(StandardCharsets.UTF_8));
    nodes.put(stock, new byte[0]);
    backend().write(nodes);
    nodes = null;

    long before = retainedHeap();
    RegistryContract.Heard heard = new RegistryContract.Heard();
    String instancePath = paths.instancePath(new InstanceId("10.0.0.9", 4711, "limits"));
    long started = System.nanoTime();
    RegistryCenter r = start(paths, instancePath, heard);
    long syncMs = (System.nanoTime() - started) / 1_000_000;
    long retained = retainedHeap() - before;
    System.err.printf(
        "%s synced in %d ms and retains %d KiB after syncing %d nodes holding %d KiB (bound %d"
            + " KiB)%n",
        r.backend(),
        syncMs,
        retained >> 10,
        JUNK_DATASOURCES + JUNK_DEEPER + 6,
        junkBytes >> 10,
        RETAINED_BOUND_BYTES >> 10);

    // The DISABLED datanode amid the junk is in force, and the sync and registration work.
    heard.awaitDatasource(orders, "DISABLED", 60);
    await("registered", () -> "".equals(value(instancePath)));
    backend().set(instancePath, "DISABLED");
    await("instance DISABLED heard", () -> heard.instance.contains("DISABLED"));
    backend().set(stock, "DISABLED");
    heard.awaitDatasource(stock, "DISABLED", 60);
    assertTrue(
        retained < RETAINED_BOUND_BYTES,
        "retained " + (retained >> 10) + " KiB for " + (junkBytes >> 10) + " KiB of junk");
  }

  @Test
  void twoJvmsWithOneLegacyIdShareTheNodeAndObeyIt() throws Exception {
    RegistryPaths paths = RegistryLayout.LEGACY.paths(namespace, "app");
    // PID 1 on one host IP: two containers on host networking.
    String path = paths.instancePath(new InstanceId("10.0.0.9", 1, "unused"));
    assertTrue(path.endsWith("/10.0.0.9@-@1"), path);
    int warnings = CapturedLogs.count(path + " is ");

    RegistryContract.Heard first = new RegistryContract.Heard();
    start(paths, path, first);
    await("first registered", () -> "".equals(value(path)));
    String owner = incarnation(path);

    RegistryContract.Heard second = new RegistryContract.Heard();
    RegistryCenter secondRegistry = start(paths, path, second);
    await("the second heard the node", () -> second.instance.contains(""));

    await("DISABLED written", () -> setIfPresent(path, "DISABLED"));
    await("first DISABLED", () -> first.instance.contains("DISABLED"));
    await("second DISABLED", () -> second.instance.contains("DISABLED"));
    first.instance.clear();
    second.instance.clear();

    // No delete or take-over loop: for a while nothing changes, and both stay DISABLED in the
    // node the first created.
    assertNull(first.instance.poll(3, TimeUnit.SECONDS), "the first heard a change");
    assertNull(second.instance.poll(0, TimeUnit.SECONDS), "the second heard a change");
    assertEquals("DISABLED", value(path));
    assertEquals(owner, incarnation(path), "the node was taken over or re-created");
    String disabled = owner;
    assertEquals(1, CapturedLogs.count(path + " is ") - warnings, "one warning");

    // The owner ends: the other JVM keeps DISABLED and puts the node back with it.
    RegistryCenter firstRegistry = started.remove(0);
    firstRegistry.close();
    await(
        "the second re-created the node DISABLED",
        () -> "DISABLED".equals(value(path)) && !disabled.equals(incarnation(path)));
    assertTrue(incarnation(path).contains(secondRegistry.sessionId().substring(2)));
    assertTrue(
        second.instance.stream().noneMatch(v -> v.isEmpty() || v.equals("<deleted>")),
        "the second was enabled: " + second.instance);
  }
}
