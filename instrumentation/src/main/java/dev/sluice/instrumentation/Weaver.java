package dev.sluice.instrumentation;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Decides which methods of a class file get which advice, and weaves it in with ASM. The advice is
 * woven into the methods as they are: no field, method or interface is added or removed, so other
 * agents can retransform the same classes before or after Sluice.
 *
 * <p>What is advised, each only in concrete, non-bridge instance methods (a compiler's bridge
 * method only calls the method that does the work, so each call is governed once):
 *
 * <ul>
 *   <li>{@code connect(String, Properties)} returning a {@code java.sql.Connection} (or a subtype)
 *       in a {@code java.sql.Driver};
 *   <li>{@code getConnection()} and {@code getConnection(String, String)} returning a connection in
 *       a {@code javax.sql.DataSource}, or in a class named like one (a pool's method may live in a
 *       base class that is no {@code DataSource} itself; the advice then checks {@code instanceof
 *       DataSource} at run time), but not in statements, metadata, result sets, connections or
 *       pooled connections; and the constructors of such a class;
 *   <li>{@code getXAConnection} and {@code getPooledConnection}, without arguments or with {@code
 *       (String, String)}, returning a {@code javax.sql.PooledConnection} in an {@code
 *       XADataSource} or a {@code ConnectionPoolDataSource};
 *   <li>{@code getConnection()} returning a connection in a {@code javax.sql.PooledConnection}.
 * </ul>
 *
 * The return type may be any subtype (a covariant override such as {@code DruidPooledConnection
 * getConnection()}). Super types are read from class files ({@link ClassHierarchy}); nothing is
 * loaded.
 */
final class Weaver {

  private static final String CONNECT_DESCRIPTOR_PREFIX =
      "(Ljava/lang/String;Ljava/util/Properties;)";
  private static final String NO_ARGUMENTS_PREFIX = "()";
  private static final String CREDENTIALS_PREFIX = "(Ljava/lang/String;Ljava/lang/String;)";

  private static final Set<String> CONNECTION = Set.of("java/sql/Connection");
  private static final Set<String> POOLED_CONNECTION = Set.of("javax/sql/PooledConnection");
  private static final Set<String> DRIVER = Set.of("java/sql/Driver");
  private static final Set<String> DATA_SOURCE = Set.of("javax/sql/DataSource");
  private static final Set<String> POOLED_SOURCES =
      Set.of("javax/sql/XADataSource", "javax/sql/ConnectionPoolDataSource");
  private static final Set<String> NOT_DATA_SOURCES =
      Set.of(
          "java/sql/Statement",
          "java/sql/DatabaseMetaData",
          "java/sql/Connection",
          "java/sql/ResultSet",
          "javax/sql/PooledConnection");

  /** A method of the class file: name, descriptor and access flags. */
  private static final class Method {
    final String name;
    final String descriptor;
    final int access;

    Method(String name, String descriptor, int access) {
      this.name = name;
      this.descriptor = descriptor;
      this.access = access;
    }

    boolean concreteInstance() {
      return (access
              & (Opcodes.ACC_STATIC
                  | Opcodes.ACC_ABSTRACT
                  | Opcodes.ACC_NATIVE
                  | Opcodes.ACC_BRIDGE))
          == 0;
    }

    String key() {
      return name + descriptor;
    }
  }

