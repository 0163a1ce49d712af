package dev.sluice.instrumentation;

import static net.bytebuddy.matcher.ElementMatchers.isSynthetic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;

import java.lang.instrument.Instrumentation;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.agent.builder.ResettableClassFileTransformer;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.utility.JavaModule;

/**
 * Installs the JDBC advice. Advice is inlined with class-format changes disabled, so no
 * instrumented class gains or loses a field, method or interface, and other agents can retransform
 * the same classes before or after Sluice. Classes already loaded when the agent starts (a late
 * attach) are retransformed.
 */
public final class JdbcInstrumentation {

  /** The instrumentations Sluice applies. */
  public static final List<TypeInstrumentation> ALL =
      List.of(new DriverInstrumentation(), new DataSourceInstrumentation());

  private JdbcInstrumentation() {}

  /**
   * Installs the advice.
   *
   * @param onError told once per class that could not be instrumented (class name, cause)
   * @param onTransformed told of each class instrumented (class name, class loader)
   */
  public static ResettableClassFileTransformer install(
      Instrumentation inst,
      BiConsumer<String, Throwable> onError,
      BiConsumer<String, ClassLoader> onTransformed) {
    AgentBuilder builder =
        new AgentBuilder.Default()
            .disableClassFormatChanges()
            .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
            .with(new ReportingListener(onError, onTransformed))
            .ignore(
                nameStartsWith("java.")
                    .or(nameStartsWith("jdk."))
                    .or(nameStartsWith("sun."))
                    .or(nameStartsWith("com.sun."))
                    .or(nameStartsWith("dev.sluice."))
                    .or(nameStartsWith("net.bytebuddy."))
                    .or(isSynthetic()));
    for (TypeInstrumentation instrumentation : ALL) {
      builder =
          builder
              .type(instrumentation.typeMatcher())
              .transform(
                  new AgentBuilder.Transformer.ForAdvice()
                      .include(instrumentation.adviceClass().getClassLoader())
                      .advice(
                          instrumentation.methodMatcher(),
                          instrumentation.adviceClass().getName()));
    }
    return builder.installOn(inst);
  }

  private static final class ReportingListener extends AgentBuilder.Listener.Adapter {
    private final BiConsumer<String, Throwable> onError;
    private final BiConsumer<String, ClassLoader> onTransformed;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    ReportingListener(
        BiConsumer<String, Throwable> onError, BiConsumer<String, ClassLoader> onTransformed) {
      this.onError = onError;
      this.onTransformed = onTransformed;
    }

    @Override
    public void onError(
        String typeName,
        ClassLoader classLoader,
        JavaModule module,
        boolean loaded,
        Throwable throwable) {
      if (reported.add(typeName)) {
        onError.accept(typeName, throwable);
      }
    }

    @Override
    public void onTransformation(
        TypeDescription typeDescription,
        ClassLoader classLoader,
        JavaModule module,
        boolean loaded,
        DynamicType dynamicType) {
      onTransformed.accept(typeDescription.getName(), classLoader);
    }
  }
}
