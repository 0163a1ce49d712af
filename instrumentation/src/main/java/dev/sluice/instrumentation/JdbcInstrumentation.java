package dev.sluice.instrumentation;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.pool.TypePool;

/**
 * Installs the JDBC advice. Advice is inlined into the class file as it is ({@code decorate}: no
 * field, method or interface is added or removed), so other agents can retransform the same classes
 * before or after Sluice.
 *
 * <p>Start-up cost is kept off the application's path in three ways. A byte scan comes first: only
 * a class file declaring a concrete {@code connect(String, Properties)} or {@code getConnection()}
 * returning {@code java.sql.Connection} goes on to Byte Buddy, every other class is passed over
 * without parsing. Byte Buddy is set up on a daemon thread while the application starts, and warmed
 * up there on two sample classes: a candidate class loaded before it is ready waits for it, and
 * classes loaded before the agent (a late attach, or the start-up window) are retransformed once it
 * is. And Byte Buddy's {@code AgentBuilder} is not used: its set-up generates and loads a class of
 * its own, which cost about 250 ms of the application's start-up; the {@link Weaver} does the one
 * thing needed, matching a class file and weaving the advice in.
 */
public final class JdbcInstrumentation {

  /** The instrumentations Sluice applies. */
  public static final List<TypeInstrumentation> ALL =
      List.of(new DriverInstrumentation(), new DataSourceInstrumentation());

  /** How long a class that needs the advice waits for Byte Buddy to be set up. */
  static final long READY_TIMEOUT_SECONDS = 30;

  private static final byte[] CONNECTION = "java/sql/Connection".getBytes(StandardCharsets.UTF_8);
  private static final String[] IGNORED_PREFIXES = {
    "java/", "jdk/", "sun/", "com/sun/", "net/bytebuddy/", "dev/sluice/shaded/"
  };

  private JdbcInstrumentation() {}

  /** The installed instrumentation. */
  public static final class Installed {
    private final Instrumentation inst;
    private final ClassLoader ownLoader;
    private final ClassFileTransformer filter;
    private final CompletableFuture<Void> ready;

    Installed(
        Instrumentation inst,
        ClassLoader ownLoader,
        ClassFileTransformer filter,
        CompletableFuture<Void> ready) {
      this.inst = inst;
      this.ownLoader = ownLoader;
      this.filter = filter;
      this.ready = ready;
    }

    /** Completes when the advice is in place, already loaded classes included. */
    public CompletableFuture<Void> ready() {
      return ready;
    }

    /** Removes the advice from every class. */
    public void uninstall() {
      inst.removeTransformer(filter);
      retransformCandidates(inst, ownLoader, (type, e) -> {});
    }
  }

  /**
   * Installs the advice; Byte Buddy is set up in the background.
   *
   * @param ownLoader the agent's own class loader, whose classes are never instrumented; {@code
   *     null} when the agent shares the application's (tests)
   * @param onError told once per class that could not be instrumented (class name, cause)
   * @param onTransformed told of each class instrumented (class name, class loader)
   */
  public static Installed install(
      Instrumentation inst,
      ClassLoader ownLoader,
      BiConsumer<String, Throwable> onError,
      BiConsumer<String, ClassLoader> onTransformed) {
    CompletableFuture<Weaver> weaver = new CompletableFuture<>();
    CompletableFuture<Void> ready = new CompletableFuture<>();
    ConnectionFilter filter = new ConnectionFilter(weaver, ownLoader, onError, onTransformed);
    Thread builder =
        new Thread(
            () -> {
              try {
                Weaver w = new Weaver();
                try {
                  w.warmUp();
                } catch (Exception e) {
                  onError.accept("(warm-up samples; start-up is slower)", e);
                }
                weaver.complete(w);
                retransformCandidates(inst, ownLoader, onError);
                ready.complete(null);
              } catch (Throwable t) {
                weaver.completeExceptionally(t);
                ready.completeExceptionally(t);
                onError.accept("(all JDBC classes)", t);
              }
            },
            "sluice-instrumentation");
    builder.setDaemon(true);
    // Classes the builder loads while setting up must not wait for what it sets up.
    filter.builder = builder;
    inst.addTransformer(filter, true);
    builder.start();
    return new Installed(inst, ownLoader, filter, ready);
  }

  /** Byte Buddy, set up to weave the advice of {@link #ALL} into a class file. */
  static final class Weaver {
    private final ByteBuddy byteBuddy =
        new ByteBuddy()
            .with(TypeValidation.DISABLED)
            .with(Implementation.Context.Disabled.Factory.INSTANCE);
    private final List<AsmVisitorWrapper> advice = new ArrayList<>();

    Weaver() {
      for (TypeInstrumentation instrumentation : ALL) {
        advice.add(Advice.to(instrumentation.adviceClass()).on(instrumentation.methodMatcher()));
      }
    }

