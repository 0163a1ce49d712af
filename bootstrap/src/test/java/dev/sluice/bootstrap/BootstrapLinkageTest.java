package dev.sluice.bootstrap;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bridge is appended to the bootstrap class path at run time, where only the boot layer's
 * modules are visible ({@code java.sql} is not among them). Every bridge class must link there.
 */
class BootstrapLinkageTest {

  private static final List<Class<?>> BRIDGE =
      List.of(
          SluiceBridge.class,
          ConnectionGovernor.class,
          AgentLauncher.class,
          AgentClassLoader.class,
          BootstrapInjector.class);

  @Test
  void everyBridgeClassLinksAgainstTheBootLayerAlone() throws Exception {
    URL classes = SluiceBridge.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader bootOnly = new URLClassLoader(new URL[] {classes}, null)) {
      for (Class<?> type : BRIDGE) {
        Class<?> loaded = Class.forName(type.getName(), true, bootOnly);
        assertDoesNotThrow(loaded::getDeclaredMethods, type.getName());
        assertDoesNotThrow(loaded::getDeclaredFields, type.getName());
      }
      Class<?> bridge = Class.forName(SluiceBridge.class.getName(), true, bootOnly);
      Object entered =
          bridge
              .getMethod("enterConnect", Object.class, String.class, Object.class)
              .invoke(null, null, "jdbc:x:y", null);
      assertNull(
          bridge
              .getMethod("exitConnect", Object.class, String.class, Object.class)
              .invoke(null, entered, "jdbc:x:y", null));
    }
  }

  @Test
  void theInjectorNamesEveryBridgeClassSuperTypesFirst() throws Exception {
    java.nio.file.Path dir =
        java.nio.file.Paths.get(
                SluiceBridge.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .resolve("dev/sluice/bootstrap");
    java.util.Set<String> found = new java.util.TreeSet<>();
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
      files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".class"))
          .map(n -> "dev.sluice.bootstrap." + n.substring(0, n.length() - 6))
          .filter(
              n ->
                  !n.startsWith("dev.sluice.bootstrap.AgentLauncher")
                      && !n.startsWith("dev.sluice.bootstrap.AgentClassLoader")
                      && !n.startsWith("dev.sluice.bootstrap.BootstrapInjector"))
          .forEach(found::add);
    }
    assertEquals(found, new java.util.TreeSet<>(List.of(BootstrapInjector.BRIDGE)));
    // each class's super types come before it
    List<String> order = List.of(BootstrapInjector.BRIDGE);
    for (String name : order) {
      Class<?> type = Class.forName(name, false, getClass().getClassLoader());
      List<Class<?>> supers = new java.util.ArrayList<>(List.of(type.getInterfaces()));
      if (type.getSuperclass() != null) {
        supers.add(type.getSuperclass());
      }
      for (Class<?> s : supers) {
        if (order.contains(s.getName())) {
          assertTrue(order.indexOf(s.getName()) < order.indexOf(name), name + " before " + s);
        }
      }
    }
  }
}
