package dev.sluice.instrumentation;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;

/**
 * The super types of classes, read from their class files through a class loader: no class is
 * loaded, so deciding whether a class needs the advice never runs or links the application's code.
 * Each header is read once per JVM (the JDK's types) or once per class loader (the others, kept as
 * long as their loader lives): the classes a pool's or a driver's types extend are mostly the same
 * few. A type whose package belongs to a module of the JDK is read through the platform loader
 * alone; any other through its own loader alone, not first through the platform loader.
 */
final class ClassHierarchy {

  /** A class file's name, super class, interfaces and whether it is an interface. */
  static final class Header {
    final String superName;
    final String[] interfaces;
    final boolean isInterface;

    Header(String superName, String[] interfaces, boolean isInterface) {
      this.superName = superName;
      this.interfaces = interfaces;
      this.isInterface = isInterface;
    }
  }

  /** A type whose class file could not be found or read. */
  static final class Unresolvable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unresolvable(String internalName) {
      super("no class file for " + internalName.replace('/', '.'), null, false, false);
    }
  }

  private static final ClassLoader PLATFORM = ClassLoader.getPlatformClassLoader();
  private static final Map<String, Header> JDK = new ConcurrentHashMap<>();
  private static final Map<String, Boolean> JDK_PACKAGES = new ConcurrentHashMap<>();
  private static final Map<ClassLoader, Map<String, Header>> BY_LOADER =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final ClassLoader loader;
  private final String internalName;
  private final Header own;
  private final Map<String, Header> headers;
  private final Set<String> missing = new HashSet<>(); // for this class only: may come later

  /**
   * @param loader the loader that defines the woven class ({@code null}: the boot loader)
   * @param internalName the woven class, read from {@code classFile} rather than its loader
   */
  ClassHierarchy(ClassLoader loader, String internalName, byte[] classFile) {
    this.loader = loader == null ? PLATFORM : loader;
    this.internalName = internalName;
    this.own = read(classFile);
    this.headers = BY_LOADER.computeIfAbsent(this.loader, l -> new ConcurrentHashMap<>());
  }

  private static Header read(byte[] classFile) {
    ClassReader reader = new ClassReader(classFile);
    return new Header(
        reader.getSuperName(),
        reader.getInterfaces(),
        (reader.getAccess() & Opcodes.ACC_INTERFACE) != 0);
  }

  /** The type's header, or {@code null} when its class file cannot be found. */
  Header header(String type) {
    if (type.equals(internalName)) {
      return own; // being defined: what its loader would find may be another version
    }
    Header h = headers.get(type);
    if (h == null) {
      h = JDK.get(type);
    }
    if (h != null || missing.contains(type)) {
      return h;
    }
    boolean jdk = inJdkModule(type);
    String resource = type + ".class";
    byte[] bytes = jdk ? bytes(PLATFORM, resource) : null;
    if (bytes != null) {
      h = read(bytes);
      JDK.put(type, h);
      return h;
    }
    // not the JDK's, or in a module of the JDK that the application loader defines
    bytes = bytes(loader, resource);
    if (bytes == null) {
      missing.add(type); // not kept for the loader: an optional dependency may be added later
      return null;
    }
    h = read(bytes);
    headers.put(type, h);
    return h;
  }

  /** Whether the type's package belongs to a module of the JDK (java.sql, java.base, ...). */
  private static boolean inJdkModule(String type) {
    int slash = type.lastIndexOf('/');
    String pkg = slash < 0 ? "" : type.substring(0, slash).replace('/', '.');
    return JDK_PACKAGES.computeIfAbsent(
        pkg,
        p -> {
          for (Module m : ModuleLayer.boot().modules()) {
            if (m.getPackages().contains(p)) {
              return true;
            }
          }
          return false;
        });
  }

  private static byte[] bytes(ClassLoader loader, String resource) {
    try (InputStream in = loader.getResourceAsStream(resource)) {
      return in == null ? null : in.readAllBytes();
    } catch (IOException | RuntimeException unreadable) {
      return null;
    }
  }

  /**
   * Whether {@code type} is one of {@code targets} or has one among its super types. A part of the
   * hierarchy that cannot be read (an optional dependency missing) cannot make it one.
   */
  boolean isSubtypeOf(String type, Set<String> targets) {
    Deque<String> todo = new ArrayDeque<>();
    Set<String> seen = new HashSet<>();
    todo.add(type);
    while (!todo.isEmpty()) {
      String t = todo.poll();
      if (!seen.add(t)) {
        continue;
      }
      if (targets.contains(t)) {
        return true;
      }
      Header h = header(t);
      if (h == null) {
        continue;
      }
      if (h.superName != null) {
        todo.add(h.superName);
      }
      for (String i : h.interfaces) {
        todo.add(i);
      }
    }
    return false;
  }

  /** Whether the method descriptor's return type is one of {@code targets} or a subtype of one. */
  boolean returnsSubtypeOf(String methodDescriptor, Set<String> targets) {
    int close = methodDescriptor.indexOf(')');
    if (methodDescriptor.charAt(close + 1) != 'L') {
      return false;
    }
    String returned = methodDescriptor.substring(close + 2, methodDescriptor.length() - 1);
    return isSubtypeOf(returned, targets);
  }

  /**
   * The most specific common super class of two classes, for stack map frames, as the verifier sees
   * it: an interface counts as {@code java.lang.Object}.
   *
   * @throws Unresolvable when a class file on the way is missing: the class is then left alone
   */
  String commonSuperClass(String a, String b) {
    if (a.equals(b)) {
      return a;
    }
    List<String> chainA = superClasses(a);
    List<String> chainB = superClasses(b);
    if (chainA == null || chainB == null) {
      return "java/lang/Object";
    }
    for (String s : chainA) {
      if (chainB.contains(s)) {
        return s;
      }
    }
    return "java/lang/Object";
  }

  /** The class and its super classes, or {@code null} for an interface. */
  private List<String> superClasses(String type) {
    List<String> chain = new ArrayList<>();
    for (String t = type; t != null; ) {
      Header h = header(t);
      if (h == null) {
        throw new Unresolvable(t);
      }
      if (h.isInterface) {
        return null;
      }
      chain.add(t);
      t = h.superName;
    }
    return chain;
  }
}