    /**
     * The class file with the advice woven in, or {@code null} when no instrumentation applies. The
     * type and its super types are read as class files through {@code loader}, never loaded.
     */
    byte[] weave(ClassLoader loader, String internalName, byte[] classFile) {
      String name = internalName.replace('/', '.');
      ClassFileLocator locator =
          new ClassFileLocator.Compound(
              ClassFileLocator.Simple.of(name, classFile),
              ClassFileLocator.ForClassLoader.of(loader));
      TypePool pool =
          new TypePool.Default.WithLazyResolution(
              new TypePool.CacheProvider.Simple(), locator, TypePool.Default.ReaderMode.FAST);
      TypeDescription type = pool.describe(name).resolve();
      if (type.isSynthetic()) {
        return null;
      }
      DynamicType.Builder<?> woven = null;
      for (int i = 0; i < ALL.size(); i++) {
        if (ALL.get(i).typeMatcher().matches(type)) {
          woven = (woven == null ? byteBuddy.decorate(type, locator) : woven).visit(advice.get(i));
        }
      }
      return woven == null ? null : woven.make(pool).getBytes();
    }

    /**
     * Weaves both advices into sample classes once, so that the classes and code Byte Buddy needs
     * are loaded here in the background and not on the application's first JDBC class. The samples
     * are read as class files only, never loaded: no class of the agent's implements {@code
     * java.sql.Driver} in the application's JVM.
     */
    void warmUp() throws IOException {
      ClassLoader loader = JdbcInstrumentation.class.getClassLoader();
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

  /**
   * Retransforms the loaded classes that may need the advice: drivers, and data sources or classes
   * named like one (the type matchers decide).
   */
  static void retransformCandidates(
      Instrumentation inst, ClassLoader ownLoader, BiConsumer<String, Throwable> onError) {
    List<Class<?>> candidates = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      try {
        if (c.isInterface() || c.isArray() || c.isPrimitive() || !inst.isModifiableClass(c)) {
          continue;
        }
        String name = c.getName().replace('.', '/');
        if (c.getClassLoader() == null || c.getClassLoader() == ownLoader || ignored(name)) {
          continue;
        }
        if (java.sql.Driver.class.isAssignableFrom(c)
            || javax.sql.DataSource.class.isAssignableFrom(c)
            || name.contains("DataSource")) {
          candidates.add(c);
        }
      } catch (Throwable unlinkable) {
        // a class whose hierarchy cannot be resolved is no candidate
      }
    }
    for (Class<?> c : candidates) {
      try {
        inst.retransformClasses(c);
      } catch (Throwable t) {
        onError.accept(c.getName(), t);
      }
    }
  }

