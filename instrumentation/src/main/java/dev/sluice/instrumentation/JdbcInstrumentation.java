package dev.sluice.instrumentation;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * Installs the JDBC advice: a {@link ConnectionFilter} that passes candidate class files to the
 * {@link Weaver}. Advice is inlined into the class file as it is, so other agents can retransform
 * the same classes before or after Sluice.
 *
 * <p>Start-up cost is kept off the application's path in three ways. A byte scan comes first
 * ({@link ClassFileScan}): only a class file declaring a concrete {@code connect(String,
 * Properties)}, {@code getConnection}, {@code getXAConnection} or {@code getPooledConnection} goes
 * on to the {@link Weaver}, every other class is passed over without parsing. The weaver is plain
 * ASM (a few dozen classes, no class generated at set-up): it is made on a daemon thread and usable
 * at once, and warmed up there on two sample classes ({@link WarmUp}); a JDBC class loaded during
 * the warm-up is woven on its own thread. Classes loaded before the transformer (a late attach, or
 * the start-up window) are retransformed once the weaver is ready.
 */
public final class JdbcInstrumentation {

  /** How long a class that needs the advice waits for the weaver to be set up. */
  static final long READY_TIMEOUT_SECONDS = 30;

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

    /**
     * How many class files the transformer was shown so far (loads and retransformations; a count
     * that moves, not an exact one).
     */
    public long classesSeen() {
      return ((ConnectionFilter) filter).seen;
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
   * Installs the advice; the weaver is set up in the background.
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
    ConnectionFilter filter =
        new ConnectionFilter(weaver, READY_TIMEOUT_SECONDS, ownLoader, onError, onTransformed);
    Thread builder =
        new Thread(
            () -> {
              try {
                Weaver w = new Weaver();
                // Ready at once: a JDBC class loaded meanwhile is woven on its own thread, which
                // then loads what the weaver needs itself instead of waiting for the warm-up.
                weaver.complete(w);
                try {
                  w.warmUp();
                } catch (Exception e) {
                  onError.accept("(warm-up samples; start-up is slower)", e);
                }
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

  /**
   * Retransforms the loaded classes that may need the advice: drivers, data sources of every kind,
   * pooled connections, and classes named like a data source (the type matchers decide).
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
        if (c.getClassLoader() == null
            || c.getClassLoader() == ownLoader
            || ClassFileScan.ignored(name)) {
          continue;
        }
        if (java.sql.Driver.class.isAssignableFrom(c)
            || javax.sql.DataSource.class.isAssignableFrom(c)
            || javax.sql.XADataSource.class.isAssignableFrom(c)
            || javax.sql.ConnectionPoolDataSource.class.isAssignableFrom(c)
            || javax.sql.PooledConnection.class.isAssignableFrom(c)
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
}
