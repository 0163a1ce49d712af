package dev.sluice.instrumentation;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
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
 * Byte Buddy, set up to weave the advice of some {@link TypeInstrumentation}s into a class file.
 * Advice is inlined into the class as it is ({@code decorate}: no field, method or interface is
 * added or removed), so other agents can retransform the same classes before or after Sluice.
 */
final class Weaver {

  private final ByteBuddy byteBuddy =
      new ByteBuddy()
          .with(TypeValidation.DISABLED)
          .with(Implementation.Context.Disabled.Factory.INSTANCE);
  private final List<TypeInstrumentation> instrumentations;
  private final List<List<AsmVisitorWrapper>> advice = new ArrayList<>();

  Weaver(List<TypeInstrumentation> instrumentations) {
    this.instrumentations = instrumentations;
    for (TypeInstrumentation instrumentation : instrumentations) {
      List<AsmVisitorWrapper> visitors = new ArrayList<>();
      for (MethodAdvice a : instrumentation.advice()) {
        visitors.add(Advice.to(a.adviceClass()).on(a.methods()));
      }
      advice.add(visitors);
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
    for (int i = 0; i < instrumentations.size(); i++) {
      if (instrumentations.get(i).typeMatcher().matches(type)) {
        for (AsmVisitorWrapper visitor : advice.get(i)) {
          woven = (woven == null ? byteBuddy.decorate(type, locator) : woven).visit(visitor);
        }
      }
    }
    return woven == null ? null : woven.make(pool).getBytes();
  }

  /**
   * Weaves the advice into sample classes once, so that the classes and code Byte Buddy needs are
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
