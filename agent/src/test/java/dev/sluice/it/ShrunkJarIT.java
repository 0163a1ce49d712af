package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.bootstrap.AgentClassLoader;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent jar ships only the classes of its relocated libraries that something reaches (ProGuard,
 * see agent/proguard.pro), with stack map frames that ProGuard computes again. Every class it ships
 * links (loads, resolves its supertypes and passes the verifier) wherever it linked in the
 * relocated jar it was made from, each from where the agent loads it: {@code inst/} with the
 * agent's class loader, {@code inst/etcd.jar} with a child of it.
 */
class ShrunkJarIT {

  private static final String PREFIX = "inst/";
  private static final String SUFFIX = ".classdata";

  @Test
  void everyShippedClassLinksAsItDidBeforeShrinking(@TempDir Path dir) throws Exception {
    Path agentJar = AppProcess.agentJar();
    AgentClassLoader agent =
        new AgentClassLoader(agentJar.toFile(), ClassLoader.getPlatformClassLoader());
    Path etcdJar = dir.resolve("etcd.jar");
    try (InputStream in = agent.getResourceAsStream("etcd.jar")) {
      Files.copy(in, etcdJar);
    }
    AgentClassLoader etcd = new AgentClassLoader(etcdJar.toFile(), agent);

    Map<String, String> after = new TreeMap<>();
    List<String> shipped = new ArrayList<>();
    for (String name : classNames(agentJar)) {
      shipped.add(name);
      link(name, agent, after);
    }
    for (String name : classNames(etcdJar)) {
      shipped.add(name);
      link(name, etcd, after);
    }
    assertTrue(shipped.size() > 5_000, "classes shipped: " + shipped.size());

    Map<String, String> before = new TreeMap<>();
    try (URLClassLoader relocated =
        new URLClassLoader(
            new URL[] {relocatedJar(agentJar).toUri().toURL()},
            ClassLoader.getPlatformClassLoader())) {
      for (String name : after.keySet()) {
        link(name, relocated, before);
      }
    }
    after.keySet().removeAll(before.keySet());
    assertEquals(
        Map.of(), after, "classes that link in the relocated jar but not in the agent jar");
  }

  /** The names of the classes under {@code inst/} of a jar, launcher and bridge left aside. */
  private static List<String> classNames(Path jar) throws Exception {
    List<String> names = new ArrayList<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
        String entry = e.nextElement().getName();
        if (entry.startsWith(PREFIX) && entry.endsWith(SUFFIX)) {
          names.add(
              entry.substring(PREFIX.length(), entry.length() - SUFFIX.length()).replace('/', '.'));
        }
      }
    }
    return names;
  }

  private static void link(String name, ClassLoader loader, Map<String, String> failures) {
    try {
      Class<?> type = Class.forName(name, false, loader);
      // reflection links the class: the verifier runs over every method
      type.getDeclaredFields();
      type.getDeclaredMethods();
      type.getDeclaredConstructors();
    } catch (LinkageError | ClassNotFoundException e) {
      failures.put(name, e.toString().split("\n")[0]);
    }
  }

  private static Path relocatedJar(Path agentJar) throws Exception {
    try (DirectoryStream<Path> jars =
        Files.newDirectoryStream(agentJar.getParent(), "sluice-agent-*-relocated.jar")) {
      for (Path jar : jars) {
        return jar;
      }
    }
    throw new AssertionError("no relocated jar next to " + agentJar);
  }
}