  static boolean ignored(String internalName) {
    for (String prefix : IGNORED_PREFIXES) {
      if (internalName.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the class file's bytes contain {@code java/sql/Connection}. */
  static boolean mentionsConnection(byte[] bytes) {
    byte first = CONNECTION[0];
    int last = bytes.length - CONNECTION.length;
    outer:
    for (int i = 0; i <= last; i++) {
      if (bytes[i] != first) {
        continue;
      }
      for (int j = 1; j < CONNECTION.length; j++) {
        if (bytes[i + j] != CONNECTION[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static final byte[][] NAMES = {
    "connect".getBytes(StandardCharsets.UTF_8), "getConnection".getBytes(StandardCharsets.UTF_8)
  };
  private static final byte[][] DESCRIPTORS = {
    "(Ljava/lang/String;Ljava/util/Properties;)Ljava/sql/Connection;"
        .getBytes(StandardCharsets.UTF_8),
    "()Ljava/sql/Connection;".getBytes(StandardCharsets.UTF_8),
    "(Ljava/lang/String;Ljava/lang/String;)Ljava/sql/Connection;".getBytes(StandardCharsets.UTF_8)
  };
  private static final int ACC_STATIC = 0x0008;
  private static final int ACC_ABSTRACT = 0x0400;

  /**
   * Whether the class file declares a concrete {@code connect(String, Properties)} or instance
   * {@code getConnection()} / {@code getConnection(String, String)} returning {@code
   * java.sql.Connection}: one pass over the constant pool and the method table, no parsing of code.
   * Code that only calls such methods is passed over. A class file it cannot read is left to Byte
   * Buddy.
   */
  static boolean declaresConnectionMethod(byte[] b) {
    try {
      int count = u2(b, 8);
      // per constant: 0 nothing of interest, 1 "connect", 2 "getConnection", 3.. descriptors
      byte[] kind = new byte[count];
      int p = 10;
      for (int i = 1; i < count; i++) {
        int tag = b[p] & 0xff;
        switch (tag) {
          case 1: // Utf8
            int length = u2(b, p + 1);
            kind[i] = classify(b, p + 3, length);
            p += 3 + length;
            break;
          case 3: // Integer
          case 4: // Float
          case 9: // Fieldref
          case 10: // Methodref
          case 11: // InterfaceMethodref
          case 12: // NameAndType
          case 17: // Dynamic
          case 18: // InvokeDynamic
            p += 5;
            break;
          case 5: // Long
          case 6: // Double
            p += 9;
            i++;
            break;
          case 7: // Class
          case 8: // String
          case 16: // MethodType
          case 19: // Module
          case 20: // Package
            p += 3;
            break;
          case 15: // MethodHandle
            p += 4;
            break;
          default:
            return true;
        }
      }
      p += 6; // access flags, this class, super class
      p += 2 + 2 * u2(b, p); // interfaces
      int fields = u2(b, p);
      p += 2;
      for (int f = 0; f < fields; f++) {
        p = skipAttributes(b, p + 6);
      }
      int methods = u2(b, p);
      p += 2;
      for (int m = 0; m < methods; m++) {
        int access = u2(b, p);
        int name = kind[u2(b, p + 2)];
        int descriptor = kind[u2(b, p + 4)];
        if ((access & ACC_ABSTRACT) == 0) {
          if (name == 1 && descriptor == 3) {
            return true;
          }
          if (name == 2 && (descriptor == 4 || descriptor == 5) && (access & ACC_STATIC) == 0) {
            return true;
          }
        }
        p = skipAttributes(b, p + 6);
      }
      return false;
    } catch (RuntimeException unreadable) {
      return true;
    }
  }

  private static int skipAttributes(byte[] b, int p) {
    int attributes = u2(b, p);
    p += 2;
    for (int a = 0; a < attributes; a++) {
      p += 6 + u4(b, p + 2);
    }
    return p;
  }

  private static byte classify(byte[] b, int offset, int length) {
    for (int n = 0; n < NAMES.length; n++) {
      if (equal(b, offset, length, NAMES[n])) {
        return (byte) (1 + n);
      }
    }
    for (int d = 0; d < DESCRIPTORS.length; d++) {
      if (equal(b, offset, length, DESCRIPTORS[d])) {
        return (byte) (3 + d);
      }
    }
    return 0;
  }

  private static boolean equal(byte[] b, int offset, int length, byte[] expected) {
    if (length != expected.length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (b[offset + i] != expected[i]) {
        return false;
      }
    }
    return true;
  }

  private static int u2(byte[] b, int p) {
    return ((b[p] & 0xff) << 8) | (b[p + 1] & 0xff);
  }

  private static int u4(byte[] b, int p) {
    return ((b[p] & 0xff) << 24)
        | ((b[p + 1] & 0xff) << 16)
        | ((b[p + 2] & 0xff) << 8)
        | (b[p + 3] & 0xff);
  }

  /** Passes only candidate classes on to the weaver, once it is set up. */
  private static final class ConnectionFilter implements ClassFileTransformer {
    private final CompletableFuture<Weaver> weaver;
    private final ClassLoader ownLoader;
    private final BiConsumer<String, Throwable> onError;
    private final BiConsumer<String, ClassLoader> onTransformed;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    // A class loaded while this thread weaves (reading a class file may load classes) is left
    // alone rather than woven re-entrantly.
    private final ThreadLocal<boolean[]> weaving = ThreadLocal.withInitial(() -> new boolean[1]);
    volatile Thread builder;

    ConnectionFilter(
        CompletableFuture<Weaver> weaver,
        ClassLoader ownLoader,
        BiConsumer<String, Throwable> onError,
        BiConsumer<String, ClassLoader> onTransformed) {
      this.weaver = weaver;
      this.ownLoader = ownLoader;
      this.onError = onError;
      this.onTransformed = onTransformed;
    }

    @Override
    public byte[] transform(
        Module module,
        ClassLoader loader,
        String className,
        Class<?> classBeingRedefined,
        ProtectionDomain protectionDomain,
        byte[] classfileBuffer) {
      if (loader == null
          || loader == ownLoader
          || className == null
          || ignored(className)
          || !mentionsConnection(classfileBuffer)
          || !declaresConnectionMethod(classfileBuffer)
          || (Thread.currentThread() == builder && !weaver.isDone())) {
        return null;
      }
      boolean[] busy = weaving.get();
      if (busy[0]) {
        return null;
      }
      busy[0] = true;
      try {
        Weaver w = weaver.get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        byte[] woven = w.weave(loader, className, classfileBuffer);
        if (woven != null) {
          onTransformed.accept(className.replace('/', '.'), loader);
        }
        return woven;
      } catch (Throwable t) {
        Throwable cause = t instanceof ExecutionException ? t.getCause() : t;
        String name = className.replace('/', '.');
        if (reported.add(name)) {
          onError.accept(name, cause);
        }
        return null;
      } finally {
        busy[0] = false;
      }
    }
  }
}