  /**
   * The class file with the advice woven in, or {@code null} when none applies. The type's super
   * types are read as class files through {@code loader}, never loaded.
   *
   * @throws ClassHierarchy.Unresolvable when the stack map frames of an advised method need a class
   *     file that cannot be found: the class is then left as it is
   */
  byte[] weave(ClassLoader loader, String internalName, byte[] classFile) {
    ClassReader reader = new ClassReader(classFile);
    int access = reader.getAccess();
    if ((access & (Opcodes.ACC_INTERFACE | Opcodes.ACC_SYNTHETIC)) != 0) {
      return null;
    }
    List<Method> methods = new ArrayList<>();
    reader.accept(
        new ClassVisitor(Opcodes.ASM9) {
          @Override
          public MethodVisitor visitMethod(
              int access, String name, String descriptor, String signature, String[] exceptions) {
            methods.add(new Method(name, descriptor, access));
            return null;
          }
        },
        ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    ClassHierarchy hierarchy = new ClassHierarchy(loader, internalName, classFile);
    Map<String, AdviceKind> advice = advice(internalName, methods, hierarchy);
    if (advice.isEmpty()) {
      return null;
    }
    Map<String, Integer> maxLocals = maxLocals(reader, advice);
    boolean frames = (reader.readUnsignedShort(6) & 0xffff) >= Opcodes.V1_6;
    ClassWriter writer =
        new ClassWriter(reader, frames ? ClassWriter.COMPUTE_FRAMES : ClassWriter.COMPUTE_MAXS) {
          @Override
          protected String getCommonSuperClass(String type1, String type2) {
            return hierarchy.commonSuperClass(type1, type2);
          }
        };
    reader.accept(
        new ClassVisitor(Opcodes.ASM9, writer) {
          @Override
          public MethodVisitor visitMethod(
              int access, String name, String descriptor, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
            AdviceKind kind = advice.get(name + descriptor);
            if (kind == null || mv == null) {
              return mv;
            }
            return new AdviceWriter(mv, kind, descriptor, maxLocals.get(name + descriptor));
          }
        },
        0);
    return writer.toByteArray();
  }

  /** Which advice goes into which method ({@code name + descriptor}); empty for none. */
  private static Map<String, AdviceKind> advice(
      String internalName, List<Method> methods, ClassHierarchy hierarchy) {
    List<Method> connects = new ArrayList<>();
    List<Method> borrows = new ArrayList<>();
    List<Method> credentialBorrows = new ArrayList<>();
    List<Method> pooledOpens = new ArrayList<>();
    boolean hasConstructor = false;
    for (Method m : methods) {
      if (m.name.equals("<init>")) {
        hasConstructor = true;
      }
      if (!m.concreteInstance()) {
        continue;
      }
      String d = m.descriptor;
      switch (m.name) {
        case "connect":
          if (d.startsWith(CONNECT_DESCRIPTOR_PREFIX)) {
            connects.add(m);
          }
          break;
        case "getConnection":
          if (d.startsWith(NO_ARGUMENTS_PREFIX)) {
            borrows.add(m);
          } else if (d.startsWith(CREDENTIALS_PREFIX)) {
            credentialBorrows.add(m);
          }
          break;
        case "getXAConnection":
        case "getPooledConnection":
          if (d.startsWith(NO_ARGUMENTS_PREFIX) || d.startsWith(CREDENTIALS_PREFIX)) {
            pooledOpens.add(m);
          }
          break;
        default:
          break;
      }
    }
    Map<String, AdviceKind> advice = new HashMap<>();
    // the methods' names and descriptors are cheap tests; the hierarchy is read last
    connects.removeIf(m -> !hierarchy.returnsSubtypeOf(m.descriptor, CONNECTION));
    if (!connects.isEmpty() && hierarchy.isSubtypeOf(internalName, DRIVER)) {
      connects.forEach(m -> advice.put(m.key(), AdviceKind.CONNECT));
    }
    borrows.removeIf(m -> !hierarchy.returnsSubtypeOf(m.descriptor, CONNECTION));
    credentialBorrows.removeIf(m -> !hierarchy.returnsSubtypeOf(m.descriptor, CONNECTION));
    if (!borrows.isEmpty() || !credentialBorrows.isEmpty()) {
      boolean pooledConnection = hierarchy.isSubtypeOf(internalName, POOLED_CONNECTION);
      if (pooledConnection) {
        borrows.forEach(m -> advice.put(m.key(), AdviceKind.HANDLE));
      } else if ((internalName.contains("DataSource")
              || hierarchy.isSubtypeOf(internalName, DATA_SOURCE))
          && !hierarchy.isSubtypeOf(internalName, NOT_DATA_SOURCES)) {
        borrows.forEach(m -> advice.put(m.key(), AdviceKind.BORROW));
        credentialBorrows.forEach(m -> advice.put(m.key(), AdviceKind.CREDENTIALS_BORROW));
        if (hasConstructor) {
          for (Method m : methods) {
            if (m.name.equals("<init>")) {
              advice.put(m.key(), AdviceKind.CREATED);
            }
          }
        }
      }
    }
    pooledOpens.removeIf(m -> !hierarchy.returnsSubtypeOf(m.descriptor, POOLED_CONNECTION));
    if (!pooledOpens.isEmpty() && hierarchy.isSubtypeOf(internalName, POOLED_SOURCES)) {
      pooledOpens.forEach(m -> advice.put(m.key(), AdviceKind.OPEN_POOLED));
    }
    return advice;
  }

  /** The {@code max_locals} of the advised methods: the advice's own locals come after them. */
  private static Map<String, Integer> maxLocals(
      ClassReader reader, Map<String, AdviceKind> advice) {
    Map<String, Integer> maxLocals = new HashMap<>();
    reader.accept(
        new ClassVisitor(Opcodes.ASM9) {
          @Override
          public MethodVisitor visitMethod(
              int access, String name, String descriptor, String signature, String[] exceptions) {
            String key = name + descriptor;
            if (!advice.containsKey(key)) {
              return null;
            }
            return new MethodVisitor(Opcodes.ASM9) {
              @Override
              public void visitMaxs(int maxStack, int locals) {
                maxLocals.put(key, locals);
              }
            };
          }
        },
        ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    return maxLocals;
  }

  /**
   * Weaves the advice into sample classes once, so that the classes and code the weaver needs are
   * loaded here in the background and not on the application's first JDBC class. The samples are
   * read as class files only, never loaded: no class of the agent's implements {@code
   * java.sql.Driver} in the application's JVM.
   */
  void warmUp() throws IOException {
    ClassLoader loader = Weaver.class.getClassLoader();
    for (String sample : WarmUp.SAMPLES) {
      String internalName = sample.replace('.', '/');
      byte[] classFile;
      try (InputStream in = loader.getResourceAsStream(internalName + ".class")) {
        if (in == null) {
          throw new IOException("no class file for " + sample);
        }
        classFile = in.readAllBytes();
      }
      if (weave(loader, internalName, classFile) == null) {
        throw new IllegalStateException(sample + " matched no instrumentation");
      }
    }
  }
}
