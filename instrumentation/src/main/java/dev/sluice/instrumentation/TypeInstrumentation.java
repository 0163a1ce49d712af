package dev.sluice.instrumentation;

import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/** One instrumented type: which classes, which methods, which advice. */
public interface TypeInstrumentation {

  ElementMatcher<TypeDescription> typeMatcher();

  ElementMatcher.Junction<MethodDescription> methodMatcher();

  /** A class of static {@code @Advice} methods, inlined into the matched methods. */
  Class<?> adviceClass();
}
