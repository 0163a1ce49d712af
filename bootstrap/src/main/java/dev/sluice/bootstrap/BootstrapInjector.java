package dev.sluice.bootstrap;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.security.ProtectionDomain;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts the bridge classes on the bootstrap class loader, where advice in every class loader can
 * reach them. They are stored in the agent jar under {@code boot/} as {@code .classdata}, so no
 * other class loader can find them by name.
 *
 * <p>They are defined directly in the boot loader ({@code jdk.internal.misc.Unsafe.defineClass}
 * with no class loader, the package exported to this class alone through {@link
 * Instrumentation#redefineModule}), not by appending a jar to the bootstrap class path: the JVM
 * answers an appended boot class path by turning class data sharing off for every class outside the
 * boot loader ("Sharing is only supported for boot loader classes because bootstrap classpath has
 * been appended"), which would cost an application started from its own CDS archive its start-up.
 * Appending stays as the fallback for a JVM without that method.
 */
final class BootstrapInjector {

  static final String PREFIX = "boot/";
  static final String SUFFIX = ".classdata";

  private BootstrapInjector() {}

  /**
   * Defines the bridge classes in the boot loader; returns {@code null}, or the reason they were
   * appended to the boot class path instead.
   */
  static String inject(Instrumentation inst, File agentJar) throws IOException {
    Map<String, byte[]> classes = bridgeClasses(agentJar);
    try {
      defineInBootLoader(inst, classes);
      return null;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      Throwable cause = e instanceof InvocationTargetException ? e.getCause() : e;
      if (anyDefined(classes)) {
        throw new IllegalStateException("the bridge is half defined: " + cause, cause);
      }
      inst.appendToBootstrapClassLoaderSearch(new JarFile(bridgeJar(classes)));
      return cause.toString();
    }
  }

  /**
   * The bridge classes, super types first: named here rather than found by walking the jar's
   * entries (thousands) during {@code premain}. {@code BootstrapLinkageTest} checks that every
   * class of the package but the launcher's is named.
   */
  static final String[] BRIDGE = {
    "dev.sluice.bootstrap.ConnectionGovernor",
    "dev.sluice.bootstrap.SluiceBridge",
    "dev.sluice.bootstrap.SluiceBridge$AllowAll",
    "dev.sluice.bootstrap.SluiceBridge$Holding",
    "dev.sluice.bootstrap.SluiceBridge$Connects",
  };

  /** Binary name to class file, from the {@code boot/} entries of the agent jar. */
  static Map<String, byte[]> bridgeClasses(File agentJar) throws IOException {
    Map<String, byte[]> classes = new LinkedHashMap<>();
    try (JarFile jar = new JarFile(agentJar, false)) {
      for (String name : BRIDGE) {
        JarEntry entry = jar.getJarEntry(PREFIX + name.replace('.', '/') + SUFFIX);
        if (entry == null) {
          throw new IOException(agentJar + " holds no bridge class " + name + " under " + PREFIX);
        }
        try (InputStream in = jar.getInputStream(entry)) {
          classes.put(name, in.readAllBytes());
        }
      }
    }
    return classes;
  }

  private static void defineInBootLoader(Instrumentation inst, Map<String, byte[]> classes)
      throws ReflectiveOperationException {
    Module base = Object.class.getModule();
    inst.redefineModule(
        base,
        Set.of(),
        Map.of("jdk.internal.misc", Set.of(BootstrapInjector.class.getModule())),
        Map.of(),
        Set.of(),
        Map.of());
    Class<?> unsafeType = Class.forName("jdk.internal.misc.Unsafe");
    Object unsafe = unsafeType.getMethod("getUnsafe").invoke(null);
    Method define =
        unsafeType.getMethod(
            "defineClass",
            String.class,
            byte[].class,
            int.class,
            int.class,
            ClassLoader.class,
            ProtectionDomain.class);
    // in the order of BRIDGE, super types first (BootstrapLinkageTest checks the order)
    for (Map.Entry<String, byte[]> c : classes.entrySet()) {
      byte[] bytes = c.getValue();
      define.invoke(unsafe, c.getKey(), bytes, 0, bytes.length, null, null);
    }
  }

  /** Whether any of the classes is in the boot loader already (a define failed halfway). */
  private static boolean anyDefined(Map<String, byte[]> classes) {
    for (String name : classes.keySet()) {
      try {
        Class.forName(name, false, null);
        return true;
      } catch (ClassNotFoundException expected) {
        // not defined
      }
    }
    return false;
  }

  /** The bridge classes as a jar of their own, in the temporary directory, for appending. */
  private static File bridgeJar(Map<String, byte[]> classes) throws IOException {
    File jar = Files.createTempFile("sluice-bridge-", ".jar").toFile();
    jar.deleteOnExit();
    try (OutputStream file = Files.newOutputStream(jar.toPath());
        JarOutputStream out = new JarOutputStream(file)) {
      for (Map.Entry<String, byte[]> c : classes.entrySet()) {
        out.putNextEntry(new JarEntry(c.getKey().replace('.', '/') + ".class"));
        out.write(c.getValue());
        out.closeEntry();
      }
    }
    return jar;
  }
}
