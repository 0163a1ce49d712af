package dev.sluice.instrumentation;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The class file transformer: passes only candidate classes ({@link ClassFileScan}) on to the
 * {@link Weaver}, once it is set up.
 */
final class ConnectionFilter implements ClassFileTransformer {
  private final CompletableFuture<Weaver> weaver;
  private final ClassLoader ownLoader;
  private final BiConsumer<String, Throwable> onError;
  private final BiConsumer<String, ClassLoader> onTransformed;
  private final long readyTimeoutSeconds;
  private final Set<String> reported = ConcurrentHashMap.newKeySet();
  // A class loaded while this thread weaves (reading a class file may load classes) is left
  // alone rather than woven re-entrantly.
  private final ThreadLocal<boolean[]> weaving = ThreadLocal.withInitial(() -> new boolean[1]);
  volatile Thread builder;
  // Every class file shown, counted without synchronisation: it moves when classes are loaded.
  volatile long seen;

  /**
   * @param readyTimeoutSeconds how long a class that needs the advice waits for the weaver
   */
  ConnectionFilter(
      CompletableFuture<Weaver> weaver,
      long readyTimeoutSeconds,
      ClassLoader ownLoader,
      BiConsumer<String, Throwable> onError,
      BiConsumer<String, ClassLoader> onTransformed) {
    this.weaver = weaver;
    this.readyTimeoutSeconds = readyTimeoutSeconds;
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
    seen++;
    if (loader == null
        || loader == ownLoader
        || className == null
        || ClassFileScan.ignored(className)
        || !ClassFileScan.mentionsConnect(classfileBuffer)
        || !ClassFileScan.declaresConnectionMethod(classfileBuffer)
        || (Thread.currentThread() == builder && !weaver.isDone())) {
      return null;
    }
    boolean[] busy = weaving.get();
    if (busy[0]) {
      return null;
    }
    busy[0] = true;
    try {
      Weaver w = weaver.get(readyTimeoutSeconds, TimeUnit.SECONDS);
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
